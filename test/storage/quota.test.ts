import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isDacnetError } from '../../src/errors.ts'
import { ShardStore, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, pick, range } from './fixtures/blobs.ts'
import { blobRecordKey } from './fixtures/raw-keys.ts'
import { manualClock, openRaw, tempDir } from './fixtures/temp.ts'

describe('disk quota', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let store: ShardStore | undefined

  beforeEach(async () => {
    ;({ dir, cleanup } = await tempDir())
  })
  afterEach(async () => {
    await store?.close()
    await cleanup()
  })

  it('counts logical bytes exactly: the running total equals the sum of keys and values', async () => {
    store = await ShardStore.open(dir, { backgroundPrune: false })
    const blob = makeBlob({ k: 4, n: 12, dataSize: 4000 })
    await store.putBlob(blob.headerBytes, pick(blob, [0, 5, 11]))
    await store.putAttestation(blob.blobId, new Uint8Array(96))
    const report = await store.check()
    expect(report.usage.consistent).toBe(true)
    expect(report.usage.recorded.bytes).toBe(report.usage.scanned.bytes)
    // Three shards of 1024 bytes plus their proofs dominate the total.
    expect(store.stats().bytes).toBeGreaterThan(3 * 1024)
  })

  it('counts an expiry entry once when a blob whose record was quarantined is stored again at the same expiry', async () => {
    const clock = manualClock()
    const blob = makeBlob()
    const open = () => ShardStore.open(dir, { backgroundPrune: false, now: clock.now })
    store = await open()
    await store.putBlob(blob.headerBytes, pick(blob, [0, 1]))
    await store.close()
    // The record no longer hashes to its id: the next read quarantines it; the expiry entry stays.
    const raw = await openRaw(dir)
    const value = (await raw.get(blobRecordKey(blob.blobId)))!.slice()
    value[value.length - 1]! ^= 0xff
    await raw.put(blobRecordKey(blob.blobId), value)
    await raw.close()
    store = await open()
    await expect(store.getShard(blob.blobId, 0)).rejects.toMatchObject({ code: StorageErrorCode.CORRUPT_ENTRY })
    // Same clock, same retention: the new record's expiry entry has the old entry's key.
    await store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]))
    const report = await store.check()
    expect(report.usage.consistent, JSON.stringify(report.usage)).toBe(true)
    expect(report.ok).toBe(true)
  })

  it('refuses a store that would pass the quota, writes nothing, and keeps serving reads', async () => {
    const clock = manualClock()
    const first = makeBlob({ k: 4, n: 8, dataSize: 4096 })
    const second = makeBlob({ k: 4, n: 8, dataSize: 4096 })
    // Room for the first blob's 4 shards (each 1024 + proof + key) but not for the second's.
    store = await ShardStore.open(dir, { backgroundPrune: false, quotaBytes: 6000, now: clock.now })
    await store.putBlob(first.headerBytes, pick(first, range(0, 4)), { retentionMs: 1000 })
    const used = store.stats().bytes
    expect(used).toBeLessThanOrEqual(6000)

    const err = await store.putBlob(second.headerBytes, pick(second, range(0, 4))).catch((e: unknown) => e)
    expect(isDacnetError(err, StorageErrorCode.QUOTA_EXCEEDED)).toBe(true)
    expect((err as { meta: Record<string, unknown> }).meta).toMatchObject({ usedBytes: used, quotaBytes: 6000 })
    expect(store.stats().bytes).toBe(used)
    expect(await store.hasBlob(second.blobId)).toBe(false)
    expect((await store.getAllShards(first.blobId)).length).toBe(4)
    expect((await store.check()).ok).toBe(true)

    // Adding shards to a held blob is a store too.
    const more = await store.putBlob(first.headerBytes, pick(first, range(4, 8))).catch((e: unknown) => e)
    expect(isDacnetError(more, StorageErrorCode.QUOTA_EXCEEDED)).toBe(true)

    // Pruning releases the space.
    clock.advance(1000)
    await store.prune()
    expect(store.stats().bytes).toBe(0)
    expect(await store.putBlob(second.headerBytes, pick(second, range(0, 4)))).toMatchObject({ stored: true })
  })

  it('keeps the running total across restarts', async () => {
    store = await ShardStore.open(dir, { backgroundPrune: false, quotaBytes: 10_000 })
    const blob = makeBlob({ k: 4, n: 8, dataSize: 4096 })
    await store.putBlob(blob.headerBytes, pick(blob, range(0, 4)))
    const used = store.stats().bytes
    await store.close()
    store = await ShardStore.open(dir, { backgroundPrune: false, quotaBytes: 10_000 })
    expect(store.stats().bytes).toBe(used)
    const next = makeBlob({ k: 4, n: 8, dataSize: 4096 })
    const err = await store.putBlob(next.headerBytes, pick(next, range(0, 8))).catch((e: unknown) => e)
    expect(isDacnetError(err, StorageErrorCode.QUOTA_EXCEEDED)).toBe(true)
  })

  it('under 10x over-submission, all at once: stores within the quota, refuses the rest cleanly, reads on, intact after restart', async () => {
    const QUOTA = 64 * 1024
    const blobs = Array.from({ length: 40 }, () => makeBlob({ k: 4, n: 8, dataSize: 16 * 1024 }))
    // Each store is 8 shards of 4 KiB with proofs: about 33 KiB, so 40 of them are about 20x the quota.
    store = await ShardStore.open(dir, { backgroundPrune: false, quotaBytes: QUOTA })
    const outcomes = await Promise.allSettled(blobs.map((b) => store!.putBlob(b.headerBytes, pick(b, range(0, 8)))))
    const stored = blobs.filter((_, i) => outcomes[i]!.status === 'fulfilled')
    const refused = outcomes.filter((o) => o.status === 'rejected')
    expect(stored.length).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(stored.length * 5)
    for (const o of refused) {
      expect(isDacnetError((o as PromiseRejectedResult).reason, StorageErrorCode.QUOTA_EXCEEDED)).toBe(true)
    }
    expect(store.stats().bytes).toBeLessThanOrEqual(QUOTA)
    // Everything stored reads back whole; nothing refused left a trace.
    for (const b of stored) expect((await store.getShards(b.blobId, range(0, 8))).length).toBe(8)
    for (const b of blobs.filter((x) => !stored.includes(x))) expect(await store.hasBlob(b.blobId)).toBe(false)
    await store.close()
    store = await ShardStore.open(dir, { backgroundPrune: false, quotaBytes: QUOTA })
    const report = await store.check()
    expect(report.ok, JSON.stringify(report)).toBe(true)
    expect(report.usage.consistent).toBe(true)
    expect(store.stats().bytes).toBeLessThanOrEqual(QUOTA)
    for (const b of stored) expect((await store.getShards(b.blobId, range(0, 8))).length).toBe(8)
  })
})
