import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for the blob, header, commitment and pipeline parts of the erasure layer. */
export const ErasureErrorCode = {
  /** The blob is larger than the configured maximum. */
  BLOB_TOO_LARGE: 'ERASURE_BLOB_TOO_LARGE',
  /** Encoding parameters (k, n, network id, epoch) are out of range. */
  INVALID_PARAMS: 'ERASURE_INVALID_PARAMS',
  /** Header bytes are shorter than the layout of their version. */
  HEADER_TRUNCATED: 'ERASURE_HEADER_TRUNCATED',
  /** Header version byte names a layout this implementation does not know. */
  HEADER_UNKNOWN_VERSION: 'ERASURE_HEADER_UNKNOWN_VERSION',
  /** Header bytes are well framed but a field is out of range or not canonical. */
  HEADER_INVALID: 'ERASURE_HEADER_INVALID',
  /** A blob id string or CID is not a dacnet blob id. */
  INVALID_BLOB_ID: 'ERASURE_INVALID_BLOB_ID',
  /** A shard's size differs from the header's shard size, or its index is outside 0..n-1. */
  INVALID_SHARD: 'ERASURE_INVALID_SHARD',
  /** A Merkle proof is malformed (wrong length) or does not prove the shard against the root. */
  INVALID_PROOF: 'ERASURE_INVALID_PROOF',
  /** Fewer than k distinct shards with valid proofs were available. */
  NOT_ENOUGH_SHARDS: 'ERASURE_NOT_ENOUGH_SHARDS',
  /** Bad-encoding evidence is malformed or does not show a bad encoding. */
  INVALID_EVIDENCE: 'ERASURE_INVALID_EVIDENCE',
  /** The worker pool was closed, or a worker died. */
  POOL_CLOSED: 'ERASURE_POOL_CLOSED',
  /** An encode or decode failed inside its worker thread for a reason without a code of its own. */
  WORKER_FAILED: 'ERASURE_WORKER_FAILED',
} as const

export type ErasureErrorCode = (typeof ErasureErrorCode)[keyof typeof ErasureErrorCode]

export function erasureError(code: ErasureErrorCode, message: string, meta?: ErrorMeta): DacnetError<ErasureErrorCode> {
  return new DacnetError(code, message, meta)
}
