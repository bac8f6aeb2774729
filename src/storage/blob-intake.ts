import { type BlobId, blobIdOf } from '../erasure/blob-id.ts'
import type { BlobHeader } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { isDacnetError } from '../errors.ts'
import { attestationValue } from './blob-records.ts'
import { blobIdKey } from './codec.ts'
import type { StoreCore } from './core.ts'
import { CorruptValue } from './corruption.ts'
import type { LevelBatch } from './db.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { checkRetention } from './options.ts'
import { checkQuota } from './quota.ts'
import { type BlobRecord, BlobState } from './repositories/blobs.ts'
import { type ShardPlace, shardPlace } from './repositories/shards.ts'
import {
  checkShards,
  existingRecord,
  heldIndices,
  type PutBlobResult,
  planStore,
  refuseEmpty,
  refuseExpired,
  storedHeader,
  verifyProofs,
} from './store-plan.ts'

export interface IntakeOptions {
  /** How long this blob must stay available, in ms from the intake's opening; default the store's retention. */
  retentionMs?: number
  /**
   * Shards the sender announced: refused at once (STORAGE_QUOTA_EXCEEDED) when their data alone would pass the
   * quota, before any is received. Absent: the quota is checked at commit only.
   */
  expectedShards?: number
}

export interface IntakeCommitOptions {
  /** This node's attestation, written in the same synced batch as the shards (see PutBlobOptions.attestation). */
  attestation?: Uint8Array
}

type IntakeState = 'open' | 'committing' | 'done'

/**
 * One blob's shards stored as they arrive: each run `add`ed is checked (shape, no index twice, every proof against
 * the header's root) and copied into a LevelDB batch of the intake's own at once, so the received buffers are
 * garbage again while the rest of the share is still on its way; `commit` adds the blob record, the expiry entry,
 * the attestation and the usage counters to that batch and writes it with sync, in the write queue's order, as
 * `putBlob` writes its batch. Nothing is visible, or on disk, before the commit: an intake that is aborted (or
 * never committed) leaves no trace. What is held already is decided at the commit, in the write queue.
 *
 * The shards' keys hold the blob's expiry, fixed when the intake opens. A store of the same blob committed in the
 * meantime may have fixed another (another request to this node), or the record may have been quarantined: the
 * commit then refuses with STORAGE_CONCURRENT_STORE (a blob pruned meanwhile: STORAGE_BLOB_EXPIRED), unless the
 * blob as stored holds every shard given here, in which case it keeps its attestation alone as `putBlob` does for
 * a re-store (`stored: false`).
 */
export class BlobIntake {
  readonly blobId: BlobId
  readonly header: BlobHeader
  readonly #core: StoreCore
  readonly #headerBytes: Uint8Array
  readonly #blobKey: string
  readonly #place: ShardPlace
  readonly #opened: BlobRecord | undefined
  readonly #seen: Uint8Array
  /** Indices taken, in order; every one of them is in the batch (see `add`). */
  readonly #given: number[] = []
  #batch: LevelBatch | undefined
  #state: IntakeState = 'open'
  #failure: unknown

  private constructor(
    core: StoreCore,
    header: BlobHeader,
    headerBytes: Uint8Array,
    blobId: BlobId,
    place: ShardPlace,
    opened: BlobRecord | undefined,
  ) {
    this.#core = core
    this.header = header
    this.#headerBytes = headerBytes
    this.blobId = blobId
    this.#blobKey = blobIdKey(blobId.bytes)
    this.#place = place
    this.#opened = opened
    this.#seen = new Uint8Array(header.n)
  }

  /** Opens an intake for the blob of `headerBytes` (copied): refuses at once what a store of it would refuse. */
  static async open(core: StoreCore, headerBytes: Uint8Array, opts: IntakeOptions = {}): Promise<BlobIntake> {
    core.assertOpen()
    const { header, headerBytes: copy } = storedHeader(headerBytes)
    const retentionMs = checkRetention(opts.retentionMs ?? core.opts.retentionMs)
    const blobId = blobIdOf(copy)
    const id = blobId.bytes
    const now = core.opts.now()
    const record = await recordAtOpen(core, id)
    refuseExpired(record, blobId, now)
    if (opts.expectedShards !== undefined) {
      if (!Number.isSafeInteger(opts.expectedShards) || opts.expectedShards < 1 || opts.expectedShards > header.n) {
        throw storageError(StorageErrorCode.INVALID_SHARD, `${opts.expectedShards} shards for a blob of ${header.n}`)
      }
      if (record === undefined) checkQuota(core, opts.expectedShards * header.shardSize, blobId)
    }
    // A held blob's shards go where its record keys them; a new blob's under the expiry it gets now.
    const place = record === undefined ? { blobId: id, expiresAt: now + retentionMs } : shardPlace(id, record)
    return new BlobIntake(core, header, copy, blobId, place, record)
  }

  /** Shards taken so far. */
  get count(): number {
    return this.#given.length
  }

  /**
   * Takes a run of received shards: refuses the run (STORAGE_INVALID_SHARD, STORAGE_INVALID_PROOF) unless every
   * shard is well formed, new to this intake and proven against the root; else copies them into the intake's batch
   * before it returns, so their buffers are the caller's again. A refused run leaves the intake unusable: only
   * `abort` is left.
   */
  add(shards: readonly ShardWithProof[]): void {
    this.#assertOpen()
    try {
      this.#core.assertOpen()
      checkShards(this.header, shards, this.#seen)
      verifyProofs(this.header, shards)
      // Every shard goes into the batch, held or not: what is held is known only in the write queue, at the commit
      // (a held shard may be quarantined meanwhile), and one held already is rewritten with the same bytes.
      if (shards.length > 0) {
        this.#batch ??= this.#core.openIntakeBatch()
        this.#batch.add(this.#core.repos.shards.putShardsOp(this.#place, shards))
      }
      for (let t = 0; t < shards.length; t++) this.#given.push(shards[t]!.index)
    } catch (err) {
      this.#fail(err)
      throw err
    }
  }

  /**
   * Writes the shards taken, the blob record and `attestation` in one synced batch; resolves once they are on disk
   * (the moment the node may sign), as `putBlob` does.
   */
  async commit(opts: IntakeCommitOptions = {}): Promise<PutBlobResult> {
    this.#assertOpen()
    this.#state = 'committing'
    const batch = this.#batch
    this.#batch = undefined
    let submitted = false
    try {
      refuseEmpty(this.#given.length)
      const attestation = opts.attestation === undefined ? undefined : attestationValue(opts.attestation)
      return await this.#core.blobWrite(this.#blobKey, async () => {
        const plan = await this.#plan(batch, attestation)
        submitted = plan.batch?.into !== undefined
        return plan
      })
    } finally {
      this.#state = 'done'
      if (!submitted) await batch?.close().catch(() => undefined)
    }
  }

  /** Drops everything taken: nothing of it was written. Safe to call in any state, more than once. */
  abort(): void {
    if (this.#state === 'open') this.#fail(storageError(StorageErrorCode.INTAKE_CLOSED, 'the intake was aborted'))
  }

  async #plan(batch: LevelBatch | undefined, attestation: Uint8Array | undefined) {
    const core = this.#core
    const { blobId, header } = this
    const id = blobId.bytes
    const now = core.opts.now()
    const record = await existingRecord(core, id)
    refuseExpired(record, blobId, now)
    const common = { header, headerBytes: this.#headerBytes, blobId, blobKey: this.#blobKey, record, now }
    const verify = () => undefined // every run was verified as it went into the batch
    if (!samePlace(record, this.#opened, this.#place)) {
      // The record changed since the intake opened (another store of this blob committed, keyed under another
      // expiry, or the record was quarantined or pruned): this batch cannot join its shards. It is not needed if
      // the blob as stored holds every shard given here.
      const opened = this.#opened
      if (record === undefined && opened !== undefined && opened.expiresAt <= now) refuseExpired(opened, blobId, now)
      const stored = record === undefined || record.state !== BlobState.stored ? undefined : record
      const place = stored === undefined ? undefined : shardPlace(id, stored)
      const held = place === undefined ? [] : await core.repos.shards.indicesOf(place, header.n)
      if (stored === undefined || place === undefined || !coversAll(held, this.#given, header.n)) {
        throw storageError(
          StorageErrorCode.CONCURRENT_STORE,
          `the record of blob ${blobId} changed while this store was received; send it again`,
          { blobId: blobId.toString() },
        )
      }
      const expiresAt = stored.expiresAt
      return planStore(core, { ...common, place, expiresAt, heldCount: held.length, fresh: [], attestation, verify })
    }
    const place = this.#place
    const expiresAt = record?.expiresAt ?? (place.expiresAt as number)
    const held = await heldIndices(core, record, place, header.n)
    const heldNow = new Uint8Array(header.n)
    for (let t = 0; t < held.length; t++) heldNow[held[t]!] = 1
    const fresh = this.#given.filter((index) => heldNow[index] !== 1)
    // The batch holds every shard given. Written, it rewrites those held already with the same bytes (same blob,
    // proofs checked); dropped, when all of them are held now, nothing is lost.
    const into = fresh.length > 0 || record === undefined ? batch : undefined
    return planStore(core, { ...common, place, expiresAt, heldCount: held.length, fresh, attestation, verify, into })
  }

  #assertOpen(): void {
    if (this.#state === 'open' && this.#failure === undefined) return
    throw storageError(
      StorageErrorCode.INTAKE_CLOSED,
      `the intake of blob ${this.blobId} was ${this.#failure === undefined ? 'committed' : 'refused or aborted'}`,
      { blobId: this.blobId.toString() },
    )
  }

  #fail(err: unknown): void {
    this.#failure ??= err
    const batch = this.#batch
    this.#batch = undefined
    void batch?.close().catch(() => undefined)
  }
}

/** The record as an intake opening sees it (outside the write queue): a damaged one counts as absent. */
async function recordAtOpen(core: StoreCore, id: Uint8Array): Promise<BlobRecord | undefined> {
  const { blobs } = core.repos
  try {
    const value = await blobs.getRaw(blobs.key(id))
    return value === undefined ? undefined : blobs.decode(id, value)
  } catch (err) {
    if (err instanceof CorruptValue || isDacnetError(err, StorageErrorCode.CORRUPT_ENTRY)) return undefined
    throw err
  }
}

/** Whether the record now keys the blob's shards where the intake put them. */
function samePlace(now: BlobRecord | undefined, opened: BlobRecord | undefined, place: ShardPlace): boolean {
  if (now === undefined) return opened === undefined
  if (opened === undefined) return false
  const current = shardPlace(place.blobId, now)
  return current.expiresAt === place.expiresAt
}

function coversAll(held: readonly number[], given: readonly number[], n: number): boolean {
  const map = new Uint8Array(n)
  for (let t = 0; t < held.length; t++) map[held[t]!] = 1
  for (let t = 0; t < given.length; t++) if (map[given[t]!] !== 1) return false
  return true
}
