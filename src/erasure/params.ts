/** GF(2^16) has 65536 elements, so at most 65536 distinct evaluation points: the ceiling on n. */
export const MAX_TOTAL_SHARDS = 65536
/** Shards are whole 64-byte chunks: each chunk holds 32 GF(2^16) elements (32 low bytes, then 32 high bytes). */
export const SHARD_ALIGNMENT = 64
/** Default maximum blob size: 32 MiB, the largest block a StarkNet-style sequencer is expected to post at once. */
export const DEFAULT_MAX_BLOB_SIZE = 32 * 1024 * 1024
