import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isDacnetError } from '../../src/errors.ts'
import { DEFAULT_RETENTION_MS, ShardStore, type ShardStoreOptions, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, pick, range } from './fixtures/blobs.ts'
import { manualClock, tempDir } from './fixtures/temp.ts'

const HOUR = 3_600_000

describe('retention and pruning', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let clock: ReturnType<typeof manualClock>
  let store: ShardStore
  const open = (opts: ShardStoreOptions = {}) =>
    ShardStore.open(dir, { backgroundPrune: false, now: clock.now, pruneBatchEntries: 4, ...opts })

  beforeEach(async () => {
    ;({ dir, cleanup } = await tempDir())
    clock = manualClock()
    store = await open()
  })
  afterEach(async () => {
    await store.close()
    await cleanup()
  })

  it('expires blobs at store time plus retention (default 14 days, per-blob override)', async () => {
    const long = makeBlob()
    const short = makeBlob()
    await store.putBlob(long.headerBytes, pick(long, [0, 1]))
    await store.putBlob(short.headerBytes, pick(short, [0, 1]), { retentionMs: HOUR })
    expect((await store.getBlobInfo(long.blobId))?.expiresAt).toBe(clock.now() + DEFAULT_RETENTION_MS)

    clock.advance(HOUR - 1)
    expect(await store.prune()).toEqual({ blobs: 0, entries: 0 })
    clock.advance(1)
    expect((await store.prune()).blobs).toBe(1)
    expect(await store.hasBlob(short.blobId)).toBe(false)
    expect(await store.hasBlob(long.blobId)).toBe(true)

    clock.advance(DEFAULT_RETENTION_MS)
    expect((await store.prune()).blobs).toBe(1)
    expect(store.stats()).toMatchObject({ blobs: 0, shards: 0, bytes: 0 })
    const report = await store.check()
    expect(report.ok).toBe(true)
    expect(report.usage.scanned.bytes).toBe(0)
  })

  it('prunes in bounded batches; the blob is invisible and unattested from the first batch on', async () => {
    const blob = makeBlob({ k: 8, n: 24 })
    const other = makeBlob()
    await store.putBlob(blob.headerBytes, pick(blob, range(0, 20)), { retentionMs: HOUR })
    await store.putAttestation(blob.blobId, new Uint8Array(96).fill(9))
    await store.putCertificate(blob.blobId, new Uint8Array(200))
    await store.putBlob(other.headerBytes, pick(other, [3]))
    clock.advance(HOUR)

    const first = await store.prune({ maxBatches: 1 })
    expect(first.blobs).toBe(0)
    expect(await store.hasBlob(blob.blobId)).toBe(false)
    expect(await store.getShard(blob.blobId, 0)).toBeUndefined()
    expect(await store.getAttestation(blob.blobId)).toBeUndefined()
    expect(await store.getCertificate(blob.blobId)).toBeUndefined()
    // A new store of the blob must wait until pruning is done, or the pruner would delete it.
    const again = await store.putBlob(blob.headerBytes, pick(blob, [0])).catch((e: unknown) => e)
    expect(isDacnetError(again, StorageErrorCode.BLOB_EXPIRED)).toBe(true)

    const mid = await store.check()
    expect(mid).toMatchObject({ ok: true, pruningBlobs: 1, blobs: 1 })
    expect(mid.attestedMissingShards.count).toBe(0)

    const rest = await store.prune()
    expect(rest.blobs).toBe(1)
    // 20 shards at 4 per batch, plus the record, attestation, certificate and expiry entry.
    expect(first.entries + rest.entries).toBeGreaterThanOrEqual(24)
    expect(await store.hasBlob(other.blobId)).toBe(true)
    expect(await store.putBlob(blob.headerBytes, pick(blob, [0]))).toMatchObject({ stored: true })
  })

  it('resumes an interrupted prune after a restart', async () => {
    const blob = makeBlob({ k: 6, n: 18 })
    await store.putBlob(blob.headerBytes, pick(blob, range(0, 18)), { retentionMs: HOUR })
    await store.putAttestation(blob.blobId, new Uint8Array(96))
    clock.advance(HOUR)
    await store.prune({ maxBatches: 2 })
    expect(store.stats().shards).toBeGreaterThan(0)
    await store.close()

    // The background pruner's first run, right after open, finishes the job.
    store = await open({ backgroundPrune: true, pruneIntervalMs: 60_000 })
    for (let i = 0; i < 400 && store.stats().prune.lastRunAt === undefined; i++) {
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(store.stats()).toMatchObject({ blobs: 0, shards: 0, bytes: 0 })
    expect(store.stats().prune.blobsPruned).toBe(1)
    expect((await store.check()).ok).toBe(true)
  })

  it('refuses attestations for expired blobs', async () => {
    const blob = makeBlob()
    await store.putBlob(blob.headerBytes, pick(blob, [0]), { retentionMs: HOUR })
    clock.advance(HOUR)
    const err = await store.putAttestation(blob.blobId, new Uint8Array(96)).catch((e: unknown) => e)
    expect(isDacnetError(err, StorageErrorCode.BLOB_EXPIRED)).toBe(true)
    expect(await store.hasBlob(blob.blobId)).toBe(true)
    expect((await store.check()).expiredBlobs).toBe(1)
  })

  it('serves reads of other blobs while a large prune runs', async () => {
    const big = makeBlob({ k: 32, n: 96, dataSize: 32 * 64 })
    const kept = makeBlob()
    await store.putBlob(big.headerBytes, big.shards, { retentionMs: HOUR })
    await store.putBlob(kept.headerBytes, pick(kept, [1]))
    clock.advance(HOUR)
    const pruning = store.prune()
    // Reads do not queue behind prune batches.
    expect((await store.getShard(kept.blobId, 1))?.index).toBe(1)
    expect(store.stats().prune.running).toBe(true)
    await pruning
    expect(store.stats().shards).toBe(1)
  })
})
