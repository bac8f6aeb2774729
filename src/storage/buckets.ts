import { BLOB_ID_SIZE } from '../erasure/blob-id.ts'

/**
 * Every key starts with one bucket byte naming the stored type, followed by fixed-width big-endian parts, so
 * that one bucket is one contiguous key range and iteration order is (blob id, shard index) or (time, blob id).
 * A retired number is never reused: a store written by an older build must never have its old entries read as
 * a new type. Key and value layouts are documented in docs/STORAGE.md.
 */
export const Bucket = {
  /** Schema version and the usage counters. */
  meta: 0x00,
  /** Blob record: state, store and expiry times, shard count, header bytes. Key: blob id. */
  blob: 0x01,
  /** Shard data followed by its Merkle proof. Key: blob id, shard index u32. */
  shard: 0x02,
  /** This node's own attestation, opaque bytes. Key: blob id. */
  attestation: 0x03,
  /** A certificate for the blob, opaque bytes. Key: blob id. */
  certificate: 0x04,
  /** Expiry index in time order. Key: expiresAt u64 ms, blob id. Value: n and shard size for a resumed prune. */
  expiry: 0x05,
  /** Record of a corrupt entry that was removed. Key: the removed entry's whole key. */
  quarantine: 0x06,
} as const

export type Bucket = (typeof Bucket)[keyof typeof Bucket]

export const BUCKET_SIZE = 1
export const INDEX_SIZE = 4
export const TIME_SIZE = 8
/** Keys addressed by blob id alone: blob record, attestation, certificate. */
export const BLOB_KEY_SIZE = BUCKET_SIZE + BLOB_ID_SIZE
export const SHARD_KEY_SIZE = BLOB_KEY_SIZE + INDEX_SIZE
export const EXPIRY_KEY_SIZE = BUCKET_SIZE + TIME_SIZE + BLOB_ID_SIZE

export function bucketName(bucket: number): string {
  for (const [name, value] of Object.entries(Bucket)) if (value === bucket) return name
  return `unknown(0x${bucket.toString(16).padStart(2, '0')})`
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
