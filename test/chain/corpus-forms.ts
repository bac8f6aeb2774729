/**
 * The corpus's certificates that are wrong in their encoding (corpus.ts): a signature at infinity or a point outside
 * G2's subgroup, valid certificates truncated or padded, fields out of the layout's rules, and single-bit flips.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { CERTIFICATE_FIXED_SIZE } from '../../src/attest/certificate-codec.ts'
import { fp2IsPositive, P, uintFromBytes, uintToBytes } from '../../src/chain/points.ts'
import { type Built, build, concat, PLAN, type Rng, witnessOf } from './corpus-base.ts'
import type { CorpusState } from './corpus-state.ts'

// 10. The signature at infinity; a point on the curve outside the subgroup ---------------------------------

export function addInfinity(s: CorpusState): void {
  for (let i = 0; i < PLAN.infinity; i++) {
    const c = s.randomCommittee()
    const { header: h } = s.safeHeader(c)
    const b = build({ c, header: h, signers: s.quorum(c) })
    const signature = new Uint8Array(96)
    // The canonical encoding, then non-canonical ones: the sign flag, or x bytes, with the infinity flag.
    signature[0] = i % 4 === 3 ? 0xe0 : 0xc0
    if (i % 4 === 2) signature[95] = 1
    const binary = b.binary.slice()
    binary.set(signature, 106)
    s.add(
      'infinity',
      `epoch ${h.epoch}: signature ${signature[0]!.toString(16)}…${signature[95]!.toString(16)}, witness y zero`,
      binary,
      concat(binary, witnessOf(b, new Uint8Array(96))),
      false,
    )
  }
}

export function addNonSubgroup(s: CorpusState): void {
  for (let i = 0; i < PLAN['non-subgroup']; i++) {
    const c = s.randomCommittee()
    const { header: h } = s.safeHeader(c)
    const b = build({ c, header: h, signers: s.quorum(c) })
    const point = nonSubgroupPoint(s.rng)
    const binary = b.binary.slice()
    binary.set(point.compressed, 106)
    s.add(
      'non-subgroup',
      `epoch ${h.epoch}: signature on the curve outside G2's subgroup, x.c0 = ${point.x0}`,
      binary,
      concat(binary, witnessOf(b, point.y)),
      false,
    )
  }
}

/**
 * A point of E'(Fp2): y² = x³ + 4(1 + u) outside the prime-order subgroup (a random x has a y with probability
 * 1/2, and the point lies in the subgroup with probability about 2^−381), compressed as §2.1 encodes G2 points,
 * with its y as the witness carries it (y.c1 ‖ y.c0).
 */
export function nonSubgroupPoint(rng: Rng): { compressed: Uint8Array; y: Uint8Array; x0: bigint } {
  const Fp2 = bls12_381.fields.Fp2
  const b = Fp2.fromBigTuple([4n, 4n])
  for (;;) {
    const x = Fp2.fromBigTuple([uintFromBytes(rng.bytes(48)) % P, uintFromBytes(rng.bytes(48)) % P])
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b)
    let y: typeof x
    try {
      y = Fp2.sqrt(rhs)
    } catch {
      continue
    }
    if (rng.chance(0.5)) y = Fp2.neg(y)
    if (!Fp2.eql(Fp2.sqr(y), rhs)) throw new Error('Fp2.sqrt gave no square root')
    const point = bls12_381.G2.Point.fromAffine({ x, y })
    if (point.isTorsionFree()) continue
    const compressed = new Uint8Array(96)
    compressed.set(uintToBytes(x.c1, 48), 0)
    compressed.set(uintToBytes(x.c0, 48), 48)
    compressed[0]! |= 0x80 | (fp2IsPositive(y.c0, y.c1) ? 0x20 : 0)
    const yBytes = new Uint8Array(96)
    yBytes.set(uintToBytes(y.c1, 48), 0)
    yBytes.set(uintToBytes(y.c0, 48), 48)
    return { compressed, y: yBytes, x0: x.c0 }
  }
}

/** A fresh valid certificate to mangle. */
const validBase = (s: CorpusState) => {
  const c = s.randomCommittee()
  return build({ c, header: s.safeHeader(c).header, signers: s.quorum(c) })
}

// 12. Truncated and padded binary certificates --------------------------------------------------------------

export function addTruncated(s: CorpusState): void {
  const rng = s.rng
  for (let i = 0; i < PLAN.truncated; i++) {
    const b = validBase(s)
    const len = b.binary.length
    const cut = rng.pick([
      len - 1,
      len - 1,
      len - 2,
      CERTIFICATE_FIXED_SIZE,
      CERTIFICATE_FIXED_SIZE - 1,
      0,
      rng.int(0, len - 1),
    ])
    s.addDerived('truncated', `a valid certificate of ${len} bytes cut to ${cut}`, b.binary.slice(0, cut), b)
  }
}

export function addPadded(s: CorpusState): void {
  const rng = s.rng
  for (let i = 0; i < PLAN.padded; i++) {
    const b = validBase(s)
    const extra = rng.pick([1, 1, 2, 31, 32, 33, rng.int(1, 300)])
    const pad = rng.chance(0.5) ? new Uint8Array(extra) : rng.bytes(extra)
    s.addDerived('padded', `a valid certificate with ${extra} bytes appended`, concat(b.binary, pad), b)
  }
}

// 13. Fields out of the layout's rules (§2.7, §1.4): each makes the bytes undecodable ---------------------------

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
const set8 = (bytes: Uint8Array, at: number, value: number) => {
  bytes[at] = value
  return bytes
}
const set32 = (bytes: Uint8Array, at: number, value: number) => {
  view(bytes).setUint32(at, value)
  return bytes
}
const mutations: readonly [string, (bytes: Uint8Array, b: Built) => Uint8Array][] = [
  ['certificate version 0', (x) => set8(x, 0, 0)],
  ['certificate version 2', (x) => set8(x, 0, 2)],
  ['header version 2', (x) => set8(x, 9, 2)],
  [
    'certificate epoch differs from the header epoch',
    (x) => {
      view(x).setBigUint64(1, view(x).getBigUint64(1) + 1n)
      return x
    },
  ],
  [
    'epoch 2^53 in certificate and header',
    (x) => {
      view(x).setBigUint64(1, 2n ** 53n)
      view(x).setBigUint64(14, 2n ** 53n)
      return x
    },
  ],
  [
    'dataSize 2^53',
    (x) => {
      view(x).setBigUint64(22, 2n ** 53n)
      return x
    },
  ],
  ['k = 0', (x) => set32(x, 30, 0)],
  ['n = k', (x) => set32(x, 34, view(x).getUint32(30))],
  ['n = 65537', (x) => set32(x, 34, 65537)],
  ['shard size not canonical', (x) => set32(x, 38, view(x).getUint32(38) + 64)],
  [
    'shard size past a u32 (dataSize one above k·(2^32 − 64))',
    (x) => {
      view(x).setBigUint64(22, BigInt(view(x).getUint32(30)) * (2n ** 32n - 64n) + 1n)
      return set32(x, 38, 0)
    },
  ],
  ['member count 0', (x) => set32(x, 202, 0)],
  ['member count 65537', (x) => set32(x, 202, 65537)],
  ['member count one more', (x) => set32(x, 202, view(x).getUint32(202) + 1)],
  [
    'a padding bit of the bitmap set',
    (x, b) => {
      if (b.c.committee.size % 8 === 0) return concat(x, new Uint8Array([1]))
      return set8(x, x.length - 1, x[x.length - 1]! | 0x80)
    },
  ],
]

export function addMalformedFields(s: CorpusState): void {
  for (let i = 0; i < PLAN['malformed-field']; i++) {
    const b = validBase(s)
    const [label, mutate] = mutations[i % mutations.length]!
    s.addDerived('malformed-field', label, mutate(b.binary.slice(), b), b, [label])
  }
}

// 14. Single-bit flips, spread over every field of the layout ----------------------------------------------

const fields: readonly [string, number, number][] = [
  ['version', 0, 1],
  ['epoch', 1, 9],
  ['header', 9, 74],
  ['signed stake', 74, 106],
  ['signature', 106, 202],
  ['member count', 202, 206],
]

export function addBitFlips(s: CorpusState): void {
  const rng = s.rng
  let flipBase = validBase(s)
  for (let i = 0; i < PLAN['bit-flip']; i++) {
    if (i % 10 === 0) flipBase = validBase(s)
    const all = [...fields, ['bitmap', CERTIFICATE_FIXED_SIZE, flipBase.binary.length] as [string, number, number]]
    const [field, start, end] = rng.pick(all)
    const bit = rng.int(start * 8, end * 8 - 1)
    const binary = flipBase.binary.slice()
    binary[bit >> 3]! ^= 1 << (bit & 7)
    s.addDerived('bit-flip', `bit ${bit} (${field}) of a valid certificate`, binary, flipBase, [field])
  }
}
