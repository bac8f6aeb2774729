/**
 * The code is what docs/PROTOCOL.md §1.1 says it is, checked with an independent, slow GF(2^16) written here
 * (carry-less multiplication modulo x^16 + x^5 + x^3 + x^2 + 1, Cantor-basis coordinates, Lagrange
 * interpolation): point i is the element whose Cantor coordinates are the bits of i; low rate evaluates
 * the interpolant of the (zero-padded) originals at the points after them; high rate sums, over chunks of
 * originals, the interpolants at their own points and evaluates that sum at the first points.
 */
import { describe, expect, it } from 'vitest'
import { rsEncode } from '../../src/erasure/rs/index.ts'
import { Rng } from './rs-helpers/random.ts'

const POLYNOMIAL = 0x1002d
const CANTOR_BASIS = [
  0x0001, 0xacca, 0x3c0e, 0x163e, 0xc582, 0xed2e, 0x914c, 0x4012, 0x6c98, 0x10d8, 0x6a72, 0xb900, 0xfdb8, 0xfb34,
  0xff38, 0x991e,
]

/** Product in the polynomial basis. */
function mulPoly(a: number, b: number): number {
  let product = 0
  for (let i = 0; i < 16; i++) if ((b >> i) & 1) product ^= a << i
  for (let bit = 30; bit >= 16; bit--) if ((product >> bit) & 1) product ^= POLYNOMIAL << (bit - 16)
  return product
}

/** Cantor coordinates -> polynomial basis, and back. */
const toPoly = new Uint16Array(65536)
const toCantor = new Uint16Array(65536)
for (let j = 0; j < 65536; j++) {
  let v = 0
  for (let i = 0; i < 16; i++) if ((j >> i) & 1) v ^= CANTOR_BASIS[i]!
  toPoly[j] = v
  toCantor[v] = j
}

/** Field operations on Cantor-coordinate values, as they sit in shards. */
const mul = (a: number, b: number) => toCantor[mulPoly(toPoly[a]!, toPoly[b]!)]!
function inv(a: number): number {
  // a^(2^16 - 2) by square-and-multiply.
  let result = 1
  let base = a
  for (let e = 65534; e > 0; e >>= 1) {
    if (e & 1) result = mul(result, base)
    base = mul(base, base)
  }
  return result
}

/** Value at `x` of the polynomial of degree < points.length through (points[i], values[i]). */
function lagrange(points: number[], values: number[], x: number): number {
  let sum = 0
  for (let i = 0; i < points.length; i++) {
    let num = 1
    let den = 1
    for (let j = 0; j < points.length; j++) {
      if (j === i) continue
      num = mul(num, x ^ points[j]!)
      den = mul(den, points[i]! ^ points[j]!)
    }
    sum ^= mul(values[i]!, mul(num, inv(den)))
  }
  return sum
}

const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(x))
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

/** Element t (0..31) of a 64-byte shard: low byte at t, high byte at 32 + t. */
const element = (shard: Uint8Array, t: number) => shard[t]! | (shard[32 + t]! << 8)

function lowRate(originals: number[], r: number): number[] {
  const m = nextPow2(originals.length)
  const values = range(0, m).map((i) => originals[i] ?? 0)
  return range(0, r).map((j) => lagrange(range(0, m), values, m + j))
}

function highRate(originals: number[], r: number): number[] {
  const m = nextPow2(r)
  const recovery = new Array<number>(r).fill(0)
  for (let start = 0; start < originals.length; start += m) {
    const points = range(start + m, m)
    const values = range(start, m).map((i) => originals[i] ?? 0)
    for (let j = 0; j < r; j++) recovery[j]! ^= lagrange(points, values, j)
  }
  return recovery
}

describe('the recovery shards are the documented polynomial evaluations', () => {
  it.each([
    // [k, r, rate the crate's DefaultRate picks]
    [2, 2, 'high'], // equal powers of two and k <= r
    [3, 5, 'low'],
    [5, 3, 'high'], // two chunks of m = 4 originals
    [3, 4, 'high'],
    [4, 3, 'low'], // equal powers of two and k > r
    [9, 2, 'high'], // five chunks of m = 2
    [1, 3, 'low'],
  ] as const)('k=%i r=%i (%s rate)', (k, r, rate) => {
    const rng = new Rng(k * 100 + r)
    const original = Array.from({ length: k }, () => rng.bytes(64))
    const recovery = rsEncode(original, r)
    for (let t = 0; t < 32; t++) {
      const values = original.map((s) => element(s, t))
      const expected = rate === 'low' ? lowRate(values, r) : highRate(values, r)
      expect(recovery.map((s) => element(s, t))).toEqual(expected)
    }
  })
})
