import { blobIdOf } from '../erasure/blob-id.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { attestationValue } from './blob-records.ts'
import { blobIdKey } from './codec.ts'
import type { StoreCore } from './core.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { checkRetention } from './options.ts'
import { shardPlace } from './repositories/shards.ts'
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

export type { PutBlobResult } from './store-plan.ts'

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

/**
 * Stores a node's assigned shards of one blob. Every proof is verified against the header before anything is
 * written (as the batch goes into LevelDB's, synchronously with it: what is verified is what is written, and the
 * shards need no copy of their own meanwhile); the blob record, the new shards, the expiry entry and the usage
 * counters go in one LevelDB batch written with sync. When the promise resolves the shards are on disk and the node
 * may attest. The shards' buffers must stay as they are until the promise settles. A member receiving its shards
 * over the network stores them through a blob intake instead (`openIntake`), as they arrive.
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
  const { header, headerBytes: headerCopy } = storedHeader(headerBytes)
  const blobId = blobIdOf(headerCopy)
  const blobKey = blobIdKey(blobId.bytes)
  if (Array.isArray(shards)) {
    refuseEmpty(shards.length)
    if (shards.length > header.n) {
      throw storageError(StorageErrorCode.INVALID_SHARD, `${shards.length} shards for a blob of ${header.n}`)
    }
  }
  checkShards(header, shards)
  // The shards as given now: the ops and the check at submission see the same buffers, whatever the caller does to
  // its array or its shard objects meanwhile (the buffers' bytes are checked as they go into LevelDB's batch).
  const given = shards.map(({ index, data, proof }) => ({ index, data, proof }))
  const retentionMs = checkRetention(opts.retentionMs ?? core.opts.retentionMs)
  const attestation = opts.attestation === undefined ? undefined : attestationValue(opts.attestation)
  return core.blobWrite(blobKey, async () => {
    const id = blobId.bytes
    const now = core.opts.now()
    const record = await existingRecord(core, id)
    refuseExpired(record, blobId, now)
    const expiresAt = record?.expiresAt ?? now + retentionMs
    // A new blob's shards are keyed by its expiry; a blob stored under schema 1 keeps its shards where they are.
    const place = record === undefined ? { blobId: id, expiresAt } : shardPlace(id, record)
    // Shards held without a record are left from a record that was quarantined: same id, so same blob; those under
    // the same expiry are kept (others are deleted when their old expiry entry comes due).
    const held = new Set(await heldIndices(core, record, place, header.n))
    const fresh = given.filter((shard) => !held.has(shard.index))
    return planStore(core, {
      header,
      headerBytes: headerCopy,
      blobId,
      blobKey,
      record,
      place,
      expiresAt,
      now,
      heldCount: held.size,
      fresh: fresh.map((shard) => shard.index),
      attestation,
      verify: () => verifyProofs(header, given),
      shardsOp: core.repos.shards.putShardsOp(place, fresh),
    })
  })
}
