import { type BlobId, blobIdOf } from '../erasure/blob-id.ts'
import { type BlobHeader, decodeHeader } from '../erasure/header.ts'
import { bytesEqual } from '../erasure/merkle.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { isDacnetError } from '../errors.ts'
import { attestationValue } from './blob-records.ts'
import { Bucket } from './buckets.ts'
import { blobIdKey } from './codec.ts'
import { failingShard } from './commitment.ts'
import type { BlobWritePlan, StoreCore } from './core.ts'
import type { BatchOp } from './db.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { checkRetention } from './options.ts'
import { checkQuota } from './quota.ts'
import { type BlobRecord, BlobState } from './repositories/blobs.ts'
import { type ShardPlace, shardPlace } from './repositories/shards.ts'
import { DeltaBuilder } from './usage.ts'

export interface PutBlobOptions {
  /** How long this blob must stay available, in ms from now; default the store's retention. */
  retentionMs?: number
  /**
   * This node's attestation for the blob, written in the same synced batch as the shards (one fsync per store):
   * when the promise resolves, shards and attestation are on disk together. An attestation already stored is
   * kept (the same bytes: a no-op; other bytes: STORAGE_ATTESTATION_CONFLICT).
   */
  attestation?: Uint8Array
}

export interface PutBlobResult {
  blobId: BlobId
  /** False when every given shard was already held: no shard was written. */
  stored: boolean
  /** Shards written by this call. */
  added: number
  /** The attestation stored for the blob once this call is done (given one), else undefined. */
  attestation: Uint8Array | undefined
}

/**
 * Stores a node's assigned shards of one blob. Every proof is verified against the header before anything is
 * written (as the batch goes into LevelDB's, synchronously with it: what is verified is what is written, and the
 * shards need no copy of their own meanwhile); the blob record, the new shards, the expiry entry and the usage
 * counters go in one LevelDB batch written with sync. When the promise resolves the shards are on disk and the node
 * may attest. The shards' buffers must stay as they are until the promise settles.
 *
 * Same blob again: shards already held are skipped, so the same set is a no-op (`stored: false`), and a
 * different set adds only the missing ones, in one synced batch, keeping the first store's expiry.
 */
export async function putBlob(
  core: StoreCore,
  headerBytes: Uint8Array,
  shards: readonly ShardWithProof[],
  opts: PutBlobOptions = {},
): Promise<PutBlobResult> {
  core.assertOpen()
  if (!(headerBytes instanceof Uint8Array)) {
    throw storageError(StorageErrorCode.INVALID_HEADER, 'header bytes must be a Uint8Array')
  }
  // Copies: what is verified is exactly what is written, whatever the caller does with its buffers meanwhile.
  const headerCopy = headerBytes.slice()
  const header = decodeStoredHeader(headerCopy)
  const blobId = blobIdOf(headerCopy)
  const blobKey = blobIdKey(blobId.bytes)
  checkShards(header, shards)
  // The shards as given now: the ops and the check at submission see the same buffers, whatever the caller does to
  // its array or its shard objects meanwhile (the buffers' bytes are checked as they go into LevelDB's batch).
  const given = shards.map(({ index, data, proof }) => ({ index, data, proof }))
  const retentionMs = checkRetention(opts.retentionMs ?? core.opts.retentionMs)
  const attestation = opts.attestation === undefined ? undefined : attestationValue(opts.attestation)
  return core.blobWrite(blobKey, async (): Promise<BlobWritePlan<PutBlobResult>> => {
    const { blobs, shards: shardRepo, expiry } = core.repos
    const id = blobId.bytes
    const now = core.opts.now()
    const record = await existingRecord(core, id)
    if (record !== undefined && (record.state === BlobState.pruning || record.expiresAt <= now)) {
      throw storageError(
        StorageErrorCode.BLOB_EXPIRED,
        `blob ${blobId} expired at ${new Date(record.expiresAt).toISOString()} and is being pruned; store it again once pruned`,
        { blobId: blobId.toString(), expiresAt: record.expiresAt },
      )
    }
    const expiresAt = record?.expiresAt ?? now + retentionMs
    // A new blob's shards are keyed by its expiry; a blob stored under schema 1 keeps its shards where they are.
    const place = record === undefined ? { blobId: id, expiresAt } : shardPlace(id, record)
    // Shards held without a record are left from a record that was quarantined: same id, so same blob; those under
    // the same expiry are kept (others are deleted when their old expiry entry comes due).
    const held = new Set(await shardRepo.indicesOf(place, header.n))
    const fresh = given.filter((shard) => !held.has(shard.index))
    const ops: BatchOp[] = []
    const delta = new DeltaBuilder()
    const signed = await plannedAttestation(core, id, blobId, attestation, ops, delta)
    if (record !== undefined && fresh.length === 0) {
      // Nothing new to store. An attestation missing next to the record is added on its own, but only if every
      // shard the record counts is there (a quarantined one may not be): never an attestation without its shards.
      // No shard is written, but a store of bad shards is refused all the same.
      verifyProofs(header, given)
      const result = { blobId, stored: false, added: 0, attestation: signed }
      if (ops.length === 0) return { result }
      if (held.size < record.shardCount) {
        throw storageError(
          StorageErrorCode.BLOB_NOT_HELD,
          `blob ${blobId} has ${held.size} of its ${record.shardCount} shards; refusing to store an attestation`,
          { blobId: blobId.toString(), present: held.size, expected: record.shardCount },
        )
      }
      checkQuota(core, delta.delta.bytes, blobId)
      return { result, batch: { ops, delta: delta.delta } }
    }

    const next = {
      state: BlobState.stored,
      storedAt: record?.storedAt ?? now,
      expiresAt,
      shardCount: held.size + fresh.length,
      shardsByExpiry: place.expiresAt !== undefined,
      headerBytes: headerCopy,
    }
    ops.push(blobs.putRecord(id, next))
    if (record === undefined) {
      ops.push(expiry.put(next.expiresAt, id))
      delta.add('bytes', blobs.entryBytes(headerCopy.length))
      // After a quarantined record, the old expiry entry may have this very key (same store time and retention):
      // it is rewritten, not added.
      if ((await expiry.getRaw(expiry.key(next.expiresAt, id))) === undefined) delta.add('bytes', expiry.entryBytes)
      delta.add('blobs', 1)
    }
    ops.push(shardRepo.putShardsOp(place, fresh))
    // Indexed loops on the per-shard paths that run once a store: V8 runs them unoptimized, where a for-of makes an
    // iterator result a shard.
    for (let t = 0; t < fresh.length; t++) delta.add('bytes', shardRepo.entryBytes(place, fresh[t]!.index, header))
    delta.add('shards', fresh.length)
    await clearRepairedQuarantine(core, place, fresh, record === undefined, ops, delta)
    checkQuota(core, delta.delta.bytes, blobId)
    // Leave the queue with the batch submitted: the next task plans while this one is written (group commit).
    const { storedAt, shardsByExpiry } = next
    const entry = { header, headerBytes: headerCopy, storedAt, expiresAt, shardsByExpiry }
    return {
      result: { blobId, stored: true, added: fresh.length, attestation: signed },
      batch: {
        ops,
        delta: delta.delta,
        onCommitted: () => core.cache.set(blobKey, entry),
        check: () => verifyProofs(header, given),
      },
    }
  })
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
): Promise<Uint8Array | undefined> {
  if (attestation === undefined) return undefined
  const { attestations } = core.repos
  const existing = await attestations.get(id)
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
  written: readonly ShardWithProof[],
  recordRewritten: boolean,
  ops: BatchOp[],
  delta: DeltaBuilder,
): Promise<void> {
  // The common case costs nothing: with no quarantine record anywhere there is nothing to look up.
  if (core.usage.quarantined === 0) return
  const shardIndices = new Set(written.map((shard) => shard.index))
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
async function existingRecord(core: StoreCore, id: Uint8Array): Promise<BlobRecord | undefined> {
  try {
    return await core.recordLocked(id)
  } catch (err) {
    if (isDacnetError(err, StorageErrorCode.CORRUPT_ENTRY)) return undefined
    throw err
  }
}

function decodeStoredHeader(headerBytes: Uint8Array): BlobHeader {
  try {
    return decodeHeader(headerBytes)
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
 * Checks every shard's shape: index in range and not repeated, data of the header's shard size, a proof given.
 * Whether the proofs hold is checked as the batch is submitted (`verifyProofs`).
 */
function checkShards(header: BlobHeader, shards: readonly ShardWithProof[]): void {
  if (!Array.isArray(shards) || shards.length === 0) {
    throw storageError(StorageErrorCode.INVALID_SHARD, 'a blob is stored with at least one shard')
  }
  if (shards.length > header.n) {
    throw storageError(StorageErrorCode.INVALID_SHARD, `${shards.length} shards for a blob of ${header.n}`)
  }
  const seen = new Uint8Array(header.n)
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
function verifyProofs(header: BlobHeader, shards: readonly ShardWithProof[]): void {
  const invalid = failingShard(header, shards)
  if (invalid !== undefined) {
    throw storageError(StorageErrorCode.INVALID_PROOF, `shard ${invalid} does not verify against the header root`, {
      index: invalid,
    })
  }
}
