/**
 * Byte strings that must never pass as BLS keys or signatures, built from field arithmetic (@noble/curves) so that
 * each one is what its name says: off the curve (no y exists for its x), on the curve but outside the prime-order
 * subgroup, the point at infinity, a non-canonical x (x >= p), bad compression flags, wrong lengths. Plus
 * signatures made with another hash-to-curve DST, which blst (whose DST is fixed) cannot make.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js'

const { Fp, Fp2 } = bls12_381.fields
export const P = Fp.ORDER
const HALF = (P - 1n) / 2n
/** The x field of a compressed encoding is 381 bits: the top three bits of the first byte are flags. */
const X_LIMIT = 1n << 381n

export const COMPRESSED = 0x80
export const INFINITY = 0x40
export const SIGN = 0x20

/** A PRNG returning floats in [0, 1), as `rng` in test/committee/helpers.ts. */
export type Random = () => number

export function randomInt(random: Random, below: number): number {
  return Math.floor(random() * below)
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[randomInt(random, items.length)]!
}

/** A shuffled copy (Fisher–Yates). */
export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

export function randomBytes(random: Random, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => randomInt(random, 256))
}

function randomBelow(random: Random, bound: bigint): bigint {
  let x = 0n
  for (let i = 0; i < 13; i++) x = (x << 32n) | BigInt(randomInt(random, 2 ** 32))
  return x % bound
}

function be48(x: bigint): Uint8Array {
  const out = new Uint8Array(48)
  for (let i = 47; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn)
  return out
}

export function fromBe(bytes: Uint8Array): bigint {
  let x = 0n
  for (const b of bytes) x = (x << 8n) | BigInt(b)
  return x
}

function sqrtOrUndefined<T>(sqrt: (v: T) => T, v: T): T | undefined {
  try {
    return sqrt(v)
  } catch {
    return undefined
  }
}

const B1 = 4n
const B2 = { c0: 4n, c1: 4n }

/** Compressed G1 encoding of x with the given sign of y. */
function g1Encoding(x: bigint, largeY: boolean): Uint8Array {
  const bytes = be48(x)
  bytes[0]! |= COMPRESSED | (largeY ? SIGN : 0)
  return bytes
}

/** Compressed G2 encoding: x.c1 ‖ x.c0, flags on the first byte. */
function g2Encoding(x: { c0: bigint; c1: bigint }, largeY: boolean): Uint8Array {
  const bytes = new Uint8Array([...be48(x.c1), ...be48(x.c0)])
  bytes[0]! |= COMPRESSED | (largeY ? SIGN : 0)
  return bytes
}

/** A G1 encoding whose x has no y on y² = x³ + 4. */
export function offCurveG1(random: Random): Uint8Array {
  for (;;) {
    const x = randomBelow(random, P)
    if (sqrtOrUndefined(Fp.sqrt.bind(Fp), Fp.add(Fp.pow(x, 3n), B1)) === undefined) {
      return g1Encoding(x, random() < 0.5)
    }
  }
}

/** A point of E1 (y² = x³ + 4) with random x: outside G1 but with probability 1/h ≈ 2^-126. */
export function nonSubgroupG1(random: Random): { bytes: Uint8Array; x: bigint; y: bigint } {
  for (;;) {
    const x = randomBelow(random, P)
    const y = sqrtOrUndefined(Fp.sqrt.bind(Fp), Fp.add(Fp.pow(x, 3n), B1))
    if (y !== undefined) {
      const large = random() < 0.5
      const yy = large === y > HALF ? y : Fp.neg(y)
      return { bytes: g1Encoding(x, large), x, y: yy }
    }
  }
}

function randomFp2(random: Random) {
  return Fp2.create({ c0: randomBelow(random, P), c1: randomBelow(random, P) })
}

function largeFp2(y: { c0: bigint; c1: bigint }): boolean {
  return y.c1 > HALF || (y.c1 === 0n && y.c0 > HALF)
}

/** A G2 encoding whose x has no y on y² = x³ + 4(1 + i). */
export function offCurveG2(random: Random): Uint8Array {
  for (;;) {
    const x = randomFp2(random)
    if (sqrtOrUndefined(Fp2.sqrt.bind(Fp2), Fp2.add(Fp2.pow(x, 3n), B2)) === undefined) {
      return g2Encoding(x, random() < 0.5)
    }
  }
}

/** A point of E2 with random x: outside G2 but with negligible probability. */
export function nonSubgroupG2(random: Random): {
  bytes: Uint8Array
  x: { c0: bigint; c1: bigint }
  y: { c0: bigint; c1: bigint }
} {
  for (;;) {
    const x = randomFp2(random)
    const y = sqrtOrUndefined(Fp2.sqrt.bind(Fp2), Fp2.add(Fp2.pow(x, 3n), B2))
    if (y !== undefined) {
      const large = random() < 0.5
      const yy = large === largeFp2(y) ? y : Fp2.neg(y)
      return { bytes: g2Encoding(x, large), x, y: yy }
    }
  }
}

/** Encodings of the point at infinity (the valid one, 0xc0 ‖ 0…, and malformed variants). */
export function infinityVariant(random: Random, size: 48 | 96): Uint8Array {
  const bytes = new Uint8Array(size)
  const variant = randomInt(random, 4)
  bytes[0] = [COMPRESSED | INFINITY, COMPRESSED | INFINITY | SIGN, INFINITY, COMPRESSED | INFINITY][variant]!
  if (variant === 3) bytes[1 + randomInt(random, size - 1)] = 1 + randomInt(random, 255)
  return bytes
}

/**
 * A valid compressed point's bytes with x replaced by x + p (same flags): the same point, non-canonically
 * encoded, when x + p still fits in 381 bits; undefined otherwise. `offset` is 0 for G1, and 0 (x.c1) or 48
 * (x.c0) for G2.
 */
export function nonCanonicalX(valid: Uint8Array, offset: 0 | 48): Uint8Array | undefined {
  const field = valid.slice(offset, offset + 48)
  const flags = offset === 0 ? field[0]! & 0xe0 : 0
  field[0]! &= offset === 0 ? 0x1f : 0xff
  const x = fromBe(field) + P
  if (x >= X_LIMIT) return undefined
  const out = valid.slice()
  out.set(be48(x), offset)
  out[0]! |= flags
  return out
}

/** A valid encoding with one flag bit changed so that it no longer decodes: compression cleared or infinity set. */
export function badFlags(random: Random, valid: Uint8Array): Uint8Array {
  const out = valid.slice()
  out[0]! ^= random() < 0.5 ? COMPRESSED : INFINITY
  return out
}

/** A length other than `size`: shorter, longer, the valid encoding cut or padded, or the uncompressed size. */
export function wrongLength(random: Random, valid: Uint8Array, uncompressed: Uint8Array): Uint8Array {
  const size = valid.length
  switch (randomInt(random, 4)) {
    case 0:
      return valid.slice(0, randomInt(random, size))
    case 1:
      return new Uint8Array([...valid, ...randomBytes(random, 1 + randomInt(random, size))])
    case 2:
      return uncompressed
    default:
      return randomBytes(random, pick(random, [0, 1, size - 1, size + 1, 2 * size - 1, 2 * size + 1]))
  }
}

/** Sign `message` with a secret key (32 big-endian bytes) under any hash-to-G2 DST. */
export function signWithDst(secretKey: Uint8Array, message: Uint8Array, dst: string): Uint8Array {
  const hashed = bls12_381.longSignatures.hash(message, dst)
  return bls12_381.longSignatures.sign(hashed, secretKey).toBytes(true)
}

/** True when (x, y) is on E1 but outside G1, as noble computes it (an independent check of the generator). */
export function g1OutsideSubgroup(x: bigint, y: bigint): boolean {
  const onCurve = Fp.eql(Fp.sqr(y), Fp.add(Fp.pow(x, 3n), B1))
  return onCurve && !bls12_381.G1.Point.fromAffine({ x, y }).isTorsionFree()
}

/** True when (x, y) is on E2 but outside G2. */
export function g2OutsideSubgroup(x: { c0: bigint; c1: bigint }, y: { c0: bigint; c1: bigint }): boolean {
  const onCurve = Fp2.eql(Fp2.sqr(y), Fp2.add(Fp2.pow(x, 3n), B2))
  return onCurve && !bls12_381.G2.Point.fromAffine({ x, y }).isTorsionFree()
}

export function negateEncoding(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  out[0]! ^= SIGN
  return out
}
