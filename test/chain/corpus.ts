/**
 * A seeded corpus of certificates for the differential test (differential.test.ts): valid certificates of the
 * committees a registry holds, and every way of getting one wrong that PROTOCOL §2.7 and §4.5 name, each with the
 * binary certificate (what `decodeCertificate` + `verifyCertificate` judge) and the on-chain form the contract
 * judges. The same seed gives the same corpus for the same committees.
 *
 * Signatures are made with dacnet's attest code (`signAttestation`). A signer set's aggregate signature is the
 * signature of the sum of its secret keys (BLS is linear in the key: Σ sk_i·H(m) = (Σ sk_i)·H(m)), which costs
 * one signing per certificate instead of one per signer; `aggregateBySigners` makes the same signature the long
 * way, and the test checks the two agree.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { signAttestation } from '../../src/attest/attestation.ts'
import {
  aggregateSignatures,
  decodeSignature,
  type SecretKey,
  secretKeyFromBytes,
  signatureBytes,
} from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { CERTIFICATE_FIXED_SIZE, decodeCertificate, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { encodeOnchainCertificate } from '../../src/chain/onchain-certificate.ts'
import { fp2IsPositive, P, uintFromBytes, uintToBytes } from '../../src/chain/points.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { isSafeEncoding, isSupportedShape, kMax } from '../../src/committee/params.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { shardSizeFor } from '../../src/erasure/layout.ts'
import { isDacnetError } from '../../src/errors.ts'
import { R } from './helpers.ts'

// ------------------------------------------------------------------------------------------------------------
// Seeded randomness

/** sfc32, seeded through splitmix32: small, fast and the same on every platform. */
export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(seed: number) {
    let s = seed >>> 0
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.#a = split()
    this.#b = split()
    this.#c = split()
    this.#d = split()
    for (let i = 0; i < 12; i++) this.u32()
  }

  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t
  }

  /** Uniform in [0, 1) with 53 bits. */
  float(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992
  }

  /** Uniform integer in [lo, hi], both inclusive, for ranges up to 2^53. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[out[i], out[j]] = [out[j]!, out[i]!]
    }
    return out
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }
}

// ------------------------------------------------------------------------------------------------------------
// What the corpus is made from

/** A committee the registry holds for one epoch, with the secret keys of its members (member order). */
export interface CorpusCommittee {
  readonly committee: Committee
  /** The registry record that holds the epoch (`committeeFor(epoch)`). */
  readonly recordIndex: number
  readonly secretKeys: readonly SecretKey[]
}

export interface CorpusContext {
  /** Every epoch that has a committee, by epoch. */
  readonly byEpoch: ReadonlyMap<number, CorpusCommittee>
  /** The chain's current epoch: later epochs have no committee yet. */
  readonly currentEpoch: number
  /** Stakes are whole multiples of this, except two "dust" members per committee of 1 and unit − 1. */
  readonly unit: bigint
}

export const CATEGORIES = [
  'valid',
  'threshold-exact',
  'threshold-short',
  'wrong-signers',
  'stake-off-by-one',
  'other-epoch',
  'unknown-epoch',
  'other-network',
  'other-blob',
  'duplicate-signer',
  'infinity',
  'non-subgroup',
  'unsafe-encoding',
  'unsupported-shape',
  'truncated',
  'padded',
  'malformed-field',
  'bit-flip',
] as const

export type Category = (typeof CATEGORIES)[number]

/** How many items of each category the corpus has (the test checks it got them). */
export const PLAN: Readonly<Record<Category, number>> = {
  valid: 260,
  'threshold-exact': 50,
  'threshold-short': 50,
  'wrong-signers': 80,
  'stake-off-by-one': 60,
  'other-epoch': 60,
  'unknown-epoch': 30,
  'other-network': 40,
  'other-blob': 50,
  'duplicate-signer': 40,
  infinity: 20,
  'non-subgroup': 20,
  'unsafe-encoding': 50,
  'unsupported-shape': 20,
  truncated: 50,
  padded: 50,
  'malformed-field': 50,
  'bit-flip': 400,
}

export interface CorpusItem {
  readonly index: number
  readonly category: Category
  /** What the generator built, for a person reading a failure. */
  readonly note: string
  /** Finer labels a category's items carry (e.g. "k=kMax", "dataSize=0"), counted by the test. */
  readonly tags: readonly string[]
  /** The binary certificate as presented (possibly mangled). */
  readonly binary: Uint8Array
  /** The on-chain form sent to the contract. */
  readonly onchain: Uint8Array
  /** The verdict the generator meant the item to have. */
  readonly intended: boolean
}

// ------------------------------------------------------------------------------------------------------------
// Building certificates

interface Draft {
  /** Whose keys sign, and whose members the bitmap names. */
  readonly c: CorpusCommittee
  readonly header: BlobHeader
  /** The header whose attestation message is signed; the certificate's own by default. */
  readonly signedHeader?: BlobHeader
  /** Signature contributions (a repeated index signs twice). */
  readonly signers: readonly number[]
  /** The bitmap; `signers` by default. */
  readonly claimed?: readonly number[]
  /** Default: the claimed members' stake. */
  readonly signedStake?: bigint
}

interface Built {
  readonly certificate: Certificate
  readonly binary: Uint8Array
  readonly c: CorpusCommittee
}

const sumKeys = (keys: readonly SecretKey[], signers: readonly number[]): SecretKey => {
  let sum = 0n
  for (const i of signers) sum = (sum + uintFromBytes(keys[i]!.toBytes())) % R
  return secretKeyFromBytes(uintToBytes(sum, 32))
}

/** The aggregate signature of `signers` over the header's attestation message: one signing of their summed key. */
function signFor(c: CorpusCommittee, header: BlobHeader, signers: readonly number[]): Uint8Array {
  return signAttestation(sumKeys(c.secretKeys, signers), attestationContextOf(header)).signature
}

/** The same signature made the long way: each signer's attestation, aggregated. */
export function aggregateBySigners(c: CorpusCommittee, header: BlobHeader, signers: readonly number[]): Uint8Array {
  const context = attestationContextOf(header)
  return signatureBytes(
    aggregateSignatures(signers.map((i) => decodeSignature(signAttestation(c.secretKeys[i]!, context).signature))),
  )
}

function build(d: Draft): Built {
  const m = d.c.committee.size
  const claimed = d.claimed ?? d.signers
  const certificate: Certificate = {
    version: 1,
    epoch: d.header.epoch,
    header: d.header,
    memberCount: m,
    signers: bitmapFromSigners(m, claimed),
    signature: signFor(d.c, d.signedHeader ?? d.header, d.signers),
    signedStake: d.signedStake ?? stakeOf(d.c, claimed),
  }
  return { certificate, binary: encodeCertificate(certificate), c: d.c }
}

function stakeOf(c: CorpusCommittee, members: Iterable<number>): bigint {
  let sum = 0n
  for (const i of new Set(members)) sum += c.committee.members[i]!.stake
  return sum
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** The witness §4.5 gives a well-formed certificate of `c` (its signature must be a valid point). */
function witnessOf(b: Built, signatureY?: Uint8Array): Uint8Array {
  const form = encodeOnchainCertificate(b.certificate, b.c.committee, { recordIndex: b.c.recordIndex })
  const witness = form.slice(b.binary.length)
  if (signatureY) witness.set(signatureY, 5)
  return witness
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

// ------------------------------------------------------------------------------------------------------------
// The generator

export function generateCorpus(ctx: CorpusContext, seed: number): CorpusItem[] {
  const rng = new Rng(seed)
  const items: CorpusItem[] = []
  const epochs = [...ctx.byEpoch.keys()].sort((a, b) => a - b)
  const networkId = ctx.byEpoch.get(epochs[0]!)!.committee.networkId

  const add = (
    category: Category,
    note: string,
    binary: Uint8Array,
    onchain: Uint8Array,
    intended: boolean,
    tags: string[] = [],
  ) => {
    items.push({ index: items.length, category, note, tags, binary, onchain, intended })
  }

  /**
   * The on-chain form of presented bytes: when they decode and the committee of the epoch they name (else the
   * intended one) has their member count, the form `encodeOnchainCertificate` makes; otherwise the bytes followed
   * by the intended certificate's witness.
   */
  const onchainFor = (binary: Uint8Array, intended: CorpusCommittee, witness: () => Uint8Array): Uint8Array => {
    let certificate: Certificate
    try {
      certificate = decodeCertificate(binary)
    } catch (err) {
      if (isDacnetError(err)) return concat(binary, witness())
      throw err
    }
    const c = ctx.byEpoch.get(certificate.epoch) ?? intended
    try {
      return encodeOnchainCertificate(certificate, c.committee, { recordIndex: c.recordIndex })
    } catch (err) {
      if (isDacnetError(err)) return concat(binary, witness())
      throw err
    }
  }

  const addBuilt = (category: Category, note: string, b: Built, intended: boolean, tags: string[] = []) => {
    add(
      category,
      note,
      b.binary,
      onchainFor(b.binary, b.c, () => witnessOf(b)),
      intended,
      tags,
    )
  }

  /** Adds presented bytes derived from a well-formed certificate `base` (its witness is the fallback). */
  const addDerived = (category: Category, note: string, binary: Uint8Array, base: Built, tags: string[] = []) => {
    add(
      category,
      note,
      binary,
      onchainFor(binary, base.c, () => witnessOf(base)),
      false,
      tags,
    )
  }

  const committeeAt = (epoch: number) => ctx.byEpoch.get(epoch)!
  const randomCommittee = () => committeeAt(rng.pick(epochs))

  // Shapes (k, n) ------------------------------------------------------------------------------------------

  /** The least n with kMax(n) >= 1. */
  const nMin = (committee: Committee) => {
    let n = committee.size + 1
    while (kMax(committee, n) < 1) n++
    return n
  }

  /** A blob size whose policy shape (PROTOCOL.md §2.3) the corpus draws often: the shape members admit for 1 MiB. */
  const POLICY_BLOB_SIZE = 1 << 20
  const randomN = (committee: Committee): number => {
    const lo = nMin(committee)
    switch (rng.int(0, 5)) {
      case 0:
        return committee.shapeFor(POLICY_BLOB_SIZE).n
      case 1:
        return rng.int(lo, Math.min(65536, lo + 16))
      case 2:
        return rng.pick([65536, 65535, 32768, 32769, 49152])
      case 3:
        return Math.round(lo * (65536 / lo) ** rng.float())
      default:
        return rng.int(lo, 65536)
    }
  }

  /** A (k, n) safe for the committee, and tags for the kind of k. */
  const safeShape = (committee: Committee): { k: number; n: number; tags: string[] } => {
    const kTag = (k: number, n: number) => (k === kMax(committee, n) ? 'k=kMax' : k <= 3 ? 'k<=3' : 'k=other')
    const policy = committee.shapeFor(POLICY_BLOB_SIZE)
    // The policy shape itself one time in six: drawn only through randomN, a seed could give three or fewer.
    if (rng.int(0, 5) === 0 && isSafeEncoding(committee, policy.k, policy.n)) {
      return { k: policy.k, n: policy.n, tags: [kTag(policy.k, policy.n), 'policy-shape'] }
    }
    for (;;) {
      const n = randomN(committee)
      const max = Math.min(kMax(committee, n), n - 1)
      if (max < 1) continue
      const mode = rng.int(0, 2)
      let k = mode === 0 ? max : mode === 1 ? rng.int(1, Math.min(3, max)) : rng.int(1, max)
      while (k >= 1 && !isSafeEncoding(committee, k, n)) k--
      if (k < 1) continue
      const tags = [kTag(k, n)]
      if (n === policy.n && k === policy.k) tags.push('policy-shape')
      return { k, n, tags }
    }
  }

  /** A data size for k: empty, small, or up to the largest whose shard size is still a u32. */
  const dataSizeFor = (k: number): { dataSize: number; tag: string } => {
    const maxData = k * (2 ** 32 - 64)
    switch (rng.int(0, 5)) {
      case 0:
        return { dataSize: 0, tag: 'dataSize=0' }
      case 1:
        return { dataSize: maxData, tag: 'dataSize=max' }
      case 2:
        return { dataSize: rng.int(Math.min(2 ** 32, maxData), maxData), tag: 'dataSize>=2^32' }
      case 3:
        return { dataSize: rng.int(1, 64 * k), tag: 'dataSize=small' }
      default:
        return { dataSize: rng.int(1, 2 ** 27), tag: 'dataSize=medium' }
    }
  }

  const header = (c: CorpusCommittee, shape: { k: number; n: number }, dataSize: number, epoch?: number) =>
    ({
      version: 1,
      networkId,
      epoch: epoch ?? c.committee.epoch,
      dataSize,
      k: shape.k,
      n: shape.n,
      shardSize: shardSizeFor(dataSize, shape.k),
      root: rng.bytes(32),
    }) satisfies BlobHeader

  /** A random header with a safe shape for c, and its tags. */
  const safeHeader = (c: CorpusCommittee, epoch?: number) => {
    const shape = safeShape(c.committee)
    const { dataSize, tag } = dataSizeFor(shape.k)
    return { header: header(c, shape, dataSize, epoch), tags: [...shape.tags, tag] }
  }

  // Signer sets ---------------------------------------------------------------------------------------------

  const reaches = (c: CorpusCommittee, members: Iterable<number>) => c.committee.reachesThreshold(stakeOf(c, members))

  /**
   * A random set of members whose stake reaches q: all of them, all but a contiguous run (whole bitmap words of
   * signers around it), a minimal-ish one, or one with extras.
   */
  const quorum = (c: CorpusCommittee): number[] => {
    const m = c.committee.size
    const mode = rng.int(0, 9)
    if (mode === 0) return range(m)
    if (mode === 1) {
      for (;;) {
        const length = rng.int(1, Math.max(1, Math.floor(m / 3)))
        const start = rng.int(0, m - length)
        const signers = range(m).filter((i) => i < start || i >= start + length)
        if (signers.length > 0 && reaches(c, signers)) return signers
      }
    }
    const order = rng.shuffle(range(m))
    const chosen: number[] = []
    let stake = 0n
    for (const i of order) {
      if (c.committee.reachesThreshold(stake)) break
      chosen.push(i)
      stake += c.committee.members[i]!.stake
    }
    if (mode >= 5) for (const i of order) if (!chosen.includes(i) && rng.chance(0.4)) chosen.push(i)
    return chosen.sort((a, b) => a - b)
  }

  /**
   * Member sets at the threshold's edge. Stakes are multiples of `unit` except two dust members holding 1 and
   * unit − 1, and q·S is a multiple of unit, so: regular members holding q·S (exact), regular members holding
   * q·S − unit with both dust members (exact), the same with only the unit − 1 member (one short), and q·S with the
   * 1 member (one over).
   */
  const edgeSets = (c: CorpusCommittee) => {
    const { members, threshold, totalStake } = c.committee
    if ((threshold.num * totalStake) % threshold.den !== 0n) return undefined
    const qS = (threshold.num * totalStake) / threshold.den
    const one = members.find((m) => m.stake === 1n)
    const rest = members.find((m) => m.stake === ctx.unit - 1n)
    const regular = members.filter((m) => m.stake % ctx.unit === 0n)
    if (!one || !rest || qS % ctx.unit !== 0n) return undefined
    const target = Number(qS / ctx.unit)
    const units = regular.map((m) => ({ index: m.index, units: Number(m.stake / ctx.unit) }))
    return { qS, one: one.index, rest: rest.index, target, units }
  }

  /** A random subset of `units` summing to exactly `target` units (a subset-sum table, then a random walk). */
  const subsetWithSum = (units: readonly { index: number; units: number }[], target: number): number[] | undefined => {
    if (target < 0) return undefined
    const order = rng.shuffle(units)
    const reach: bigint[] = Array(order.length + 1)
    reach[order.length] = 1n
    for (let j = order.length - 1; j >= 0; j--) reach[j] = reach[j + 1]! | (reach[j + 1]! << BigInt(order[j]!.units))
    const has = (set: bigint, s: number) => s >= 0 && ((set >> BigInt(s)) & 1n) === 1n
    if (!has(reach[0]!, target)) return undefined
    const chosen: number[] = []
    let left = target
    for (let j = 0; j < order.length; j++) {
      const take = has(reach[j + 1]!, left - order[j]!.units)
      const skip = has(reach[j + 1]!, left)
      if (take && (!skip || rng.chance(0.5))) {
        chosen.push(order[j]!.index)
        left -= order[j]!.units
      }
    }
    return chosen
  }

  // 1. Valid certificates ----------------------------------------------------------------------------------
  for (let i = 0; i < PLAN.valid; i++) {
    const c = randomCommittee()
    const { header: h, tags } = safeHeader(c)
    const signers = quorum(c)
    if (signers.length === c.committee.size) tags.push('all-signed')
    addBuilt(
      'valid',
      `epoch ${h.epoch}, k=${h.k} n=${h.n} dataSize=${h.dataSize}, signers ${signers}`,
      build({ c, header: h, signers }),
      true,
      tags,
    )
  }

  // 2. Signed stake exactly at q, and one unit short -----------------------------------------------------------
  const edgeCommittees = epochs.map(committeeAt).filter((c) => edgeSets(c) !== undefined)
  if (edgeCommittees.length === 0) throw new Error('no committee has stakes that put a signer set exactly at q')
  const made = { exact: 0, short: 0 }
  for (let attempt = 0; made.exact < PLAN['threshold-exact'] || made.short < PLAN['threshold-short']; attempt++) {
    if (attempt > 100_000) throw new Error('could not find enough signer sets at the threshold')
    const c = rng.pick(edgeCommittees)
    const e = edgeSets(c)!
    const variant = rng.int(0, 3)
    const base = subsetWithSum(e.units, variant === 0 || variant === 3 ? e.target : e.target - 1)
    if (!base) continue
    const signers = [
      ...base,
      ...(variant === 1 ? [e.one, e.rest] : variant === 2 ? [e.rest] : variant === 3 ? [e.one] : []),
    ].sort((a, b) => a - b)
    const stake = stakeOf(c, signers)
    const short = variant === 2
    if (short ? made.short >= PLAN['threshold-short'] : made.exact >= PLAN['threshold-exact']) continue
    if (stake !== (short ? e.qS - 1n : variant === 3 ? e.qS + 1n : e.qS))
      throw new Error('edge set has the wrong stake')
    const { header: h } = safeHeader(c)
    const label = ['q·S, no dust', 'q·S with both dust members', 'q·S − 1', 'q·S + 1'][variant]!
    addBuilt(
      short ? 'threshold-short' : 'threshold-exact',
      `epoch ${h.epoch}: ${label} (${stake} of ${c.committee.totalStake}), signers ${signers}`,
      build({ c, header: h, signers }),
      !short,
      [label],
    )
    if (short) made.short++
    else made.exact++
  }

  // 3. Wrong signer set: the signature of one set, the bitmap (and its stake) of another that reaches q ----------
  while (count(items, 'wrong-signers') < PLAN['wrong-signers']) {
    const c = randomCommittee()
    const m = c.committee.size
    const signed = quorum(c)
    let claimed: number[]
    const variant = rng.int(0, 4)
    if (variant === 4) {
      // Nobody in the bitmap, and a signed stake of 0 to match.
      const { header: h } = safeHeader(c)
      addBuilt(
        'wrong-signers',
        `epoch ${h.epoch}: signed by ${signed}, empty bitmap, stake 0`,
        build({ c, header: h, signers: signed, claimed: [] }),
        false,
        ['no signer'],
      )
      continue
    }
    if (variant === 0) {
      // One signer swapped for a non-signer.
      const out = rng.pick(signed)
      const absent = range(m).filter((i) => !signed.includes(i))
      if (absent.length === 0) continue
      claimed = [...signed.filter((i) => i !== out), rng.pick(absent)]
    } else if (variant === 1) {
      // The bitmap names one more member than signed.
      const absent = range(m).filter((i) => !signed.includes(i))
      if (absent.length === 0) continue
      claimed = [...signed, rng.pick(absent)]
    } else if (variant === 2) {
      // One member fewer than signed (when the rest still reach q).
      const out = rng.pick(signed)
      claimed = signed.filter((i) => i !== out)
    } else {
      claimed = quorum(c)
    }
    claimed = [...new Set(claimed)].sort((a, b) => a - b)
    if (claimed.join() === signed.join() || claimed.length === 0 || !reaches(c, claimed)) continue
    const { header: h } = safeHeader(c)
    addBuilt(
      'wrong-signers',
      `epoch ${h.epoch}: signed by ${signed}, bitmap ${claimed}`,
      build({ c, header: h, signers: signed, claimed }),
      false,
    )
  }

  // 4. Signed-stake field off by one (and a few far off) ----------------------------------------------------
  for (let i = 0; i < PLAN['stake-off-by-one']; i++) {
    const c = randomCommittee()
    const signers = quorum(c)
    const stake = stakeOf(c, signers)
    const claim = i % 10 === 9 ? rng.pick([0n, 2n ** 256n - 1n, stake * 2n]) : rng.chance(0.5) ? stake + 1n : stake - 1n
    const { header: h } = safeHeader(c)
    addBuilt(
      'stake-off-by-one',
      `epoch ${h.epoch}: signers ${signers} hold ${stake}, the field says ${claim}`,
      build({ c, header: h, signers, signedStake: claim }),
      false,
    )
  }

  // 5. Another epoch: a certificate whose signature was made for another epoch's message --------------------
  for (let i = 0; i < PLAN['other-epoch']; i++) {
    const from = randomCommittee()
    // Alternately another epoch whose committee has as many members and one whose has not, where there is one:
    // both cases in quantity whatever committees the seed drew (a bitmap of the right length is the harder lie).
    const others = epochs.filter((e) => e !== from.committee.epoch)
    const wanted = others.filter((e) => (committeeAt(e).committee.size === from.committee.size) === (i % 2 === 0))
    const to = rng.pick(wanted.length > 0 ? wanted : others)
    const { header: signedHeader } = safeHeader(from)
    const h = { ...signedHeader, epoch: to }
    const signers = quorum(from)
    const sameCommittee = committeeAt(to).committee.size === from.committee.size
    addBuilt(
      'other-epoch',
      `signed for epoch ${from.committee.epoch} by its committee (bitmap over ${from.committee.size}), presented as epoch ${to}`,
      build({ c: from, header: h, signedHeader, signers }),
      false,
      [sameCommittee ? 'same member count' : 'other member count'],
    )
  }

  // 6. Epochs with no committee: before the first, after the current one ------------------------------------
  for (let i = 0; i < PLAN['unknown-epoch']; i++) {
    const first = epochs[0]!
    const last = epochs.at(-1)!
    const before = first > 0 && rng.chance(0.4)
    const c = committeeAt(before ? first : last)
    const epoch = before
      ? rng.int(0, first - 1)
      : rng.pick([ctx.currentEpoch + 1, ctx.currentEpoch + rng.int(2, 1000), Number.MAX_SAFE_INTEGER])
    const { header: h } = safeHeader(c, epoch)
    const signers = quorum(c)
    addBuilt(
      'unknown-epoch',
      `epoch ${epoch}, signed by epoch ${c.committee.epoch}'s committee`,
      build({ c, header: h, signers }),
      false,
    )
  }

  // 7. Another network: the header names it (signed as such), or the signature was made for it ------------------
  for (let i = 0; i < PLAN['other-network']; i++) {
    const c = randomCommittee()
    const { header: own } = safeHeader(c)
    const other = { ...own, networkId: rng.pick([networkId + 1, (networkId ^ 0x8000_0000) >>> 0, 0, 0xffff_ffff]) }
    if (other.networkId === networkId) continue
    const signers = quorum(c)
    const inHeader = rng.chance(0.5)
    addBuilt(
      'other-network',
      inHeader
        ? `header and signature for network ${other.networkId}`
        : `header for network ${networkId}, signature for network ${other.networkId}`,
      build({ c, header: inHeader ? other : own, signedHeader: other, signers }),
      false,
      [inHeader ? 'header' : 'signature'],
    )
  }

  // 8. Another blob: the signature was made for other data (another root, size or shape) ---------------------
  for (let i = 0; i < PLAN['other-blob']; i++) {
    const c = randomCommittee()
    const { header: h } = safeHeader(c)
    const variant = rng.int(0, 2)
    let signedHeader: BlobHeader
    if (variant === 0) signedHeader = { ...h, root: rng.bytes(32) }
    else if (variant === 1) {
      const dataSize = h.dataSize === 0 ? 1 : h.dataSize - 1
      signedHeader = { ...h, dataSize, shardSize: shardSizeFor(dataSize, h.k) }
    } else signedHeader = safeHeader(c).header
    addBuilt(
      'other-blob',
      `epoch ${h.epoch}: signature for ${['another root', 'another data size', 'another header'][variant]}`,
      build({ c, header: h, signedHeader, signers: quorum(c) }),
      false,
    )
  }

  // 9. A signature that counts one signer twice -------------------------------------------------------------
  for (let i = 0; i < PLAN['duplicate-signer']; i++) {
    const c = randomCommittee()
    const signers = quorum(c)
    const twice = rng.pick(signers)
    const { header: h } = safeHeader(c)
    addBuilt(
      'duplicate-signer',
      `epoch ${h.epoch}: signers ${signers}, member ${twice}'s signature added twice`,
      build({ c, header: h, signers: [...signers, twice], claimed: signers }),
      false,
    )
  }

  // 10. The signature at infinity; a point on the curve outside the subgroup ---------------------------------
  for (let i = 0; i < PLAN.infinity; i++) {
    const c = randomCommittee()
    const { header: h } = safeHeader(c)
    const b = build({ c, header: h, signers: quorum(c) })
    const signature = new Uint8Array(96)
    // The canonical encoding, then non-canonical ones: the sign flag, or x bytes, with the infinity flag.
    signature[0] = i % 4 === 3 ? 0xe0 : 0xc0
    if (i % 4 === 2) signature[95] = 1
    const binary = b.binary.slice()
    binary.set(signature, 106)
    add(
      'infinity',
      `epoch ${h.epoch}: signature ${signature[0]!.toString(16)}…${signature[95]!.toString(16)}, witness y zero`,
      binary,
      concat(binary, witnessOf(b, new Uint8Array(96))),
      false,
    )
  }
  for (let i = 0; i < PLAN['non-subgroup']; i++) {
    const c = randomCommittee()
    const { header: h } = safeHeader(c)
    const b = build({ c, header: h, signers: quorum(c) })
    const point = nonSubgroupPoint(rng)
    const binary = b.binary.slice()
    binary.set(point.compressed, 106)
    add(
      'non-subgroup',
      `epoch ${h.epoch}: signature on the curve outside G2's subgroup, x.c0 = ${point.x0}`,
      binary,
      concat(binary, witnessOf(b, point.y)),
      false,
    )
  }

  // 11. (k, n) not safe for the committee, and safe-looking (k, n) that are no supported shape ----------------
  while (count(items, 'unsafe-encoding') < PLAN['unsafe-encoding']) {
    const c = randomCommittee()
    const committee = c.committee
    const variant = rng.int(0, 2)
    let k: number
    let n: number
    if (variant === 0) {
      // k = kMax(n) + 1.
      n = randomN(committee)
      k = kMax(committee, n) + 1
    } else if (variant === 1) {
      // n so small that kMax(n) < 1: no k is safe.
      n = rng.int(2, nMin(committee) - 1)
      k = rng.int(1, n - 1)
    } else {
      // Far above kMax(n).
      n = randomN(committee)
      k = rng.int(Math.max(1, kMax(committee, n) + 1), n - 1)
    }
    if (k < 1 || k >= n || isSafeEncoding(committee, k, n)) continue
    const { dataSize } = dataSizeFor(k)
    const h = header(c, { k, n }, dataSize)
    addBuilt(
      'unsafe-encoding',
      `epoch ${h.epoch}: k=${k} n=${n}, kMax(n)=${kMax(committee, n)}`,
      build({ c, header: h, signers: quorum(c) }),
      false,
      [['k=kMax+1', 'kMax<1', 'k>kMax+1'][variant]!],
    )
  }
  while (count(items, 'unsupported-shape') < PLAN['unsupported-shape']) {
    const c = randomCommittee()
    const committee = c.committee
    const n = rng.int(49_153, 65_536)
    const max = Math.min(kMax(committee, n), n - 1)
    const k = rng.chance(0.5) ? rng.int(3, 64) : rng.int(3, max)
    if (k > max || isSupportedShape(k, n - k)) continue
    const { dataSize } = dataSizeFor(k)
    const h = header(c, { k, n }, dataSize)
    addBuilt(
      'unsupported-shape',
      `epoch ${h.epoch}: k=${k} n=${n} (k <= kMax(n)=${kMax(committee, n)}, no supported shape)`,
      build({ c, header: h, signers: quorum(c) }),
      false,
    )
  }

  /** A fresh valid certificate to mangle. */
  const validBase = () => {
    const c = randomCommittee()
    return build({ c, header: safeHeader(c).header, signers: quorum(c) })
  }

  // 12. Truncated and padded binary certificates --------------------------------------------------------------
  for (let i = 0; i < PLAN.truncated; i++) {
    const b = validBase()
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
    addDerived('truncated', `a valid certificate of ${len} bytes cut to ${cut}`, b.binary.slice(0, cut), b)
  }
  for (let i = 0; i < PLAN.padded; i++) {
    const b = validBase()
    const extra = rng.pick([1, 1, 2, 31, 32, 33, rng.int(1, 300)])
    const pad = rng.chance(0.5) ? new Uint8Array(extra) : rng.bytes(extra)
    addDerived('padded', `a valid certificate with ${extra} bytes appended`, concat(b.binary, pad), b)
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
  for (let i = 0; i < PLAN['malformed-field']; i++) {
    const b = validBase()
    const [label, mutate] = mutations[i % mutations.length]!
    addDerived('malformed-field', label, mutate(b.binary.slice(), b), b, [label])
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
  let flipBase = validBase()
  for (let i = 0; i < PLAN['bit-flip']; i++) {
    if (i % 10 === 0) flipBase = validBase()
    const all = [...fields, ['bitmap', CERTIFICATE_FIXED_SIZE, flipBase.binary.length] as [string, number, number]]
    const [field, start, end] = rng.pick(all)
    const bit = rng.int(start * 8, end * 8 - 1)
    const binary = flipBase.binary.slice()
    binary[bit >> 3]! ^= 1 << (bit & 7)
    addDerived('bit-flip', `bit ${bit} (${field}) of a valid certificate`, binary, flipBase, [field])
  }

  return items
}

function count(items: readonly CorpusItem[], category: Category): number {
  return items.reduce((n, item) => n + (item.category === category ? 1 : 0), 0)
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
