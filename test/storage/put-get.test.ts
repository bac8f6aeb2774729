import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bytesEqual } from '../../src/erasure/merkle.ts'
import { isDacnetError } from '../../src/errors.ts'
import { MAX_RETENTION_MS, ShardStore, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, pick, range } from './fixtures/blobs.ts'
import { tempDir } from './fixtures/temp.ts'

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isDacnetError(err, code), `expected ${code}, got ${String(err)}`).toBe(true)
}

describe('ShardStore put and read', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let store: ShardStore

  beforeEach(async () => {
    ;({ dir, cleanup } = await tempDir())
    store = await ShardStore.open(dir, { backgroundPrune: false })
  })
  afterEach(async () => {
    await store.close()
    await cleanup()
  })

  it('stores assigned shards and reads them back, verified, one, many and all', async () => {
    const blob = makeBlob({ k: 4, n: 10, dataSize: 3000 })
    const assigned = [1, 3, 4, 8]
    expect(await store.putBlob(blob.headerBytes, pick(blob, assigned))).toEqual({
      blobId: blob.blobId,
      stored: true,
      added: 4,
    })
    expect(await store.hasBlob(blob.blobId)).toBe(true)
    expect(await store.getHeader(blob.blobId)).toEqual(blob.header)

    const one = await store.getShard(blob.blobId, 3)
    expect(one?.index).toBe(3)
    expect(bytesEqual(one!.data, blob.shards[3]!.data)).toBe(true)
    expect(bytesEqual(one!.proof, blob.shards[3]!.proof)).toBe(true)
    expect(await store.getShard(blob.blobId, 2)).toBeUndefined()

    const many = await store.getShards(blob.blobId, [8, 2, 1])
    expect(many.map((s) => s.index)).toEqual([8, 1])
    const all = await store.getAllShards(blob.blobId)
    expect(all.map((s) => s.index)).toEqual(assigned)
    for (const s of all) expect(bytesEqual(s.data, blob.shards[s.index]!.data)).toBe(true)

    const info = await store.getBlobInfo(blob.blobId)
    expect(info?.shardCount).toBe(4)
    expect(bytesEqual(info!.headerBytes, blob.headerBytes)).toBe(true)
    expect(store.stats()).toMatchObject({ blobs: 1, shards: 4, quarantined: 0, corruptDetected: 0 })
  })

  it('answers not held for unknown blobs, and refuses out-of-range indices and a non-list of indices', async () => {
    await expectCode(store.getShards(makeBlob().blobId, 3 as unknown as number[]), StorageErrorCode.INVALID_SHARD)
    const blob = makeBlob()
    expect(await store.getShard(blob.blobId, 0)).toBeUndefined()
    expect(await store.getShards(blob.blobId, [0, 1])).toEqual([])
    expect(await store.getAllShards(blob.blobId)).toEqual([])
    expect(await store.getHeader(blob.blobId)).toBeUndefined()
    await store.putBlob(blob.headerBytes, pick(blob, [0]))
    await expectCode(store.getShard(blob.blobId, blob.header.n), StorageErrorCode.INVALID_SHARD)
    await expectCode(store.getShard(blob.blobId, -1), StorageErrorCode.INVALID_SHARD)
  })

  it('is idempotent: the same blob again writes nothing', async () => {
    const blob = makeBlob()
    await store.putBlob(blob.headerBytes, pick(blob, [0, 5]))
    const before = store.stats()
    expect(await store.putBlob(blob.headerBytes, pick(blob, [5, 0]))).toMatchObject({ stored: false, added: 0 })
    expect(await store.putBlob(blob.headerBytes, pick(blob, [5]))).toMatchObject({ stored: false, added: 0 })
    expect(store.stats().bytes).toBe(before.bytes)
    expect(store.stats().shards).toBe(2)
  })

  it('adds the missing shards when the same blob comes with a different subset, keeping the first expiry', async () => {
    const blob = makeBlob()
    await store.putBlob(blob.headerBytes, pick(blob, [0, 1]))
    const first = await store.getBlobInfo(blob.blobId)
    expect(await store.putBlob(blob.headerBytes, pick(blob, [1, 2, 3]), { retentionMs: 1 })).toMatchObject({
      stored: true,
      added: 2,
    })
    const info = await store.getBlobInfo(blob.blobId)
    expect(info?.shardCount).toBe(4)
    expect(info?.expiresAt).toBe(first?.expiresAt)
    expect((await store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual([0, 1, 2, 3])
    expect((await store.check()).ok).toBe(true)
  })

  it('names the one bad shard of a long run, whether its data, its proof or two swapped proofs, and stores none', async () => {
    const blob = makeBlob({ k: 40, n: 120, dataSize: 40 * 64 })
    const run = pick(blob, range(30, 90))
    const flipData = run.map((s) => (s.index === 57 ? { ...s, data: s.data.map((b, i) => (i === 5 ? b ^ 1 : b)) } : s))
    const flipProof = run.map((s) =>
      s.index === 71 ? { ...s, proof: s.proof.map((b, i) => (i === s.proof.length - 1 ? b ^ 0x80 : b)) } : s,
    )
    // Shards 40 and 41 share every node above their parent: each proof alone fails, the pair must too.
    const swapped = run.map((s) =>
      s.index === 40
        ? { ...s, data: blob.shards[41]!.data }
        : s.index === 41
          ? { ...s, data: blob.shards[40]!.data }
          : s,
    )
    for (const [shards, bad] of [
      [flipData, 57],
      [flipProof, 71],
      [swapped, 40],
    ] as const) {
      const err = await store.putBlob(blob.headerBytes, shards).catch((e: unknown) => e)
      expect(isDacnetError(err, StorageErrorCode.INVALID_PROOF), String(err)).toBe(true)
      expect((err as { meta?: { index?: number } }).meta?.index).toBe(bad)
      expect(await store.hasBlob(blob.blobId)).toBe(false)
    }
    expect(await store.putBlob(blob.headerBytes, run)).toMatchObject({ stored: true, added: 60 })
    expect((await store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual(range(30, 90))
  })

  it('writes only what it verified: a shard changed after the call is refused, and a re-store of bad shards too', async () => {
    const blob = makeBlob()
    const shards = pick(blob, [0, 1, 2]).map((s) => ({
      ...s,
      data: new Uint8Array(s.data),
      proof: new Uint8Array(s.proof),
    }))
    const put = store.putBlob(blob.headerBytes, shards)
    // The proofs are checked as the batch is submitted, after the call has returned: what is checked is what is written.
    shards[1]!.data[0]! ^= 1
    await expectCode(put, StorageErrorCode.INVALID_PROOF)
    expect(await store.hasBlob(blob.blobId)).toBe(false)
    shards[1]!.data[0]! ^= 1
    const original = shards[0]!
    const stored3 = store.putBlob(blob.headerBytes, shards)
    // Shard objects swapped in the caller's array after the call are not what is written either.
    shards[0] = { ...original, data: new Uint8Array(original.data.length) }
    expect(await stored3).toMatchObject({ stored: true, added: 3 })
    expect(Buffer.from((await store.getShard(blob.blobId, 0))!.data).equals(blob.shards[0]!.data)).toBe(true)
    // The buffers are free once the put has settled: changing them changes nothing stored.
    shards[2]!.data.fill(0)
    const stored = await store.getShard(blob.blobId, 2)
    expect(Buffer.from(stored!.data).equals(blob.shards[2]!.data)).toBe(true)
    // Held already, nothing to write: bad shards are refused all the same.
    const lying = { ...blob.shards[1]!, proof: blob.shards[2]!.proof }
    await expectCode(store.putBlob(blob.headerBytes, [lying]), StorageErrorCode.INVALID_PROOF)
    expect(await store.putBlob(blob.headerBytes, pick(blob, [1]))).toMatchObject({ stored: false, added: 0 })
  })

  it('refuses bad input and writes nothing: bad proof, wrong size, repeated index, bad header, no shards', async () => {
    const blob = makeBlob()
    const other = makeBlob()
    const badProof = { ...blob.shards[1]!, proof: other.shards[1]!.proof }
    await expectCode(store.putBlob(blob.headerBytes, [blob.shards[0]!, badProof]), StorageErrorCode.INVALID_PROOF)
    const badData = { ...blob.shards[2]!, data: blob.shards[2]!.data.slice(1) }
    await expectCode(store.putBlob(blob.headerBytes, [badData]), StorageErrorCode.INVALID_SHARD)
    await expectCode(store.putBlob(blob.headerBytes, pick(blob, [0, 0])), StorageErrorCode.INVALID_SHARD)
    const outOfRange = { ...blob.shards[0]!, index: blob.header.n }
    await expectCode(store.putBlob(blob.headerBytes, [outOfRange]), StorageErrorCode.INVALID_SHARD)
    await expectCode(store.putBlob(blob.headerBytes.subarray(1), pick(blob, [0])), StorageErrorCode.INVALID_HEADER)
    await expectCode(store.putBlob(blob.headerBytes, []), StorageErrorCode.INVALID_SHARD)
    // A shard that proves against another blob's root.
    await expectCode(store.putBlob(blob.headerBytes, pick(other, [0])), StorageErrorCode.INVALID_PROOF)
    // Not a shard at all, and a retention that would store a blob already expired.
    const notAShard = null as unknown as (typeof blob.shards)[number]
    await expectCode(store.putBlob(blob.headerBytes, [blob.shards[0]!, notAShard]), StorageErrorCode.INVALID_SHARD)
    await expectCode(
      store.putBlob(blob.headerBytes, pick(blob, [0]), { retentionMs: 0 }),
      StorageErrorCode.INVALID_OPTIONS,
    )
    expect(await store.hasBlob(blob.blobId)).toBe(false)
    expect(store.stats()).toMatchObject({ blobs: 0, shards: 0, bytes: 0 })
  })

  it('stores concurrent puts of different blobs, each complete', async () => {
    const blobs = Array.from({ length: 12 }, (_, i) => makeBlob({ k: 3, n: 9, dataSize: 500 + i * 100 }))
    const results = await Promise.all(blobs.map((b, i) => store.putBlob(b.headerBytes, pick(b, range(0, 1 + (i % 9))))))
    expect(results.every((r) => r.stored)).toBe(true)
    for (const [i, b] of blobs.entries()) {
      expect((await store.getAllShards(b.blobId)).length).toBe(1 + (i % 9))
    }
    const report = await store.check()
    expect(report.ok).toBe(true)
    expect(report.blobs).toBe(12)
  })

  it('stores a blob once when the same put races with itself', async () => {
    const blob = makeBlob()
    const results = await Promise.all(range(0, 5).map(() => store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]))))
    expect(results.filter((r) => r.stored)).toHaveLength(1)
    expect(store.stats()).toMatchObject({ blobs: 1, shards: 3 })
    expect((await store.check()).usage.consistent).toBe(true)
  })

  it('keeps everything across close and reopen', async () => {
    const blob = makeBlob({ k: 8, n: 24, dataSize: 20_000 })
    await store.putBlob(blob.headerBytes, pick(blob, range(4, 12)))
    const stats = store.stats()
    await store.close()
    store = await ShardStore.open(dir, { backgroundPrune: false })
    expect(store.stats()).toMatchObject({ blobs: stats.blobs, shards: stats.shards, bytes: stats.bytes })
    expect((await store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual(range(4, 12))
  })

  it('lists blobs in pages', async () => {
    const blobs = Array.from({ length: 7 }, () => makeBlob({ dataSize: 100 }))
    for (const b of blobs) await store.putBlob(b.headerBytes, pick(b, [0]))
    const first = await store.listBlobs({ limit: 3 })
    const second = await store.listBlobs({ after: first.at(-1)!, limit: 3 })
    const third = await store.listBlobs({ after: second.at(-1)!, limit: 3 })
    const listed = [...first, ...second, ...third].map((id) => id.toString())
    expect(listed).toHaveLength(7)
    expect(new Set(listed)).toEqual(new Set(blobs.map((b) => b.blobId.toString())))
    await expectCode(store.listBlobs({ limit: 0 }), StorageErrorCode.INVALID_OPTIONS)
  })

  it('refuses operations after close', async () => {
    const blob = makeBlob()
    await store.close()
    await expectCode(store.putBlob(blob.headerBytes, pick(blob, [0])), StorageErrorCode.CLOSED)
    await expectCode(store.getShard(blob.blobId, 0), StorageErrorCode.CLOSED)
    store = await ShardStore.open(dir, { backgroundPrune: false })
  })
})

describe('ShardStore point-read modes', () => {
  it('serves the same verified shards to synchronous reads of recent blobs and asynchronous reads of older ones', async () => {
    const { dir, cleanup } = await tempDir()
    let clock = 1_000_000
    const store = await ShardStore.open(dir, { backgroundPrune: false, now: () => clock, syncReadWindowMs: 60_000 })
    try {
      const blob = makeBlob({ k: 4, n: 8, dataSize: 2048 })
      await store.putBlob(blob.headerBytes, pick(blob, [0, 2, 5]))
      const recentOne = await store.getShard(blob.blobId, 2)
      const recentMany = await store.getShards(blob.blobId, [5, 0, 1])
      clock += 60_000
      expect(await store.getShard(blob.blobId, 2)).toEqual(recentOne)
      expect(await store.getShards(blob.blobId, [5, 0, 1])).toEqual(recentMany)
      expect(bytesEqual(recentOne!.data, blob.shards[2]!.data)).toBe(true)
      expect(bytesEqual(recentOne!.proof, blob.shards[2]!.proof)).toBe(true)
      expect(recentMany.map((s) => s.index)).toEqual([5, 0])
    } finally {
      await store.close()
      await cleanup()
    }
  })

  it('refuses an unknown read mode or window, and a prune interval no timer can hold', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      await expectCode(
        ShardStore.open(dir, { syncReads: 'sometimes' as unknown as boolean }),
        StorageErrorCode.INVALID_OPTIONS,
      )
      await expectCode(ShardStore.open(dir, { syncReadWindowMs: -1 }), StorageErrorCode.INVALID_OPTIONS)
      // A default retention past a hundred years would fail every store that does not give its own.
      await expectCode(ShardStore.open(dir, { retentionMs: MAX_RETENTION_MS + 1 }), StorageErrorCode.INVALID_OPTIONS)
      // Past 2^31 - 1 ms a timer fires at once: the pruner would run without pause.
      await expectCode(ShardStore.open(dir, { pruneIntervalMs: 2 ** 31 }), StorageErrorCode.INVALID_OPTIONS)
    } finally {
      await cleanup()
    }
  })
})
