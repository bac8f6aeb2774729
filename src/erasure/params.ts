/** GF(2^16) has 65536 elements, so at most 65536 distinct evaluation points: the ceiling on n. */
export const MAX_TOTAL_SHARDS = 65536
/** Shards are whole 64-byte chunks: each chunk holds 32 GF(2^16) elements (32 low bytes, then 32 high bytes). */
export const SHARD_ALIGNMENT = 64
/** Default maximum blob size: 32 MiB, the largest block a StarkNet-style sequencer is expected to post at once. */
export const DEFAULT_MAX_BLOB_SIZE = 32 * 1024 * 1024

/**
 * The largest codeword (n × shardSize) an evidence check re-encodes, as a multiple of the largest blob it takes:
 * the committee's shapes stay near n/k = 3 (4 with a thousand members, PROTOCOL.md §2.3), and an evidence file
 * names its own header, so without a bound a few KiB of it (k = 1, n = 65536) would make its checker allocate
 * and hash gigabytes.
 */
export const MAX_CODEWORD_FACTOR = 8
