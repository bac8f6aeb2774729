import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for everything the shard store refuses or detects. Tests and callers match on these. */
export const StorageErrorCode = {
  /** A store would take the logical size past the configured maximum; nothing was written. */
  QUOTA_EXCEEDED: 'STORAGE_QUOTA_EXCEEDED',
  /** A stored entry failed its re-check (proof, length, hash) or LevelDB could not read it; it was quarantined. */
  CORRUPT_ENTRY: 'STORAGE_CORRUPT_ENTRY',
  /** The directory was written by a newer schema than this build understands. */
  SCHEMA_TOO_NEW: 'STORAGE_SCHEMA_TOO_NEW',
  /** The directory was written by an older schema for which no migration exists. */
  SCHEMA_UNSUPPORTED: 'STORAGE_SCHEMA_UNSUPPORTED',
  /** The directory holds a LevelDB database that is not a dacnet shard store, or its meta is unreadable. */
  NOT_A_STORE: 'STORAGE_NOT_A_STORE',
  /** LevelDB could not open the directory (missing, locked by another process, unreadable). */
  OPEN_FAILED: 'STORAGE_OPEN_FAILED',
  /** The store was closed. */
  CLOSED: 'STORAGE_CLOSED',
  /**
   * LevelDB failed a read or a write for a reason other than a damaged block (a full or failing disk, and the like);
   * a write that fails this way wrote nothing. The node's operator must look at the disk.
   */
  IO_FAILED: 'STORAGE_IO_FAILED',
  /** Too many writes are queued; the caller should retry later. */
  BUSY: 'STORAGE_BUSY',
  /**
   * The blob's record changed while this store's shards were being received (another store of the same blob written
   * under another expiry, or the record quarantined), and the blob as stored lacks some of them; nothing of this one
   * was written. Sending again succeeds.
   */
  CONCURRENT_STORE: 'STORAGE_CONCURRENT_STORE',
  /** A blob intake was used after its commit, or after it refused a run of shards or was aborted. */
  INTAKE_CLOSED: 'STORAGE_INTAKE_CLOSED',
  /** Options are out of range. */
  INVALID_OPTIONS: 'STORAGE_INVALID_OPTIONS',
  /** Header bytes do not decode as a blob header. */
  INVALID_HEADER: 'STORAGE_INVALID_HEADER',
  /** A blob id is not 36 CID bytes. */
  INVALID_BLOB_ID: 'STORAGE_INVALID_BLOB_ID',
  /** A shard index is out of range or repeated, a shard has the wrong size, or no shard was given. */
  INVALID_SHARD: 'STORAGE_INVALID_SHARD',
  /** A shard's Merkle proof does not prove it against the header root. */
  INVALID_PROOF: 'STORAGE_INVALID_PROOF',
  /** An attestation or certificate is empty or larger than its bound. */
  INVALID_RECORD: 'STORAGE_INVALID_RECORD',
  /** The blob is not held (or not completely), so an attestation or certificate for it is refused. */
  BLOB_NOT_HELD: 'STORAGE_BLOB_NOT_HELD',
  /** The blob is past its expiry or being pruned; it can be stored afresh once pruning has removed it. */
  BLOB_EXPIRED: 'STORAGE_BLOB_EXPIRED',
  /** A different attestation for the same blob is already stored; a node signs one message per blob. */
  ATTESTATION_CONFLICT: 'STORAGE_ATTESTATION_CONFLICT',
} as const

export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode]

export function storageError(
  code: StorageErrorCode,
  message: string,
  meta?: ErrorMeta,
  options?: ErrorOptions,
): DacnetError<StorageErrorCode> {
  return new DacnetError(code, message, meta, options)
}
