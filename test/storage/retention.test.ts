import { describe, expect, it } from 'vitest'
import { isDacnetError } from '../../src/errors.ts'
import { DEFAULT_RETENTION_MS, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, pick, range } from './fixtures/blobs.ts'
import { clockedStore } from './fixtures/clocked-store.ts'

const HOUR = 3_600_000

describe('retention and pruning', () => {
  const t = clockedStore()

  it('expires blobs at t.store time plus retention (default 14 days, per-blob override)', async () => {
    const long = makeBlob()
    const short = makeBlob()
    await t.store.putBlob(long.headerBytes, pick(long, [0, 1]))
    await t.store.putBlob(short.headerBytes, pick(short, [0, 1]), { retentionMs: HOUR })
    expect((await t.store.getBlobInfo(long.blobId))?.expiresAt).toBe(t.clock.now() + DEFAULT_RETENTION_MS)

    t.clock.advance(HOUR - 1)
    expect(await t.store.prune()).toEqual({ blobs: 0, entries: 0 })
    t.clock.advance(1)
    expect((await t.store.prune()).blobs).toBe(1)
    expect(await t.store.hasBlob(short.blobId)).toBe(false)
    expect(await t.store.hasBlob(long.blobId)).toBe(true)

    t.clock.advance(DEFAULT_RETENTION_MS)
    expect((await t.store.prune()).blobs).toBe(1)
    expect(t.store.stats()).toMatchObject({ blobs: 0, shards: 0, bytes: 0 })
    const report = await t.store.check()
    expect(report.ok).toBe(true)
    expect(report.usage.scanned.bytes).toBe(0)
  })

  it('prunes in bounded batches; the blob is invisible and unattested from the first batch on', async () => {
    const blob = makeBlob({ k: 8, n: 24 })
    const other = makeBlob()
    await t.store.putBlob(blob.headerBytes, pick(blob, range(0, 20)), { retentionMs: HOUR })
    await t.store.putAttestation(blob.blobId, new Uint8Array(96).fill(9))
    await t.store.putCertificate(blob.blobId, new Uint8Array(200))
    await t.store.putBlob(other.headerBytes, pick(other, [3]))
    t.clock.advance(HOUR)

    const first = await t.store.prune({ maxBatches: 1 })
    expect(first.blobs).toBe(0)
    expect(await t.store.hasBlob(blob.blobId)).toBe(false)
    expect(await t.store.getShard(blob.blobId, 0)).toBeUndefined()
    expect(await t.store.getAttestation(blob.blobId)).toBeUndefined()
    expect(await t.store.getCertificate(blob.blobId)).toBeUndefined()
    // A new t.store of the blob must wait until pruning is done, or the pruner would delete it.
    const again = await t.store.putBlob(blob.headerBytes, pick(blob, [0])).catch((e: unknown) => e)
    expect(isDacnetError(again, StorageErrorCode.BLOB_EXPIRED)).toBe(true)

    const mid = await t.store.check()
    expect(mid).toMatchObject({ ok: true, pruningBlobs: 1, blobs: 1 })
    expect(mid.attestedMissingShards.count).toBe(0)

    const rest = await t.store.prune()
    expect(rest.blobs).toBe(1)
    // 20 shards at 4 per batch, plus the record, attestation, certificate and expiry entry.
    expect(first.entries + rest.entries).toBeGreaterThanOrEqual(24)
    expect(await t.store.hasBlob(other.blobId)).toBe(true)
    expect(await t.store.putBlob(blob.headerBytes, pick(blob, [0]))).toMatchObject({ stored: true })
  })

  it('resumes an interrupted prune after a restart', async () => {
    const blob = makeBlob({ k: 6, n: 18 })
    await t.store.putBlob(blob.headerBytes, pick(blob, range(0, 18)), { retentionMs: HOUR })
    await t.store.putAttestation(blob.blobId, new Uint8Array(96))
    t.clock.advance(HOUR)
    await t.store.prune({ maxBatches: 2 })
    expect(t.store.stats().shards).toBeGreaterThan(0)
    await t.store.close()

    // The background pruner's first run, right after open, finishes the job.
    t.store = await t.open({ backgroundPrune: true, pruneIntervalMs: 60_000 })
    for (let i = 0; i < 400 && t.store.stats().prune.lastRunAt === undefined; i++) {
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(t.store.stats()).toMatchObject({ blobs: 0, shards: 0, bytes: 0 })
    expect(t.store.stats().prune.blobsPruned).toBe(1)
    expect((await t.store.check()).ok).toBe(true)
  })

  it('refuses attestations for expired blobs', async () => {
    const blob = makeBlob()
    await t.store.putBlob(blob.headerBytes, pick(blob, [0]), { retentionMs: HOUR })
    t.clock.advance(HOUR)
    const err = await t.store.putAttestation(blob.blobId, new Uint8Array(96)).catch((e: unknown) => e)
    expect(isDacnetError(err, StorageErrorCode.BLOB_EXPIRED)).toBe(true)
    expect(await t.store.hasBlob(blob.blobId)).toBe(true)
    expect((await t.store.check()).expiredBlobs).toBe(1)
  })

  it('serves reads of other blobs while a large prune runs', async () => {
    const big = makeBlob({ k: 32, n: 96, dataSize: 32 * 64 })
    const kept = makeBlob()
    await t.store.putBlob(big.headerBytes, big.shards, { retentionMs: HOUR })
    await t.store.putBlob(kept.headerBytes, pick(kept, [1]))
    t.clock.advance(HOUR)
    const pruning = t.store.prune()
    // Reads do not queue behind prune batches.
    expect((await t.store.getShard(kept.blobId, 1))?.index).toBe(1)
    expect(t.store.stats().prune.running).toBe(true)
    await pruning
    expect(t.store.stats().shards).toBe(1)
  })
})
