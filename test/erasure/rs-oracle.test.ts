/**
 * dacnet's Reed–Solomon codec against the oracle (reed-solomon-simd via @typeberry/native), on seeded
 * random and hand-picked (k, recovery count, shard length, erasure pattern) cases: recovery shards must be
 * byte-identical, our decoder must restore the originals from any k shards (ours or the oracle's), and
 * the oracle must restore them from ours.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { rsDecode, rsEncode } from '../../src/erasure/rs/index.ts'
import { initOracle, oracleDecode, oracleEncode } from './rs-helpers/oracle.ts'
import { firstDifference, Rng } from './rs-helpers/random.ts'

interface Case {
  k: number
  r: number
  /** Shard length in bytes. */
  length: number
  seed: number
}

/** Hand-picked shapes: edges of both rates, the rate tie rule, non-powers of two, and n near 65536. */
const FIXED: [number, number, number][] = [
  [1, 1, 64],
  [1, 2, 64],
  [2, 1, 64],
  [2, 2, 64],
  [3, 5, 64],
  [5, 3, 128],
  [1, 100, 64],
  [100, 1, 64],
  [7, 7, 64],
  [8, 7, 64],
  [7, 8, 64],
  [9, 7, 192],
  [16, 16, 64],
  [17, 15, 64],
  [15, 17, 64],
  [33, 200, 128],
  [200, 33, 128],
  [1000, 1, 64],
  [1, 1000, 64],
  [64, 64, 1024],
  [1024, 3072, 64],
  [3072, 1024, 64],
  [1025, 1024, 64],
  [1024, 1025, 64],
  // n = 65536 and just below, with the smallest shards so they stay fast.
  [1, 65535, 64],
  [65535, 1, 64],
  [32768, 32768, 64],
  [4096, 61440, 64],
  [61440, 4096, 64],
  [2, 65534, 64],
  [49152, 16384, 64],
]

function randomCases(count: number, seed: number): Case[] {
  const rng = new Rng(seed)
  const cases: Case[] = []
  for (let c = 0; c < count; c++) {
    const size = rng.int(0, 99)
    // Mostly small codes (where every rate/truncation branch is reachable), some medium and large.
    const n = size < 60 ? rng.int(2, 64) : size < 90 ? rng.int(65, 700) : rng.int(701, 5000)
    const k = rng.int(1, n - 1)
    const chunks = n <= 64 ? rng.int(1, 8) : n <= 700 ? rng.int(1, 3) : 1
    cases.push({ k, r: n - k, length: 64 * chunks, seed: rng.next() })
  }
  return cases
}

const CASES: Case[] = [
  ...FIXED.map(([k, r, length], i) => ({ k, r, length, seed: 1000 + i })),
  ...randomCases(200, 0x5eed),
]

/** Shards by index from the original and recovery lists. */
function pickShards(indices: number[], original: Uint8Array[], recovery: Uint8Array[]): Map<number, Uint8Array> {
  const k = original.length
  return new Map(indices.map((i) => [i, i < k ? original[i]! : recovery[i - k]!]))
}

beforeAll(async () => {
  await initOracle()
})

describe('rsEncode / rsDecode match reed-solomon-simd', () => {
  it.each(CASES)('k=$k r=$r length=$length seed=$seed', ({ k, r, length, seed }) => {
    const rng = new Rng(seed)
    const n = k + r
    const original = Array.from({ length: k }, () => rng.bytes(length))

    const ours = rsEncode(original, r)
    const theirs = oracleEncode(original, r)
    expect(ours.length).toBe(r)
    expect(firstDifference(ours, theirs)).toBe(-1)

    // Any k of the n shards: a uniformly random subset, built from the oracle's recovery shards.
    const randomSubset = rng.pick(n, k)
    expect(firstDifference(rsDecode(k, r, pickShards(randomSubset, original, theirs)), original)).toBe(-1)

    // As many recovery shards as possible (dropping as many originals as possible), the rest originals.
    const recoveryPart = rng.pick(r, Math.min(k, r)).map((j) => k + j)
    const originalPart = rng.pick(k, k - recoveryPart.length)
    expect(
      firstDifference(rsDecode(k, r, pickShards([...recoveryPart, ...originalPart], original, ours)), original),
    ).toBe(-1)

    // More than k shards given (when there are any to spare).
    if (n > k + 1) {
      const extra = rng.pick(n, rng.int(k + 1, n))
      expect(firstDifference(rsDecode(k, r, pickShards(extra, original, ours)), original)).toBe(-1)
    }

    // The oracle decodes our shards (a different random subset). Skipped for the largest codes, where
    // the oracle's decoder alone takes seconds.
    if (n <= 8192) {
      const subset = rng.pick(n, k)
      expect(firstDifference(oracleDecode(k, r, pickShards(subset, original, ours)), original)).toBe(-1)
    }
  })
})

describe('shapes the chunk layout cannot hold', () => {
  // k + r <= 65536, but the smaller count rounded up to a power of two plus the larger exceeds it.
  it.each([
    [3, 65533],
    [65533, 3],
    [40000, 25000],
  ])('k=%i r=%i is rejected by both', (k, r) => {
    const original = Array.from({ length: k }, () => new Uint8Array(64))
    expect(() => oracleEncode(original, r)).toThrow()
    expect(() => rsEncode(original, r)).toThrow(expect.objectContaining({ code: 'ERASURE_UNSUPPORTED_SHARD_COUNT' }))
  })
})
