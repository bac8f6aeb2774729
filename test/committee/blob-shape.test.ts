import { describe, expect, it } from 'vitest'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import type { Fraction } from '../../src/committee/fraction.ts'
import {
  blobShape,
  canonicalShardSize,
  isSafeEncoding,
  isSupportedShape,
  kMax,
  MAX_TOTAL_SHARDS,
  MIN_TOTAL_SHARDS,
  TARGET_SHARD_SIZE,
} from '../../src/committee/params.ts'
import { shardSizeFor } from '../../src/erasure/layout.ts'
import { HASH_SIZE, proofLength } from '../../src/erasure/merkle.ts'
import { samplesForTarget } from '../../src/node/confidence.ts'
import { fakeCommittee, rng } from './helpers.ts'

const KiB = 1024
const MiB = 1024 * 1024
const DEFAULTS = { threshold: { num: 2n, den: 3n } as Fraction, adversary: { num: 1n, den: 3n } as Fraction }
const sixteen = { ...DEFAULTS, memberCount: 16 }

/** What one light-client sample of a blob downloads: a shard and its proof (every proof of a power-of-two n is log2 n hashes). */
function sampleBytes(dataSize: number, k: number, n: number): number {
  return canonicalShardSize(dataSize, k) + proofLength(0, n) * HASH_SIZE
}

/** Blob sizes to sweep: every power of two up to 32 MiB, one byte either side, and seeded random sizes. */
function sizes(count: number, seed: number): number[] {
  const next = rng(seed)
  const out = [0, 1]
  for (let p = 1; p <= 32 * MiB; p *= 2) out.push(p - 1, p, p + 1)
  for (let i = 0; i < count; i++) out.push(Math.floor(next() * 32 * MiB))
  return out.filter((s) => s <= 32 * MiB)
}

describe('blob shape policy (PROTOCOL.md §2.3)', () => {
  it('gives the documented table at 16 members: shards near 4 KiB, a check at 1 - 1e-6 under 60 KB', () => {
    // [size, n, k, shard size, proof bytes, samples, bytes per check]
    const table: [number, number, number, number, number, number, number][] = [
      [64 * KiB, 128, 27, 2432, 224, 9, 23_904],
      [256 * KiB, 256, 70, 3776, 256, 11, 44_352],
      [1 * MiB, 1024, 326, 3264, 320, 13, 46_592],
      [4 * MiB, 4096, 1350, 3136, 384, 13, 45_760],
      [16 * MiB, 16384, 5446, 3136, 448, 13, 46_592],
      [32 * MiB, 32768, 10907, 3136, 480, 13, 47_008],
    ]
    for (const [size, n, k, shard, proof, samples, perCheck] of table) {
      expect(blobShape(sixteen, size), `${size}`).toEqual({ k, n })
      expect(canonicalShardSize(size, k)).toBe(shard)
      expect(proofLength(0, n) * HASH_SIZE).toBe(proof)
      expect(samplesForTarget(1 - 1e-6, k, n)).toBe(samples)
      expect(samples * (shard + proof)).toBe(perCheck)
      expect(perCheck).toBeLessThan(60_000)
    }
  })

  it('keeps one sample between 1.8 and 4.6 KB from 64 KiB to 32 MiB at 16 members, and a check under 60 KB', () => {
    const next = rng(64)
    const swept = [64 * KiB, 32 * MiB]
    for (let size = 64 * KiB; size <= 32 * MiB; size = Math.ceil(size * 1.01)) swept.push(size)
    for (let i = 0; i < 2000; i++) swept.push(64 * KiB + Math.floor(next() * (32 * MiB - 64 * KiB)))
    // Just past a size where n doubles, k more than doubles (kMax(2n) = 2 kMax(n) + m - 1), so the shard falls
    // below half the target: the smallest sample is 1,856 bytes (110,593 bytes at n = 256, k = 70), the largest
    // 4,544 (a 4,096-byte shard at n = 16384). From 1 MiB up the spread is under 2x (2,400 to 4,544 bytes).
    const perSample = (size: number) => {
      const { k, n } = blobShape(sixteen, size)
      return { bytes: sampleBytes(size, k, n), check: samplesForTarget(1 - 1e-6, k, n) * sampleBytes(size, k, n) }
    }
    const all = swept.concat(110_593).map(perSample)
    expect(Math.min(...all.map((s) => s.bytes))).toBe(1856)
    expect(Math.max(...all.map((s) => s.bytes))).toBeLessThanOrEqual(TARGET_SHARD_SIZE + 15 * HASH_SIZE)
    expect(Math.max(...all.map((s) => s.check))).toBeLessThan(60_000)
    const large = swept.filter((size) => size >= MiB).map((size) => perSample(size).bytes)
    expect(Math.max(...large)).toBeLessThan(2 * Math.min(...large))
    // At the sizes of the table the spread is 2,656 to 4,032 bytes.
    const table = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB, 32 * MiB].map((size) => perSample(size).bytes)
    expect([Math.min(...table), Math.max(...table)]).toEqual([2656, 4032])
  })

  it('is safe, supported and minimal for every size up to 32 MiB and committees of 1 to 1,000 members', () => {
    const all = sizes(40, 1)
    let checked = 0
    for (let m = 1; m <= 1000; m++) {
      const rule = { ...DEFAULTS, memberCount: m }
      let previous = { n: 0, shard: 0 }
      for (const size of all.toSorted((a, b) => a - b)) {
        const { k, n } = blobShape(rule, size)
        const where = `m=${m} size=${size}`
        expect(isSafeEncoding(rule, k, n), where).toBe(true)
        expect(isSupportedShape(k, n - k), where).toBe(true)
        expect(Number.isInteger(Math.log2(n)) && n >= MIN_TOTAL_SHARDS && n <= MAX_TOTAL_SHARDS, where).toBe(true)
        const shard = canonicalShardSize(size, k)
        if (n < MAX_TOTAL_SHARDS) expect(shard, where).toBeLessThanOrEqual(TARGET_SHARD_SIZE)
        // Minimal: half the n either has no safe k or shards above the target.
        if (n > MIN_TOTAL_SHARDS) {
          const half = n / 2
          const fits = kMax(rule, half) >= 1 && canonicalShardSize(size, blobShape({ ...rule, totalShards: half }, 0).k)
          expect(kMax(rule, half) < 1 || (fits as number) > TARGET_SHARD_SIZE, where).toBe(true)
        }
        // Monotone: a larger blob never gets a smaller n.
        expect(n, where).toBeGreaterThanOrEqual(previous.n)
        previous = { n, shard }
        checked++
      }
    }
    expect(checked).toBeGreaterThan(100_000)
  })

  it('caps n at 65536: a blob too large for 4 KiB shards there gets larger shards', () => {
    // 3,000 members: kMax(65536) = 18846 steps down to 16384, so 32 MiB makes 2 KiB shards; 100 MiB makes 6.25 KiB.
    const many = { ...DEFAULTS, memberCount: 3000 }
    expect(blobShape(many, 100 * MiB)).toEqual({ k: 16384, n: 65536 })
    expect(canonicalShardSize(100 * MiB, 16384)).toBe(6400)
    // 21,845 members at g = 1/3 are the most any n serves: n = 65536 with k = 1 for every blob.
    expect(blobShape({ ...DEFAULTS, memberCount: 21845 }, 0)).toEqual({ k: 1, n: 65536 })
    expect(() => blobShape({ ...DEFAULTS, memberCount: 21846 }, 0)).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.ENCODING_UNSATISFIABLE }),
    )
  })

  it("uses the committee file's fixed totalShards for every blob", () => {
    const fixed = fakeCommittee([1n, 1n, 1n], { totalShards: 20 })
    for (const size of [0, 1000, 1 * MiB, 32 * MiB]) expect(fixed.shapeFor(size)).toEqual({ k: 4, n: 20 })
  })

  it("restates the erasure layer's canonical shard size exactly", () => {
    const next = rng(3)
    for (let i = 0; i < 5000; i++) {
      const size = Math.floor(next() * 64 * MiB)
      const k = 1 + Math.floor(next() * 65535)
      expect(canonicalShardSize(size, k), `${size}/${k}`).toBe(shardSizeFor(size, k))
    }
  })

  it('refuses a blob size that is not a non-negative safe integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => blobShape(sixteen, bad)).toThrow(
        expect.objectContaining({ code: CommitteeErrorCode.INVALID_DATA_SIZE }),
      )
    }
  })
})
