import { mkdir } from 'node:fs/promises'
import { BLOB_ID_SIZE, type BlobId, parseBlobId } from '../erasure/blob-id.ts'
import type { BlobHeader } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { BlobIntake, type IntakeOptions } from './blob-intake.ts'
import { putAttestation, putCertificate } from './blob-records.ts'
import { Bucket, bucketRange } from './buckets.ts'
import { checkStore } from './check.ts'
import type { CheckOptions, IntegrityReport } from './check-report.ts'
import { blobIdKey, concatBytes } from './codec.ts'
import { StoreCore } from './core.ts'
import { CorruptValue } from './corruption.ts'
import { openLevel } from './db.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { resolveOptions, type ShardStoreOptions } from './options.ts'
import { type PruneProgress, type PruneResult, Pruner } from './pruner.ts'
import { type PutBlobOptions, type PutBlobResult, putBlob } from './put-blob.ts'
import { type BlobRecord, BlobState, rawRecordState } from './repositories/blobs.ts'
import { MetaRepository } from './repositories/meta.ts'
import { shardPlace } from './repositories/shards.ts'
import { openSchema } from './schema.ts'
import { getAllShards, getShard, getShards } from './shard-reader.ts'
import type { Usage } from './usage.ts'

/** Blob ids listed per call at most: listing is paged so that it never loads the whole store. */
export const MAX_LIST_BLOBS = 10_000
export const DEFAULT_LIST_BLOBS = 1_000

export interface BlobInfo {
  blobId: BlobId
  header: BlobHeader
  headerBytes: Uint8Array
  storedAt: number
  expiresAt: number
  shardCount: number
}

export interface StoreStats extends Usage {
  quotaBytes: number
  /** Writes queued, being planned, or submitted and not yet on disk (what `maxPendingWrites` bounds). */
  pendingWrites: number
  prune: PruneProgress
}

/**
 * A committee member's durable shard store (LevelDB). `putBlob` resolves only once the node's shards, their
 * proofs, the header and the expiry entry are fsynced in one atomic batch: that is the moment the node may sign.
 * Reads re-verify every proof; corrupt entries are quarantined, never served. Expired blobs are pruned in the
 * background, the logical size is bounded by a quota, and `check()` re-verifies everything for operators.
 * Layout and accounting: docs/STORAGE.md.
 */
export class ShardStore {
  readonly #core: StoreCore
  readonly #pruner: Pruner

  private constructor(core: StoreCore) {
    this.#core = core
    this.#pruner = new Pruner(core)
  }

  /** Opens (or, unless `createIfMissing: false`, creates) the store in `dir` and starts the pruner. */
  static async open(dir: string, options: ShardStoreOptions = {}): Promise<ShardStore> {
    const opts = resolveOptions(options)
    if (opts.createIfMissing) await mkdir(dir, { recursive: true })
    const db = await openLevel(dir, {
      createIfMissing: opts.createIfMissing,
      writeBufferBytes: opts.writeBufferBytes,
      blockCacheBytes: opts.blockCacheBytes,
      maxFileBytes: opts.maxFileBytes,
    })
    let usage: Usage
    try {
      usage = await openSchema(db, dir, new MetaRepository(db))
    } catch (err) {
      await db.close()
      throw err
    }
    const store = new ShardStore(new StoreCore(db, dir, opts, usage))
    if (opts.backgroundPrune) store.#pruner.start()
    return store
  }

  get dir(): string {
    return this.#core.dir
  }

  /** Verifies and durably stores this node's shards of a blob; see PutBlobResult for re-stores. */
  async putBlob(
    headerBytes: Uint8Array,
    shards: readonly ShardWithProof[],
    opts?: PutBlobOptions,
  ): Promise<PutBlobResult> {
    return putBlob(this.#core, headerBytes, shards, opts)
  }

  /**
   * Opens an intake for one blob's shards, which takes them as they arrive and writes them at its commit: what a
   * member receiving a share uses, so that the received buffers need not wait for the whole share (BlobIntake).
   */
  async openIntake(headerBytes: Uint8Array, opts?: IntakeOptions): Promise<BlobIntake> {
    return BlobIntake.open(this.#core, headerBytes, opts)
  }

  /** One shard with its proof, re-verified; undefined if not held. */
  async getShard(blobId: BlobId, index: number): Promise<ShardWithProof | undefined> {
    this.#core.assertOpen()
    return getShard(this.#core, idBytes(blobId), index)
  }

  /** The requested shards that are held, in request order, each re-verified. */
  async getShards(blobId: BlobId, indices: readonly number[]): Promise<ShardWithProof[]> {
    this.#core.assertOpen()
    return getShards(this.#core, idBytes(blobId), indices)
  }

  /** Every shard held for the blob, in index order, each re-verified. */
  async getAllShards(blobId: BlobId): Promise<ShardWithProof[]> {
    this.#core.assertOpen()
    return getAllShards(this.#core, idBytes(blobId))
  }

  /**
   * Indices of the shards held for the blob, ascending, without reading their bytes (so a holder can stream
   * a blob one shard at a time). Empty if the blob is not held.
   */
  async listShardIndices(blobId: BlobId): Promise<number[]> {
    this.#core.assertOpen()
    const id = idBytes(blobId)
    const blob = await this.#core.readableBlob(id)
    if (blob === undefined) return []
    const { shards } = this.#core.repos
    const place = shardPlace(id, blob)
    try {
      return await shards.indicesOf(place, blob.header.n)
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      // A damaged block under the blob's shards fails the range scan; the shards outside it are still good to
      // serve. Their reads check each one (and quarantine the damaged ones as they meet them).
      return (await shards.indicesByPoint(place, blob.header.n)).held
    }
  }

  async getHeader(blobId: BlobId): Promise<BlobHeader | undefined> {
    this.#core.assertOpen()
    return (await this.#core.readableBlob(idBytes(blobId)))?.header
  }

  /** True if the blob is held and readable (stored, not being pruned). */
  async hasBlob(blobId: BlobId): Promise<boolean> {
    this.#core.assertOpen()
    return (await this.#core.readableBlob(idBytes(blobId))) !== undefined
  }

  /** The blob's record: header, times and the number of shards held. */
  async getBlobInfo(blobId: BlobId): Promise<BlobInfo | undefined> {
    this.#core.assertOpen()
    const id = idBytes(blobId)
    if ((await this.#core.readableBlob(id)) === undefined) return undefined
    let record: BlobRecord | undefined
    try {
      record = await this.#core.repos.blobs.get(id)
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      // The cached header hid a record that went bad on disk: read it afresh, which quarantines it and raises
      // STORAGE_CORRUPT_ENTRY like any other read of a damaged record.
      this.#core.cache.delete(blobIdKey(id))
      await this.#core.readableBlob(id)
      return undefined
    }
    if (record === undefined || record.state !== BlobState.stored) return undefined
    const { header, headerBytes, storedAt, expiresAt, shardCount } = record
    return { blobId, header, headerBytes, storedAt, expiresAt, shardCount }
  }

  /** Ids of held blobs in blob-id byte order, after `after` if given; at most `limit` (<= MAX_LIST_BLOBS). */
  async listBlobs(opts: { after?: BlobId; limit?: number } = {}): Promise<BlobId[]> {
    this.#core.assertOpen()
    const limit = opts.limit ?? DEFAULT_LIST_BLOBS
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_BLOBS) {
      throw storageError(StorageErrorCode.INVALID_OPTIONS, `limit must be 1..${MAX_LIST_BLOBS}`, { limit })
    }
    const { blobs } = this.#core.repos
    const all = bucketRange(Bucket.blob)
    // Strictly after `after`: the smallest key above it is the key itself followed by a zero byte.
    const range =
      opts.after === undefined
        ? all
        : { gte: concatBytes(blobs.key(idBytes(opts.after)), Uint8Array.of(0)), lt: all.lt }
    const ids: BlobId[] = []
    return typedCorruption('listing the blobs', async () => {
      for await (const [key, value] of blobs.entries(range)) {
        if (rawRecordState(value) !== BlobState.stored) continue
        ids.push(parseBlobId(key.subarray(1)))
        if (ids.length === limit) break
      }
      return ids
    })
  }

  /** Stores this node's attestation; refused unless every shard of the blob is held. Written with sync. */
  async putAttestation(blobId: BlobId, bytes: Uint8Array): Promise<{ stored: boolean }> {
    this.#core.assertOpen()
    idBytes(blobId)
    return putAttestation(this.#core, blobId, bytes)
  }

  async getAttestation(blobId: BlobId): Promise<Uint8Array | undefined> {
    this.#core.assertOpen()
    const id = idBytes(blobId)
    return typedCorruption(`the attestation of blob ${blobId}`, () => this.#core.repos.attestations.get(id))
  }

  /** Stores (or replaces) the certificate of a held blob. Written with sync. */
  async putCertificate(blobId: BlobId, bytes: Uint8Array): Promise<{ stored: boolean }> {
    this.#core.assertOpen()
    idBytes(blobId)
    return putCertificate(this.#core, blobId, bytes)
  }

  async getCertificate(blobId: BlobId): Promise<Uint8Array | undefined> {
    this.#core.assertOpen()
    const id = idBytes(blobId)
    return typedCorruption(`the certificate of blob ${blobId}`, () => this.#core.repos.certificates.get(id))
  }

  /** Counters from memory: no I/O. */
  stats(): StoreStats {
    const core = this.#core
    return {
      ...core.usage,
      quotaBytes: core.opts.quotaBytes,
      pendingWrites: core.writer.pending,
      prune: { ...this.#pruner.progress },
    }
  }

  /**
   * Prunes the blobs due now, in bounded batches, at most `maxBatches` of them (default: all that is due). The
   * background pruner does this on its own; tools and tests call it directly.
   */
  async prune(opts: { maxBatches?: number } = {}): Promise<PruneResult> {
    this.#core.assertOpen()
    return this.#pruner.prune(opts.maxBatches)
  }

  /** Re-verifies the whole store from one snapshot; see IntegrityReport. */
  async check(opts?: CheckOptions): Promise<IntegrityReport> {
    return checkStore(this.#core, opts)
  }

  /** Stops the pruner, lets queued writes finish (they fail with STORAGE_CLOSED), and closes LevelDB. */
  async close(): Promise<void> {
    const core = this.#core
    if (core.closed) return
    core.closed = true
    await this.#pruner.stop()
    await core.writer.drain()
    await core.committer.idle()
    await core.db.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

function idBytes(blobId: BlobId): Uint8Array {
  const bytes = (blobId as { bytes?: unknown } | undefined)?.bytes
  if (!(bytes instanceof Uint8Array) || bytes.length !== BLOB_ID_SIZE) {
    throw storageError(StorageErrorCode.INVALID_BLOB_ID, 'expected a BlobId (36 CID bytes)')
  }
  return bytes
}

/**
 * The operator's integrity check (`dacnet db check --data-dir DIR`): opens an existing store without creating
 * anything and without the pruner, checks it, and closes it. The node must be stopped (LevelDB's lock).
 */
export async function checkShardStore(
  dir: string,
  opts: CheckOptions & Pick<ShardStoreOptions, 'now'> = {},
): Promise<IntegrityReport> {
  const { now, ...checkOpts } = opts
  const store = await ShardStore.open(dir, { createIfMissing: false, backgroundPrune: false, ...(now ? { now } : {}) })
  try {
    return await store.check(checkOpts)
  } finally {
    await store.close()
  }
}

/**
 * A read that meets a damaged value it does not quarantine itself (small records, listings): STORAGE_CORRUPT_ENTRY
 * naming `what`, never the store's internal CorruptValue. `check()` reports and repairs such entries.
 */
async function typedCorruption<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    throw storageError(StorageErrorCode.CORRUPT_ENTRY, `${what} is unreadable: ${err.message}`, { reason: err.reason })
  }
}
