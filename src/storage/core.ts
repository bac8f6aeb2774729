import { blobIdKey } from './codec.ts'
import { ShardVerifier } from './commitment.ts'
import { GroupCommitter } from './committer.ts'
import { CorruptValue } from './corruption.ts'
import { type BatchOp, type LevelBatch, openBatch, type RawDb } from './db.ts'
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
import type { Usage, UsageDelta } from './usage.ts'
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

/** What a blob write task plans: its result, and the batch to commit (none when there is nothing to write). */
export interface BlobWritePlan<T> {
  result: T
  batch?: {
    ops: BatchOp[]
    delta: UsageDelta
    /** Runs as the first reaction to the commit, before any later write task (e.g. to fill a cache). */
    onCommitted?: () => void
    /**
     * Runs as the batch is submitted, synchronously with its ops' going into LevelDB's batch; throwing refuses the
     * write (see GroupCommitter.submit). A store verifies its shards here: what it verified is what is written.
     */
    check?: () => void
    /** A LevelDB batch already holding some of the write (a blob intake's shards): the ops go into it. */
    into?: LevelBatch
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
  /** Commits planned batches in order, several at once when they queue up behind a write (group commit). */
  readonly committer: GroupCommitter
  closed = false

  constructor(db: RawDb, dir: string, opts: ResolvedOptions, usage: Usage) {
    this.db = db
    this.dir = dir
    this.opts = opts
    this.repos = repositoriesOf(db)
    this.committer = new GroupCommitter(
      () => openBatch(db),
      (next) => this.repos.meta.usageOp(next),
      usage,
    )
    this.writer = new WriteQueue(opts.maxPendingWrites, () => this.committer.pending)
    this.cache = new HeaderCache(opts.headerCacheEntries)
    this.verifier = new ShardVerifier(opts.verifiedProofEntries)
  }

  /** Counters as of the last committed batch; replaced, never mutated, so readers see a consistent object. */
  get usage(): Usage {
    return this.committer.usage
  }

  /** A LevelDB batch for a blob intake to fill, later committed through `blobWrite` (its plan's `into`). */
  openIntakeBatch(): LevelBatch {
    return openBatch(this.db)
  }

  assertOpen(): void {
    if (this.closed) throw storageError(StorageErrorCode.CLOSED, `shard store at ${this.dir} is closed`)
  }

  /**
   * A write task that sees every batch planned before it on disk (it runs in the write queue once the committer
   * is idle). For tasks that may touch any blob: prune steps and quarantines; blob writes use `blobWrite`. Not
   * refused when the queue is full (stores at `maxPendingWrites` would otherwise keep expired data on disk).
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.writer.run(
      async () => {
        await this.committer.idle()
        this.assertOpen()
        return task()
      },
      { unbounded: true },
    )
  }

  /**
   * A write task that touches one blob's entries only (a store, an attestation, a certificate; `blobKey` is its
   * id as a latin1 string, see blobIdKey). It waits for the
   * committer only while a batch of the same blob is in flight, and leaves the write queue as soon as its batch is
   * submitted, so the next task plans while this one is written; the promise resolves once it is on disk.
   */
  async blobWrite<T>(blobKey: string, plan: () => Promise<BlobWritePlan<T>>): Promise<T> {
    const planned = await this.writer.run(async () => {
      this.assertOpen()
      // A batch of this blob still on its way to disk is not visible to the plan's reads: let it land first.
      if (this.committer.holds(blobKey)) await this.committer.idle()
      const { result, batch } = await plan()
      if (batch === undefined) return { result }
      const committed = this.committer
        .submit(batch.ops, batch.delta, blobKey, batch.check, batch.into)
        .then(batch.onCommitted)
      committed.catch(() => undefined) // awaited below; never an unhandled rejection in between
      return { result, committed }
    })
    await planned.committed
    return planned.result
  }

  /**
   * Commits `ops` plus the updated usage counters as one atomic batch written with sync, possibly together with
   * batches of other blobs (never split). Called from inside a write-queue task, so batches commit in the order
   * they were planned.
   */
  commit(ops: BatchOp[], delta: UsageDelta): Promise<void> {
    return this.committer.submit(ops, delta)
  }

  /**
   * The header of a blob that can be read: in state `stored`. Served from the cache when possible. A damaged
   * record is quarantined and raises STORAGE_CORRUPT_ENTRY.
   */
  async readableBlob(blobId: Uint8Array, cacheKey = blobIdKey(blobId)): Promise<CachedBlob | undefined> {
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
        shardsByExpiry: record.shardsByExpiry,
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
