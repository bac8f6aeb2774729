import { BLOB_ID_SIZE } from '../erasure/blob-id.ts'

/**
 * Every key starts with one bucket byte naming the stored type, followed by fixed-width big-endian parts, so
 * that one bucket is one contiguous key range and iteration order is (blob id), (time, blob id) or (time, blob id,
 * shard index). A retired number is never reused: a store written by an older build must never have its old
 * entries read as a new type. Key and value layouts are documented in docs/STORAGE.md.
 */
export const Bucket = {
  /** Schema version and the usage counters. */
  meta: 0x00,
  /** Blob record: state, store and expiry times, shard count, header bytes. Key: blob id. */
  blob: 0x01,
  /**
   * Shard data followed by its Merkle proof, for blobs stored under schema 1. Key: blob id, shard index u32.
   * Read and pruned as before; no new entry is written here.
   */
  shard: 0x02,
  /** This node's own attestation, opaque bytes. Key: blob id. */
  attestation: 0x03,
  /** A certificate for the blob, opaque bytes. Key: blob id. */
  certificate: 0x04,
  /** Expiry index in time order. Key: expiresAt u64 ms, blob id. Value: n and shard size for a resumed prune. */
  expiry: 0x05,
  /** Record of a corrupt entry that was removed. Key: the removed entry's whole key. */
  quarantine: 0x06,
  /**
   * Shard data followed by its Merkle proof. Key: the blob's expiresAt u64 ms, blob id, shard index u32, so keys
   * grow with time (LevelDB rewrites far less when a flushed table does not span the whole key range) and
   * pruning deletes from the head of the bucket.
   */
  shardByExpiry: 0x07,
} as const

/** The highest bucket this schema writes: entries past it are reported by the integrity check as unknown. */
export const LAST_BUCKET = Bucket.shardByExpiry

export type Bucket = (typeof Bucket)[keyof typeof Bucket]

export const BUCKET_SIZE = 1
export const INDEX_SIZE = 4
export const TIME_SIZE = 8
/** Keys addressed by blob id alone: blob record, attestation, certificate. */
export const BLOB_KEY_SIZE = BUCKET_SIZE + BLOB_ID_SIZE
/** A shard key under blob id (bucket `shard`, schema 1). */
export const SHARD_KEY_SIZE = BLOB_KEY_SIZE + INDEX_SIZE
/** A shard key under expiry time (bucket `shardByExpiry`). */
export const SHARD_BY_EXPIRY_KEY_SIZE = BUCKET_SIZE + TIME_SIZE + BLOB_ID_SIZE + INDEX_SIZE
export const EXPIRY_KEY_SIZE = BUCKET_SIZE + TIME_SIZE + BLOB_ID_SIZE

export function bucketName(bucket: number): string {
  for (const [name, value] of Object.entries(Bucket)) if (value === bucket) return name
  return `unknown(0x${bucket.toString(16).padStart(2, '0')})`
}

/**
 * A key no entry of any type has, the first of bucket `shardByExpiry` (value empty, not counted in usage). LevelDB
 * has no upper bound on an iterator: a scan whose range ends past the last live key of its bucket walks on to the
 * next live key, through every deleted entry in between. The pruned shards lie at the head of the shard bucket
 * until compaction drops them, right behind the expiry and quarantine buckets, whose scans would otherwise read
 * them all; this live key stops those scans first. Written at open when missing.
 */
export const SHARD_BUCKET_FENCE = Uint8Array.of(Bucket.shardByExpiry)

/** Either shard bucket. */
export function isShardBucket(bucket: number | undefined): boolean {
  return bucket === Bucket.shard || bucket === Bucket.shardByExpiry
}

/** `bucket || blobId`, the key of a blob record, attestation or certificate. */
export function blobKey(bucket: Bucket, blobId: Uint8Array): Uint8Array {
  const key = new Uint8Array(BLOB_KEY_SIZE)
  key[0] = bucket
  key.set(blobId, BUCKET_SIZE)
  return key
}

/** A key range; without `lt` it runs to the end of the database. */
export interface KeyRange {
  gte: Uint8Array
  lt?: Uint8Array
}

/** Bounds that select exactly the keys starting with `prefix`: `gte` the prefix, `lt` the prefix plus one. */
export interface PrefixRange extends KeyRange {
  lt: Uint8Array
}

export function prefixRange(prefix: Uint8Array): PrefixRange {
  const lt = prefix.slice()
  // Increment as a big-endian number; every prefix we use starts with a bucket byte below 0xff, so the carry
  // always stops inside it.
  let i = lt.length - 1
  while (i >= 0 && lt[i] === 0xff) lt[i--] = 0
  lt[i]!++
  return { gte: prefix, lt }
}

export function bucketRange(bucket: Bucket): PrefixRange {
  return prefixRange(Uint8Array.of(bucket))
}
