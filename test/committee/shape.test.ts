import { describe, expect, it } from 'vitest'
import { blobShape, isSupportedShape } from '../../src/committee/params.ts'
import { checkShardCounts } from '../../src/erasure/rs/rate.ts'

const erasureAccepts = (k: number, r: number) => {
  try {
    checkShardCounts(k, r)
    return true
  } catch {
    return false
  }
}

describe('encoding shapes', () => {
  it('the committee layer and the erasure code agree on which (k, r) exist', () => {
    const pairs: [number, number][] = [
      [3, 65533],
      [65535, 1],
      [32768, 32768],
      [21845, 43691],
      [16384, 49152],
      [1, 1],
    ]
    let seed = 7
    const rand = (max: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return 1 + (seed % max)
    }
    for (let i = 0; i < 2000; i++) pairs.push([rand(65535), rand(65535)])
    for (const [k, r] of pairs) expect(isSupportedShape(k, r), `${k}/${r}`).toBe(erasureAccepts(k, r))
  })

  it('blobShape only yields shapes the erasure code supports, even at n = 65536', () => {
    const stakes = Array.from({ length: 100 }, (_, i) => BigInt(1 + (i % 7)))
    const third = { num: 1n, den: 3n }
    const { k, n } = blobShape({ stakes, threshold: { num: 2n, den: 3n }, adversary: third, totalShards: 65536 }, 0)
    expect(erasureAccepts(k, n - k)).toBe(true)
    expect(k).toBeGreaterThan(0)
    // A 32 MiB blob at 3,000 members needs n = 65536 for 4 KiB shards, where kMax = 21845 - 2999 = 18846 is no
    // shape: k steps down to 16384 (16384 + 49152 = 65536), and its shards are 2 KiB.
    const many = Array.from({ length: 3000 }, () => 1n)
    expect(blobShape({ stakes: many, threshold: { num: 2n, den: 3n }, adversary: third }, 32 << 20)).toEqual({
      k: 16384,
      n: 65536,
    })
    expect(erasureAccepts(16384, 65536 - 16384)).toBe(true)
    expect(erasureAccepts(16385, 65536 - 16385)).toBe(false)
  })
})
