import { DacnetError, type ErrorMeta } from '../../errors.ts'

/** Stable codes for bad input to the Reed–Solomon codec (`rsEncode` / `rsDecode`). */
export const RsErrorCode = {
  /** An argument has the wrong type: `original` is not an array, `shards` is not a Map. */
  INVALID_ARGUMENT: 'ERASURE_INVALID_ARGUMENT',
  /** The original or recovery count is not an integer of at least 1. */
  INVALID_SHARD_COUNT: 'ERASURE_INVALID_SHARD_COUNT',
  /** Original plus recovery count exceeds 65536, the number of points of GF(2^16). */
  TOO_MANY_SHARDS: 'ERASURE_TOO_MANY_SHARDS',
  /**
   * The counts fit in 65536 but not in the power-of-two chunk layout that reed-solomon-simd uses (the
   * smaller count rounded up to a power of two plus the larger count exceeds 65536), so no output could be
   * compatible with it.
   */
  UNSUPPORTED_SHARD_COUNT: 'ERASURE_UNSUPPORTED_SHARD_COUNT',
  /** A shard is not a Uint8Array. */
  INVALID_SHARD_TYPE: 'ERASURE_INVALID_SHARD_TYPE',
  /** A shard length is 0 or not a multiple of 64 bytes. */
  INVALID_SHARD_SIZE: 'ERASURE_INVALID_SHARD_SIZE',
  /** Shards of one call differ in length. */
  SHARD_SIZE_MISMATCH: 'ERASURE_SHARD_SIZE_MISMATCH',
  /** A shard index is not an integer number in 0..n-1. */
  INVALID_SHARD_INDEX: 'ERASURE_INVALID_SHARD_INDEX',
  /** Fewer than originalCount shards were given to the decoder. */
  NOT_ENOUGH_SHARDS: 'ERASURE_NOT_ENOUGH_SHARDS',
} as const

export type RsErrorCode = (typeof RsErrorCode)[keyof typeof RsErrorCode]

export function rsError(code: RsErrorCode, message: string, meta?: ErrorMeta): DacnetError<RsErrorCode> {
  return new DacnetError(code, message, meta)
}
