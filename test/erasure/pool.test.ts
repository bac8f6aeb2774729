import { afterAll, describe, expect, it } from 'vitest'
import { columnRange, partRange } from '../../src/erasure/columns.ts'
import { checkShards, type DecodeResult } from '../../src/erasure/decode.ts'
import { type EncodedBlob, encodeBlob } from '../../src/erasure/encode.ts'
import { ErasureErrorCode } from '../../src/erasure/errors.ts'
import { HASH_SIZE } from '../../src/erasure/merkle.ts'
import { ErasurePool, SPLIT_ENCODE_MIN_BYTES } from '../../src/erasure/pool.ts'
import { SharedStaging } from '../../src/erasure/staging.ts'
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

  it('starts its workers ahead when warmed, works as a pool started on first use, and starts none once closed', async () => {
    const warmed = new ErasurePool({ size: 2 })
    warmed.warm()
    warmed.warm() // no more workers than its size
    const data = randomData(200_000, prng(12))
    const params = { networkId: 3, epoch: 9, k: 16, n: 48 }
    const encoded = await warmed.encodeBlob(data, params)
    expect(encoded.blobId.toString()).toBe(encodeBlob(data, params).blobId.toString())
    await warmed.close()
    warmed.warm()
    expect(await codeOf(warmed.encodeBlob(data, params))).toBe(ErasureErrorCode.POOL_CLOSED)
  })

  it('refuses work once closed', async () => {
    const closing = new ErasurePool({ size: 1 })
    await closing.close()
    expect(await codeOf(closing.encodeBlob(new Uint8Array(1), { networkId: 1, epoch: 0, k: 1, n: 2 }))).toBe(
      ErasureErrorCode.POOL_CLOSED,
    )
  })
})

describe('ErasurePool, a blob split between workers', () => {
  const split = new ErasurePool({ size: 3 })
  afterAll(() => split.close())
  const hex = (views: readonly Uint8Array[]) => views.map((v) => Buffer.from(v).toString('hex'))

  it.each([
    { what: 'shards of many columns, cut unevenly in three', size: 1.5 * MiB + 123, k: 100, n: 300 },
    { what: 'one-column shards (two parts get no column)', size: MiB, k: 16_384, n: 32_768 },
  ])('encodes $what to the same bytes as one thread', async ({ size, k, n }) => {
    const data = randomData(size, prng(k))
    const params = { networkId: 5, epoch: 2, k, n }
    expect(size).toBeGreaterThanOrEqual(SPLIT_ENCODE_MIN_BYTES)
    const [fromParts, inline] = [await split.encodeBlob(data, params), encodeBlob(data, params)]
    expect(Buffer.from(fromParts.headerBytes).equals(Buffer.from(inline.headerBytes))).toBe(true)
    expect(fromParts.blobId.toString()).toBe(inline.blobId.toString())
    expect(hex(fromParts.shards)).toEqual(hex(inline.shards))
    expect(hex(fromParts.proofs)).toEqual(hex(inline.proofs))
    const back = await split.decodeBlob(fromParts.header, withProofs(fromParts).slice(n - k))
    expect(back.kind === 'ok' && Buffer.from(back.data).equals(Buffer.from(data))).toBe(true)
  })

  it('decodes checked shards to the same blob and the same verdicts as one worker', async () => {
    const params = { networkId: 5, epoch: 2, k: 64, n: 192 }
    const size = SPLIT_ENCODE_MIN_BYTES + 1000
    const checked = (blob: EncodedBlob, shards: ReturnType<typeof withProofs>) => {
      const { valid, leaves: byIndex } = checkShards(blob.header, shards)
      const leaves = new Uint8Array(valid.length * HASH_SIZE)
      valid.forEach((shard, i) => {
        leaves.set(byIndex.get(shard.index)!, i * HASH_SIZE)
      })
      return [valid, leaves] as const
    }
    const both = async (
      blob: EncodedBlob,
      shards: ReturnType<typeof withProofs>,
    ): Promise<[DecodeResult, DecodeResult]> => {
      const [valid, leaves] = checked(blob, shards)
      return [
        await split.decodeCheckedBlob(blob.header, valid, leaves),
        await pool.decodeCheckedBlob(blob.header, valid, leaves),
      ]
    }
    const data = randomData(size, prng(21))
    const good = await split.encodeBlob(data, params)
    // Originals only (copied into place), then parity only in no order (recovered by a worker).
    for (const shards of [withProofs(good).slice(0, 64), withProofs(good).slice(100, 170).reverse()]) {
      const [fromParts, fromOne] = await both(good, shards)
      if (fromParts.kind !== 'ok' || fromOne.kind !== 'ok') throw new Error(`${fromParts.kind}, ${fromOne.kind}`)
      expect(Buffer.from(fromParts.data).equals(Buffer.from(data))).toBe(true)
      expect(fromParts.used).toEqual(fromOne.used)
    }
    const tampered = [
      inconsistentBlob(data, params, {
        afterExtend: (shards) => {
          shards[150]![7]! ^= 1
        },
      }),
      inconsistentBlob(data, params, { beforeExtend: (originals) => void originals[63]!.fill(9, -8) }),
    ]
    for (const [bad, reason] of [
      [tampered[0]!, 'root-mismatch'],
      [tampered[1]!, 'nonzero-padding'],
    ] as const) {
      const [fromParts, fromOne] = await both(bad, withProofs(bad).slice(0, 160))
      expect([fromParts.kind, fromParts.kind === 'bad-encoding' && fromParts.reason]).toEqual(['bad-encoding', reason])
      expect(fromOne.kind === 'bad-encoding' && fromOne.reason).toBe(reason)
      if (fromParts.kind === 'bad-encoding') {
        expect(fromParts.evidence.shards.map((s) => s.index)).toEqual(Array.from({ length: 64 }, (_, i) => i))
        expect(await split.checkBadEncoding(bad.header, fromParts.evidence)).toBe(reason)
      }
    }
    expect(
      await codeOf(split.decodeCheckedBlob(good.header, withProofs(good).slice(0, 63), new Uint8Array(63 * HASH_SIZE))),
    ).toBe(ErasureErrorCode.NOT_ENOUGH_SHARDS)
  })

  it.each([
    { what: 'one worker, a small blob', size: 120_000, k: 12, n: 40, split: false },
    { what: 'a large blob split between workers', size: SPLIT_ENCODE_MIN_BYTES + 1000, k: 64, n: 192, split: true },
    // Recovered in ranges of columns: two columns (128-byte shards) for three workers, so one range is empty.
    { what: 'two-column shards split between three workers', size: MiB + 100, k: 16_384, n: 32_768, split: true },
  ])(
    'decodes unchecked shards when they re-encode to the root, and answers null when one is not the committed one ($what)',
    async ({ size, k, n, split: inParts }) => {
      const decoder = inParts ? split : pool
      const params = { networkId: 5, epoch: 2, k, n }
      const data = randomData(size, prng(k + 1))
      const good = encodeBlob(data, params)
      // Originals (copied into place), then parity in no order (recovered), a wrongly sized shard set aside.
      const wrongSize = { ...withProofs(good)[0]!, data: new Uint8Array(good.header.shardSize + 64) }
      for (const shards of [
        withProofs(good).slice(0, k),
        [
          wrongSize,
          ...withProofs(good)
            .slice(n - k)
            .reverse(),
        ],
      ]) {
        const back = await decoder.decodeUncheckedBlob(good.header, shards)
        expect(back !== null && Buffer.from(back).equals(Buffer.from(data))).toBe(true)
      }
      // One flipped bit in a shard that is decoded from, or a proof that is garbage: the proof is never looked at.
      const flipped = withProofs(good).slice(0, k)
      flipped[k >> 1] = { ...flipped[k >> 1]!, data: flipped[k >> 1]!.data.map((b, i) => (i === 5 ? b ^ 1 : b)) }
      expect(await decoder.decodeUncheckedBlob(good.header, flipped)).toBeNull()
      const garbageProof = withProofs(good).slice(0, k)
      garbageProof[0] = { ...garbageProof[0]!, proof: new Uint8Array(garbageProof[0]!.proof.length) }
      expect(await decoder.decodeUncheckedBlob(good.header, garbageProof)).not.toBeNull()
      // A commitment that is no honest encoding, and padding that is not zero: null, whichever shards.
      for (const bad of [
        inconsistentBlob(data, params, {
          afterExtend: (shards) => {
            shards[n - 1]![7]! ^= 1
          },
        }),
        inconsistentBlob(data, params, { beforeExtend: (originals) => void originals[k - 1]!.fill(9, -8) }),
      ]) {
        expect(await decoder.decodeUncheckedBlob(bad.header, withProofs(bad).slice(0, k))).toBeNull()
      }
      expect(await codeOf(decoder.decodeUncheckedBlob(good.header, [wrongSize, ...withProofs(good).slice(1, k)]))).toBe(
        ErasureErrorCode.NOT_ENOUGH_SHARDS,
      )
    },
  )

  it('joins a decoded blob into memory a worker prefaulted, or into fresh memory when that is not the blob’s size', async () => {
    const params = { networkId: 5, epoch: 2, k: 64, n: 192 }
    const data = randomData(SPLIT_ENCODE_MIN_BYTES + 1000, prng(37))
    const good = encodeBlob(data, params)
    const shards = withProofs(good).slice(0, 64)
    const prepared = (await split.prefault(data.length))!
    expect(prepared.byteLength).toBe(data.length)
    // A blob one worker decodes whole needs none: it joins the blob in memory of its own.
    expect(await split.prefault(SPLIT_ENCODE_MIN_BYTES - 1)).toBeUndefined()
    expect(await pool.prefault(data.length)).toBeUndefined()
    expect(new Uint8Array(prepared).every((b) => b === 0)).toBe(true)
    for (const into of [Promise.resolve(prepared), split.prefault(data.length - 1), pool.prefault(data.length)]) {
      const back = await split.decodeUncheckedBlob(good.header, shards, into)
      expect(back).not.toBeNull()
      expect(back!.byteLength).toBe(data.length)
      expect(back!.buffer.byteLength).toBe(data.length)
      expect(Buffer.from(back!).equals(Buffer.from(data))).toBe(true)
    }
    // The buffer was handed to the worker that joined the blob: it is no longer the caller's.
    expect(prepared.byteLength).toBe(0)
  })

  it('reuses a released encoding’s memory (shards and proofs) for the next, with the padding zero again', async () => {
    const params = { networkId: 5, epoch: 2, k: 64, n: 128 }
    const first = await split.encodeBlob(randomData(SPLIT_ENCODE_MIN_BYTES + 64 * 64, prng(31)), params)
    const shardSize = first.header.shardSize
    split.release(first)
    const reusesBefore = split.staging.reuses
    // The same shard size with a shorter blob: the last original's tail is padding now, and held bytes before.
    const data = randomData(64 * shardSize - 1000, prng(32))
    const second = await split.encodeBlob(data, params)
    expect(split.staging.reuses).toBe(reusesBefore + 1)
    expect(second.header.shardSize).toBe(shardSize)
    const inline = encodeBlob(data, params)
    expect(Buffer.from(second.headerBytes).equals(Buffer.from(inline.headerBytes))).toBe(true)
    expect(hex(second.shards)).toEqual(hex(inline.shards))
    // The first encoding's proofs' memory went to the worker for the second's proofs (so it is no longer the
    // first's), and holds exactly the proofs a fresh encoding makes.
    expect(first.proofs[0]!.buffer.byteLength).toBe(0)
    expect(hex(second.proofs)).toEqual(hex(inline.proofs))
    split.release(second)
    split.release(second) // a second release changes nothing
    expect(split.staging.reuses).toBe(reusesBefore + 1)
  })

  it('refuses bad parameters and oversized blobs with the codes one worker gives', async () => {
    const data = new Uint8Array(SPLIT_ENCODE_MIN_BYTES)
    expect(await codeOf(split.encodeBlob(data, { networkId: 1, epoch: 0, k: 8, n: 8 }))).toBe(
      ErasureErrorCode.INVALID_PARAMS,
    )
    expect(await codeOf(split.encodeBlob(data, { networkId: 1, epoch: 0, k: 8, n: 16, maxBlobSize: MiB - 1 }))).toBe(
      ErasureErrorCode.BLOB_TOO_LARGE,
    )
  })

  it('rejects a split encoding with ERASURE_POOL_CLOSED when its pool closes part-way', async () => {
    const closing = new ErasurePool({ size: 2 })
    const outcome = codeOf(
      closing.encodeBlob(randomData(8 * MiB, prng(41)), { networkId: 1, epoch: 0, k: 2048, n: 8192 }),
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    await closing.close()
    expect(await outcome).toBe(ErasureErrorCode.POOL_CLOSED)
  })

  it('cuts columns at 64 bytes and leaves in ranges that cover every shard once', () => {
    for (const [total, unit, count] of [
      [3136, 64, 2],
      [64, 64, 3],
      [16_384, 1, 3],
      [7, 1, 4],
    ] as const) {
      const ranges = Array.from({ length: count }, (_, part) => partRange(total, unit, part, count))
      expect(ranges[0]![0]).toBe(0)
      expect(ranges.at(-1)![1]).toBe(total)
      for (let i = 1; i < count; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1])
      for (const [from, to] of ranges.slice(0, -1)) expect([from % unit, to % unit, to >= from]).toEqual([0, 0, true])
    }
    expect(columnRange(3136, 1, 2)).toEqual([1536, 3136])
  })
})

describe('SharedStaging', () => {
  it('hands kept memory out again, and drops it all once unused for its idle time', async () => {
    const staging = new SharedStaging({ maxKeptBytes: 1024, maxKeptBuffers: 2, idleDropMs: 50 })
    const first = staging.acquire(256)
    staging.release(first, false)
    expect(staging.acquire(200)).toBe(first)
    staging.release(first, false)
    staging.release(staging.acquire(512), false)
    expect(staging.keptBytes).toBe(768)
    // A use within the idle time keeps it; then nothing for longer drops everything.
    await new Promise((resolve) => setTimeout(resolve, 30))
    staging.release(staging.acquire(100), false)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(staging.keptBytes).toBe(768)
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(staging.keptBytes).toBe(0)
    expect(staging.acquire(256)).not.toBe(first)
  })
})
