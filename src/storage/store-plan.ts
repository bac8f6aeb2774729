import type { BlobId } from '../erasure/blob-id.ts'
import { type BlobHeader, decodeHeader } from '../erasure/header.ts'
import { bytesEqual } from '../erasure/merkle.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { isDacnetError } from '../errors.ts'
import { Bucket } from './buckets.ts'
import { failingShard } from './commitment.ts'
import type { BlobWritePlan, StoreCore } from './core.ts'
import { CorruptValue } from './corruption.ts'
import type { BatchOp, LevelBatch } from './db.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { checkQuota } from './quota.ts'
import { type BlobRecord, BlobState } from './repositories/blobs.ts'
import type { ShardPlace } from './repositories/shards.ts'
import { DeltaBuilder } from './usage.ts'

/** What a store of one blob's shards leaves behind: the outcome `putBlob` and a blob intake's commit resolve with. */
export interface PutBlobResult {
  blobId: BlobId
  /** False when every given shard was already held: no shard was written. */
  stored: boolean
  /** Shards written by this call. */
  added: number
  /** The attestation stored for the blob once this call is done (given one), else undefined. */
  attestation: Uint8Array | undefined
}

/** One store's write, planned inside the write queue once its shards are known and the blob's record read. */
export interface StorePlanInput {
  header: BlobHeader
  headerBytes: Uint8Array
  blobId: BlobId
  blobKey: string
  /** The record as the write task read it (`existingRecord`). */
  record: BlobRecord | undefined
  place: ShardPlace
  expiresAt: number
  now: number
  /** Shards of the blob already under `place`. */
  heldCount: number
  /** Indices this store adds (given and not held), in the order written. */
  fresh: readonly number[]
  attestation: Uint8Array | undefined
  /** Checks the given shards' proofs; run before anything is written, synchronously with the batch's submission. */
  verify: () => void
  /** The shards' puts, when they are not in `into` already. */
  shardsOp?: BatchOp
  /** A LevelDB batch already holding the fresh shards (a blob intake's). */
  into?: LevelBatch
}

/**
 * The batch of one store: the blob record and expiry entry (a new blob), the shards (`shardsOp`, or already in
 * `into`), the attestation, the quarantine records the rewritten entries repair, and the usage delta; the quota
 * checked against it. With nothing fresh to write the plan carries only a missing attestation (and no `into`).
 */
export async function planStore(core: StoreCore, input: StorePlanInput): Promise<BlobWritePlan<PutBlobResult>> {
  const { header, headerBytes, blobId, record, place, expiresAt, fresh } = input
  const { blobs, shards: shardRepo, expiry } = core.repos
  const id = blobId.bytes
  const ops: BatchOp[] = []
  const delta = new DeltaBuilder()
  const leftovers = mayHaveLeftovers(core, record)
  const signed = await plannedAttestation(core, id, blobId, input.attestation, ops, delta, leftovers)
  if (record !== undefined && fresh.length === 0) {
    // Nothing new to store. An attestation missing next to the record is added on its own, but only if every
    // shard the record counts is there (a quarantined one may not be): never an attestation without its shards.
    // No shard is written, but a store of bad shards is refused all the same.
    input.verify()
    const result = { blobId, stored: false, added: 0, attestation: signed }
    if (ops.length === 0) return { result }
    if (input.heldCount < record.shardCount) {
      throw storageError(
        StorageErrorCode.BLOB_NOT_HELD,
        `blob ${blobId} has ${input.heldCount} of its ${record.shardCount} shards; refusing to store an attestation`,
        { blobId: blobId.toString(), present: input.heldCount, expected: record.shardCount },
      )
    }
    checkQuota(core, delta.delta.bytes, blobId)
    return { result, batch: { ops, delta: delta.delta } }
  }

  const next = {
    state: BlobState.stored,
    storedAt: record?.storedAt ?? input.now,
    expiresAt,
    shardCount: input.heldCount + fresh.length,
    shardsByExpiry: place.expiresAt !== undefined,
    headerBytes,
  }
  ops.push(blobs.putRecord(id, next))
  if (record === undefined) {
    ops.push(expiry.put(next.expiresAt, id))
    delta.add('bytes', blobs.entryBytes(headerBytes.length))
    // After a quarantined record, the old expiry entry may have this very key (same store time and retention):
    // it is rewritten, not added.
    const rewritten = leftovers && (await expiry.getRaw(expiry.key(next.expiresAt, id))) !== undefined
    if (!rewritten) delta.add('bytes', expiry.entryBytes)
    delta.add('blobs', 1)
  }
  if (input.shardsOp !== undefined) ops.push(input.shardsOp)
  // Indexed loops on the per-shard paths that run once a store: V8 runs them unoptimized, where a for-of makes an
  // iterator result a shard.
  for (let t = 0; t < fresh.length; t++) delta.add('bytes', shardRepo.entryBytes(place, fresh[t]!, header))
  delta.add('shards', fresh.length)
  await clearRepairedQuarantine(core, place, fresh, record === undefined, ops, delta)
  checkQuota(core, delta.delta.bytes, blobId)
  // Leave the queue with the batch submitted: the next task plans while this one is written (group commit).
  const { storedAt, shardsByExpiry } = next
  const entry = { header, headerBytes, storedAt, expiresAt, shardsByExpiry }
  return {
    result: { blobId, stored: true, added: fresh.length, attestation: signed },
    batch: {
      ops,
      delta: delta.delta,
      onCommitted: () => core.cache.set(input.blobKey, entry),
      check: input.verify,
      into: input.into,
    },
  }
}

/** Refuses a store of a blob past its expiry or being pruned: it is stored afresh once pruned. */
export function refuseExpired(record: BlobRecord | undefined, blobId: BlobId, now: number): void {
  if (record !== undefined && (record.state === BlobState.pruning || record.expiresAt <= now)) {
    throw storageError(
      StorageErrorCode.BLOB_EXPIRED,
      `blob ${blobId} expired at ${new Date(record.expiresAt).toISOString()} and is being pruned; store it again once pruned`,
      { blobId: blobId.toString(), expiresAt: record.expiresAt },
    )
  }
}

/**
 * Whether entries of a blob may be on disk beside `record` (the record as the write task read it): with a record,
 * its own; without one, only those a quarantined record left (an attestation, shards, an expiry entry), which can
 * be there only while a quarantine record is (their repair or their pruning deletes both). A new blob in a store
 * that holds no quarantine record needs no lookup of any of them.
 */
export function mayHaveLeftovers(core: StoreCore, record: BlobRecord | undefined): boolean {
  return record !== undefined || core.usage.quarantined > 0
}

/** The indices of the blob's shards under `place`; none to look for when nothing can be left there. */
export async function heldIndices(
  core: StoreCore,
  record: BlobRecord | undefined,
  place: ShardPlace,
  n: number,
): Promise<number[]> {
  if (!mayHaveLeftovers(core, record)) return []
  try {
    return await core.repos.shards.indicesOf(place, n)
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    // A damaged block under the blob's shards: which are held cannot be told, so nothing is written over them. The
    // store is refused with a code, not an error of this store's own making; `check()` finds and repairs them.
    throw storageError(
      StorageErrorCode.CORRUPT_ENTRY,
      `the shards held of this blob cannot be listed: ${err.message}; run the integrity check`,
      { reason: err.reason },
    )
  }
}

/**
 * The attestation to keep next to the blob, given one: the one already stored (which must be the same bytes), or
 * the given one, whose put is added to `ops`.
 */
async function plannedAttestation(
  core: StoreCore,
  id: Uint8Array,
  blobId: BlobId,
  attestation: Uint8Array | undefined,
  ops: BatchOp[],
  delta: DeltaBuilder,
  leftovers: boolean,
): Promise<Uint8Array | undefined> {
  if (attestation === undefined) return undefined
  const { attestations } = core.repos
  const existing = leftovers ? await attestations.get(id) : undefined
  if (existing !== undefined) {
    if (bytesEqual(existing, attestation)) return existing
    throw storageError(
      StorageErrorCode.ATTESTATION_CONFLICT,
      `a different attestation for blob ${blobId} is already stored`,
      {
        blobId: blobId.toString(),
      },
    )
  }
  ops.push(attestations.put(id, attestation))
  delta.add('bytes', attestations.entryBytes(attestation))
  return attestation
}

/**
 * Entries rewritten by this store are repaired: their quarantine records go in the same batch, so a record never
 * stands for an entry that is whole again (the integrity check counts quarantined shards as explained gaps).
 */
async function clearRepairedQuarantine(
  core: StoreCore,
  place: ShardPlace,
  written: readonly number[],
  recordRewritten: boolean,
  ops: BatchOp[],
  delta: DeltaBuilder,
): Promise<void> {
  // The common case costs nothing: with no quarantine record anywhere there is nothing to look up.
  if (core.usage.quarantined === 0) return
  const shardIndices = new Set(written)
  const { quarantine, shards } = core.repos
  const shardKeyLength = shards.key(place, 0).length
  for (const range of [quarantine.recordRangeOf(place.blobId), quarantine.rangeOver(shards.rangeOf(place))]) {
    for (const key of await quarantine.keysIn(range, Number.POSITIVE_INFINITY)) {
      const original = quarantine.originalKeyOf(key)
      const repaired =
        original[0] === Bucket.blob
          ? recordRewritten
          : original.length === shardKeyLength && shardIndices.has(shards.indexOf(original))
      if (!repaired) continue
      ops.push(quarantine.delOp(key))
      delta.add('bytes', -quarantine.entryBytes(original))
      delta.add('quarantined', -1)
    }
  }
}

/** The current record; a damaged one has just been quarantined and counts as absent, so this store repairs it. */
export async function existingRecord(core: StoreCore, id: Uint8Array): Promise<BlobRecord | undefined> {
  try {
    return await core.recordLocked(id)
  } catch (err) {
    if (isDacnetError(err, StorageErrorCode.CORRUPT_ENTRY)) return undefined
    throw err
  }
}

/**
 * The header a store is for, decoded from a copy of its bytes: what is verified is what is written, whatever the
 * caller does with its buffer meanwhile.
 */
export function storedHeader(headerBytes: Uint8Array): { header: BlobHeader; headerBytes: Uint8Array } {
  if (!(headerBytes instanceof Uint8Array)) {
    throw storageError(StorageErrorCode.INVALID_HEADER, 'header bytes must be a Uint8Array')
  }
  const copy = headerBytes.slice()
  try {
    return { header: decodeHeader(copy), headerBytes: copy }
  } catch (err) {
    const code = (err as { code?: unknown }).code
    throw storageError(
      StorageErrorCode.INVALID_HEADER,
      `invalid blob header: ${(err as Error).message}`,
      { code },
      {
        cause: err,
      },
    )
  }
}

/**
 * Checks every shard's shape: index in range and not repeated (`seen` marks the indices taken so far, across the
 * runs of one intake), data of the header's shard size, a proof given. Whether the proofs hold is `verifyProofs`.
 */
export function checkShards(
  header: BlobHeader,
  shards: readonly ShardWithProof[],
  seen: Uint8Array = new Uint8Array(header.n),
): void {
  if (!Array.isArray(shards)) {
    throw storageError(StorageErrorCode.INVALID_SHARD, 'shards are given as an array')
  }
  for (let t = 0; t < shards.length; t++) {
    const shard = shards[t]
    if (typeof shard !== 'object' || shard === null) {
      throw storageError(StorageErrorCode.INVALID_SHARD, 'every shard is an object { index, data, proof }')
    }
    const { index, data, proof } = shard
    if (!Number.isInteger(index) || index < 0 || index >= header.n || seen[index] === 1) {
      throw storageError(StorageErrorCode.INVALID_SHARD, `shard index ${index} is out of range or repeated`, { index })
    }
    seen[index] = 1
    if (!(data instanceof Uint8Array) || data.length !== header.shardSize || !(proof instanceof Uint8Array)) {
      throw storageError(StorageErrorCode.INVALID_SHARD, `shard ${index} must be ${header.shardSize} bytes`, {
        index,
        length: data?.length,
      })
    }
  }
}

/** Refuses the store unless every given shard's proof holds against the header's root. */
export function verifyProofs(header: BlobHeader, shards: readonly ShardWithProof[]): void {
  const invalid = failingShard(header, shards)
  if (invalid !== undefined) {
    throw storageError(StorageErrorCode.INVALID_PROOF, `shard ${invalid} does not verify against the header root`, {
      index: invalid,
    })
  }
}

/** A store is at least one shard. */
export function refuseEmpty(count: number): void {
  if (count === 0) throw storageError(StorageErrorCode.INVALID_SHARD, 'a blob is stored with at least one shard')
}
