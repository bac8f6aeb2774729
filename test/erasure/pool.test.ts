import { afterAll, describe, expect, it } from 'vitest'
import { checkShards } from '../../src/erasure/decode.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { ErasureErrorCode } from '../../src/erasure/errors.ts'
import { HASH_SIZE } from '../../src/erasure/merkle.ts'
import { ErasurePool } from '../../src/erasure/pool.ts'
import { inconsistentBlob, prng, randomData, withProofs } from './helpers.ts'

const MiB = 1024 * 1024
const pool = new ErasurePool({ size: 1 })
afterAll(() => pool.close())

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('ErasurePool', () => {
  it('encodes off the main thread exactly as encodeBlob does, and decodes back', async () => {
    const data = randomData(200_000, prng(11))
    const params = { networkId: 3, epoch: 9, k: 16, n: 48 }
    const fromPool = await pool.encodeBlob(data, params)
    const inline = encodeBlob(data, params)
    expect(fromPool.blobId.toString()).toBe(inline.blobId.toString())
    expect(fromPool.shards.map((s) => Buffer.from(s).toString('hex'))).toEqual(
      inline.shards.map((s) => Buffer.from(s).toString('hex')),
    )
    expect(data.length).toBe(200_000) // the caller's buffer was copied, not transferred away
    const result = await pool.decodeBlob(fromPool.header, withProofs(fromPool).slice(20, 36))
    expect(result.kind).toBe('ok')
    if (result.kind === 'ok') expect(Buffer.from(result.data).equals(Buffer.from(data))).toBe(true)
  })

  it('carries typed errors back from the worker', async () => {
    expect(await codeOf(pool.encodeBlob(new Uint8Array(10), { networkId: 1, epoch: 0, k: 5, n: 5 }))).toBe(
      ErasureErrorCode.INVALID_PARAMS,
    )
    const blob = encodeBlob(new Uint8Array(100), { networkId: 1, epoch: 0, k: 2, n: 4 })
    expect(await codeOf(pool.decodeBlob(blob.header, withProofs(blob).slice(0, 1)))).toBe(
      ErasureErrorCode.NOT_ENOUGH_SHARDS,
    )
  })

  it('checks BadEncoding evidence', async () => {
    const bad = inconsistentBlob(
      randomData(5000, prng(12)),
      { networkId: 1, epoch: 0, k: 4, n: 10 },
      {
        afterExtend: (shards) => {
          shards[9]![3]! ^= 1
        },
      },
    )
    const result = await pool.decodeBlob(bad.header, withProofs(bad).slice(2, 6))
    expect(result.kind).toBe('bad-encoding')
    if (result.kind === 'bad-encoding') {
      expect(await pool.checkBadEncoding(bad.header, result.evidence)).toBe('root-mismatch')
    }
  })

  it('decodes shards checked before with their leaf hashes to the same blob and the same verdicts', async () => {
    const checkedDecode = (header: Parameters<typeof checkShards>[0], shards: ReturnType<typeof withProofs>) => {
      const checked = checkShards(header, shards)
      const leaves = new Uint8Array(checked.valid.length * HASH_SIZE)
      checked.valid.forEach((shard, i) => {
        leaves.set(checked.leaves.get(shard.index)!, i * HASH_SIZE)
      })
      return pool.decodeCheckedBlob(header, checked.valid, leaves)
    }
    const data = randomData(120_000, prng(13))
    const good = encodeBlob(data, { networkId: 3, epoch: 1, k: 12, n: 40 })
    // Parity shards only, in no order, one index twice: the first copy counts, as in decodeBlob.
    const shards = withProofs(good).slice(20, 34).reverse()
    const back = await checkedDecode(good.header, [...shards, shards[0]!])
    expect(back.kind).toBe('ok')
    if (back.kind === 'ok') expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true)
    const bad = inconsistentBlob(
      randomData(5000, prng(14)),
      { networkId: 1, epoch: 0, k: 4, n: 10 },
      {
        afterExtend: (shards) => {
          shards[9]![3]! ^= 1
        },
      },
    )
    for (const range of [
      [2, 6],
      [0, 4],
      [5, 9],
    ] as const) {
      const fromChecked = await checkedDecode(bad.header, withProofs(bad).slice(...range))
      const fromScratch = await pool.decodeBlob(bad.header, withProofs(bad).slice(...range))
      expect(fromChecked.kind).toBe(fromScratch.kind)
      if (fromChecked.kind === 'bad-encoding') {
        expect(await pool.checkBadEncoding(bad.header, fromChecked.evidence)).toBe('root-mismatch')
      }
    }
    expect(await codeOf(pool.decodeCheckedBlob(good.header, withProofs(good).slice(0, 12), new Uint8Array(31)))).toBe(
      ErasureErrorCode.INVALID_SHARD,
    )
    expect(
      await codeOf(pool.decodeCheckedBlob(good.header, withProofs(good).slice(0, 11), new Uint8Array(11 * HASH_SIZE))),
    ).toBe(ErasureErrorCode.NOT_ENOUGH_SHARDS)
  })

  it('reuses the shared memory of one decode for the next, and never the memory a verdict’s evidence lives in', async () => {
    const own = new ErasurePool({ size: 1 })
    try {
      const params = { networkId: 1, epoch: 0, k: 16, n: 48 }
      const blobs = [0, 1, 2].map((i) => {
        const data = randomData(300_000 - i * 1000, prng(40 + i))
        return { data, encoded: encodeBlob(data, params) }
      })
      // A BadEncoding verdict first, of a larger blob (its memory would fit every decode after it): its evidence is
      // the shards as staged, so that memory is the verdict's.
      const bad = inconsistentBlob(randomData(400_000, prng(49)), params, {
        afterExtend: (shards) => {
          shards[40]![3]! ^= 1
        },
      })
      const verdict = await own.decodeBlob(bad.header, withProofs(bad).slice(30, 46))
      expect(verdict.kind).toBe('bad-encoding')
      if (verdict.kind !== 'bad-encoding') return
      const evidenceAtFirst = verdict.evidence.shards.map((s) => Buffer.from(s.data).toString('hex'))
      expect(own.staging.keptBytes).toBe(0)
      // Decodes of different blobs one after another, each from other shards: every one is exact.
      for (let round = 0; round < 3; round++) {
        for (const [i, blob] of blobs.entries()) {
          const shards = withProofs(blob.encoded).slice(8 * round + i, 8 * round + i + 16)
          const result = await own.decodeBlob(blob.encoded.header, shards)
          expect(result.kind).toBe('ok')
          if (result.kind === 'ok') expect(Buffer.from(result.data).equals(Buffer.from(blob.data))).toBe(true)
        }
      }
      expect(own.staging.reuses).toBeGreaterThanOrEqual(8)
      // The decodes since never wrote over the evidence, which still shows what it showed.
      expect(verdict.evidence.shards.map((s) => Buffer.from(s.data).toString('hex'))).toEqual(evidenceAtFirst)
      expect(await own.checkBadEncoding(bad.header, verdict.evidence)).toBe('root-mismatch')
    } finally {
      await own.close()
    }
  })

  // An encode on the event loop would hold it for the whole encode (~200 ms for 32 MiB at k=1024, n=4096, measured
  // in one process); the bound leaves room for a loaded machine's scheduling and collections (50 ms failed at 81).
  it('keeps the event loop responsive during a 32 MiB encode: a 1 ms timer is never 150 ms late', async () => {
    const data = randomData(32 * MiB, prng(13))
    let worstLateness = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      worstLateness = Math.max(worstLateness, now - last - 1)
      last = now
    }, 1)
    try {
      const blob = await pool.encodeBlob(data, { networkId: 1, epoch: 0, k: 1024, n: 4096 })
      expect(blob.header.dataSize).toBe(32 * MiB)
    } finally {
      clearInterval(timer)
    }
    expect(worstLateness).toBeLessThan(150)
  })

  it('refuses work once closed', async () => {
    const closing = new ErasurePool({ size: 1 })
    await closing.close()
    expect(await codeOf(closing.encodeBlob(new Uint8Array(1), { networkId: 1, epoch: 0, k: 1, n: 2 }))).toBe(
      ErasureErrorCode.POOL_CLOSED,
    )
  })
})
