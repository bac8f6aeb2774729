import { blobIdKey } from './codec.ts'
import { ShardVerifier } from './commitment.ts'
import { CorruptValue } from './corruption.ts'
import type { BatchOp, RawDb } from './db.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { type CachedBlob, HeaderCache } from './header-cache.ts'
import type { ResolvedOptions } from './options.ts'
import { corruptError, quarantine, quarantineLocked } from './quarantine.ts'
import { type BlobRecord, BlobRepository, BlobState } from './repositories/blobs.ts'
import { ExpiryRepository } from './repositories/expiry.ts'
import { MetaRepository } from './repositories/meta.ts'
import { AttestationRepository, CertificateRepository } from './repositories/opaque.ts'
import { QuarantineRepository } from './repositories/quarantine.ts'
import { ShardRepository } from './repositories/shards.ts'
import { applyDelta, type Usage, type UsageDelta } from './usage.ts'
import { WriteQueue } from './write-queue.ts'

export interface Repositories {
  meta: MetaRepository
  blobs: BlobRepository
  shards: ShardRepository
  attestations: AttestationRepository
  certificates: CertificateRepository
  expiry: ExpiryRepository
  quarantine: QuarantineRepository
}

export function repositoriesOf(db: RawDb): Repositories {
  return {
    meta: new MetaRepository(db),
    blobs: new BlobRepository(db),
    shards: new ShardRepository(db),
    attestations: new AttestationRepository(db),
    certificates: new CertificateRepository(db),
    expiry: new ExpiryRepository(db),
    quarantine: new QuarantineRepository(db),
  }
}

/**
 * The state every store operation shares: the database, its repositories, the write queue, the header cache
 * and the usage counters. Operations live in their own files and take the core as their first argument.
 */
export class StoreCore {
  readonly db: RawDb
  readonly dir: string
  readonly opts: ResolvedOptions
  readonly repos: Repositories
  readonly writer: WriteQueue
  readonly cache: HeaderCache
  /** Proof checks of stored and read shards, remembering proofs that held (the integrity check verifies in full). */
  readonly verifier: ShardVerifier
  /** Counters as of the last committed batch; replaced, never mutated, so readers see a consistent object. */
  usage: Usage
  closed = false

  constructor(db: RawDb, dir: string, opts: ResolvedOptions, usage: Usage) {
    this.db = db
    this.dir = dir
    this.opts = opts
    this.repos = repositoriesOf(db)
    this.writer = new WriteQueue(opts.maxPendingWrites)
    this.cache = new HeaderCache(opts.headerCacheEntries)
    this.verifier = new ShardVerifier(opts.verifiedProofEntries)
    this.usage = usage
  }

  assertOpen(): void {
    if (this.closed) throw storageError(StorageErrorCode.CLOSED, `shard store at ${this.dir} is closed`)
  }

  /**
   * Commits `ops` plus the updated usage counters as one atomic batch. Only called from inside a write-queue
   * task, so batches commit in the order their deltas were computed.
   */
  async commit(ops: BatchOp[], delta: UsageDelta, sync: boolean): Promise<void> {
    const next = applyDelta(this.usage, delta)
    ops.push(this.repos.meta.usageOp(next))
    await this.db.batch(ops, { sync })
    this.usage = next
  }

  /**
   * The header of a blob that can be read: in state `stored`. Served from the cache when possible. A damaged
   * record is quarantined and raises STORAGE_CORRUPT_ENTRY.
   */
  async readableBlob(blobId: Uint8Array): Promise<CachedBlob | undefined> {
    const cacheKey = blobIdKey(blobId)
    const hit = this.cache.get(cacheKey)
    if (hit !== undefined) return hit
    const generation = this.cache.generation
    const { blobs } = this.repos
    const key = blobs.key(blobId)
    let value: Uint8Array | undefined
    try {
      value = await blobs.getRaw(key)
      if (value === undefined) return undefined
      const record = blobs.decode(blobId, value)
      if (record.state !== BlobState.stored) return undefined
      const entry: CachedBlob = {
        header: record.header,
        headerBytes: record.headerBytes,
        storedAt: record.storedAt,
        expiresAt: record.expiresAt,
      }
      if (this.cache.generation === generation) this.cache.set(cacheKey, entry)
      return entry
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      throw await quarantine(this, { key, blobId, reason: err.reason, detail: err.message, badValue: value })
    }
  }

  /**
   * The record as a write task sees it. A damaged record is quarantined on the spot (the caller already holds
   * the write queue) and raises STORAGE_CORRUPT_ENTRY.
   */
  async recordLocked(blobId: Uint8Array): Promise<BlobRecord | undefined> {
    const { blobs } = this.repos
    const key = blobs.key(blobId)
    let value: Uint8Array | undefined
    try {
      value = await blobs.getRaw(key)
      return value === undefined ? undefined : blobs.decode(blobId, value)
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      const target = { key, blobId, reason: err.reason, detail: err.message, badValue: value }
      throw corruptError(this, target, await quarantineLocked(this, target))
    }
  }
}
