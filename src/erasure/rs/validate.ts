import { types } from 'node:util'
import { RsErrorCode, rsError } from './errors.ts'

/** Shards are whole 64-byte chunks: 32 GF(2^16) elements each, stored as 32 low bytes then 32 high bytes. */
export const SHARD_CHUNK_BYTES = 64

/**
 * Checks one shard and returns its length: a Uint8Array (any realm, Buffer included) whose length is a
 * non-zero multiple of 64 and equal to `expectedLength` when that is given. `label` names it in errors.
 */
export function checkShard(shard: unknown, label: string, expectedLength: number | undefined): number {
  if (!types.isUint8Array(shard)) {
    throw rsError(RsErrorCode.INVALID_SHARD_TYPE, `${label} is not a Uint8Array`, { shard: label })
  }
  const length = shard.length
  if (expectedLength !== undefined && length !== expectedLength) {
    throw rsError(
      RsErrorCode.SHARD_SIZE_MISMATCH,
      `${label} has ${length} bytes where the other shards have ${expectedLength}`,
      { shard: label, length, expectedLength },
    )
  }
  if (length === 0 || length % SHARD_CHUNK_BYTES !== 0) {
    throw rsError(
      RsErrorCode.INVALID_SHARD_SIZE,
      `${label} has ${length} bytes; shards must be a non-zero multiple of ${SHARD_CHUNK_BYTES} bytes`,
      { shard: label, length },
    )
  }
  return length
}

/** Checks a decoder shard index: an integer number in 0..shardCount-1 (0..k-1 original, k..n-1 recovery). */
export function checkShardIndex(index: unknown, shardCount: number): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= shardCount) {
    throw rsError(
      RsErrorCode.INVALID_SHARD_INDEX,
      `shard index ${String(index)} is not an integer in 0..${shardCount - 1}`,
      { index: typeof index === 'number' ? index : String(index), shardCount },
    )
  }
  return index
}
