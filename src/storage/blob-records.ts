import { MAX_CERTIFICATE_SIZE } from '../attest/certificate-codec.ts'
import type { BlobId } from '../erasure/blob-id.ts'
import { bytesEqual } from '../erasure/merkle.ts'
import { blobIdKey } from './codec.ts'
import type { BlobWritePlan, StoreCore } from './core.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { checkQuota } from './quota.ts'
import { type BlobRecord, BlobState } from './repositories/blobs.ts'
import { shardPlace } from './repositories/shards.ts'
import { DeltaBuilder } from './usage.ts'

/** Attestations are one BLS signature plus a few fixed fields; 4 KiB leaves room for any encoding the attest layer picks. */
export const MAX_ATTESTATION_BYTES = 4 * 1024

/** A private copy of an attestation within the size bound (the caller may reuse its buffer meanwhile). */
export function attestationValue(bytes: Uint8Array): Uint8Array {
  checkSize('attestation', bytes, MAX_ATTESTATION_BYTES)
  return bytes.slice()
}

/**
 * Stores this node's attestation for a blob. Refused unless the blob is held in state `stored`, not expired,
 * with every shard its record counts present, so "an attestation whose shards are missing" cannot be written
 * through this API. Written with sync. The same bytes again are a no-op; different bytes are refused, since a
 * node signs one availability message per blob.
 */
export async function putAttestation(core: StoreCore, blobId: BlobId, bytes: Uint8Array): Promise<{ stored: boolean }> {
  const value = attestationValue(bytes)
  const id = blobId.bytes
  return core.blobWrite(blobIdKey(id), async (): Promise<BlobWritePlan<{ stored: boolean }>> => {
    const record = await attestableRecord(core, blobId)
    const present = await core.repos.shards.indicesOf(shardPlace(id, record), record.shardCount)
    if (present.length < record.shardCount) {
      throw storageError(
        StorageErrorCode.BLOB_NOT_HELD,
        `blob ${blobId} has ${present.length} of its ${record.shardCount} shards; refusing to store an attestation`,
        { blobId: blobId.toString(), present: present.length, expected: record.shardCount },
      )
    }
    const { attestations } = core.repos
    const existing = await attestations.get(id)
    if (existing !== undefined) {
      if (bytesEqual(existing, value)) return { result: { stored: false } }
      throw storageError(
        StorageErrorCode.ATTESTATION_CONFLICT,
        `a different attestation for blob ${blobId} is already stored`,
        { blobId: blobId.toString() },
      )
    }
    const delta = new DeltaBuilder()
    delta.add('bytes', attestations.entryBytes(value))
    checkQuota(core, delta.delta.bytes, blobId)
    return { result: { stored: true }, batch: { ops: [attestations.put(id, value)], delta: delta.delta } }
  })
}

/**
 * Stores a certificate for a held blob (state `stored`, not expired), replacing an earlier one: a later
 * certificate may carry more signers. Written with sync; pruned with the blob.
 */
export async function putCertificate(core: StoreCore, blobId: BlobId, bytes: Uint8Array): Promise<{ stored: boolean }> {
  checkSize('certificate', bytes, MAX_CERTIFICATE_SIZE)
  const value = bytes.slice()
  const id = blobId.bytes
  return core.blobWrite(blobIdKey(id), async (): Promise<BlobWritePlan<{ stored: boolean }>> => {
    await attestableRecord(core, blobId)
    const { certificates } = core.repos
    const existing = await certificates.get(id)
    if (existing !== undefined && bytesEqual(existing, value)) return { result: { stored: false } }
    const delta = new DeltaBuilder()
    delta.add('bytes', existing === undefined ? certificates.entryBytes(value) : value.length - existing.length)
    checkQuota(core, delta.delta.bytes, blobId)
    return { result: { stored: true }, batch: { ops: [certificates.put(id, value)], delta: delta.delta } }
  })
}

/** The blob's record if it is held, stored and not expired; otherwise the matching typed error. */
async function attestableRecord(core: StoreCore, blobId: BlobId): Promise<BlobRecord> {
  const record = await core.recordLocked(blobId.bytes)
  if (record === undefined) {
    throw storageError(StorageErrorCode.BLOB_NOT_HELD, `blob ${blobId} is not held`, { blobId: blobId.toString() })
  }
  if (record.state !== BlobState.stored || record.expiresAt <= core.opts.now()) {
    throw storageError(StorageErrorCode.BLOB_EXPIRED, `blob ${blobId} has expired`, {
      blobId: blobId.toString(),
      expiresAt: record.expiresAt,
    })
  }
  return record
}

function checkSize(what: string, bytes: Uint8Array, max: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > max) {
    throw storageError(StorageErrorCode.INVALID_RECORD, `${what} must be 1..${max} bytes`, {
      length: (bytes as Uint8Array | undefined)?.length,
      max,
    })
  }
}
