import { BLOB_ID_SIZE } from '../../erasure/blob-id.ts'
import { BUCKET_SIZE, Bucket, EXPIRY_KEY_SIZE } from '../buckets.ts'
import { readU64, viewOf, writeU64 } from '../codec.ts'
import type { BatchOp, RawDb } from '../db.ts'
import { Repository } from './repository.ts'

export interface ExpiryEntry {
  key: Uint8Array
  expiresAt: number
  blobId: Uint8Array
}

const EMPTY = new Uint8Array(0)

/**
 * Expiry index: key `0x05 || expiresAt u64 ms || blobId`, empty value. Keys sort by time, so the blobs due for
 * pruning are always the head of the bucket, and a prune interrupted by a crash resumes there: an entry is
 * deleted only in the batch that deletes the last of its blob.
 */
export class ExpiryRepository extends Repository {
  constructor(db: RawDb) {
    super(db, Bucket.expiry)
  }

  key(expiresAt: number, blobId: Uint8Array): Uint8Array {
    const key = new Uint8Array(EXPIRY_KEY_SIZE)
    key[0] = Bucket.expiry
    writeU64(viewOf(key), BUCKET_SIZE, expiresAt)
    key.set(blobId, BUCKET_SIZE + 8)
    return key
  }

  decodeKey(key: Uint8Array): ExpiryEntry {
    if (key.length < BUCKET_SIZE + 8) return { key, expiresAt: 0, blobId: new Uint8Array(0) }
    return { key, expiresAt: readU64(viewOf(key), BUCKET_SIZE), blobId: key.subarray(BUCKET_SIZE + 8) }
  }

  /** Logical bytes of an expiry entry: the key alone, the value is empty. */
  readonly entryBytes = EXPIRY_KEY_SIZE

  put(expiresAt: number, blobId: Uint8Array): BatchOp {
    return this.putOp(this.key(expiresAt, blobId), EMPTY)
  }

  /** Up to `limit` entries with expiresAt <= now, oldest first. */
  async due(now: number, limit: number): Promise<ExpiryEntry[]> {
    // Everything below (now + 1, zero blob id) has expiresAt <= now.
    const lt = this.key(now + 1, new Uint8Array(BLOB_ID_SIZE))
    const keys = await this.keysIn({ gte: Uint8Array.of(Bucket.expiry), lt }, limit)
    // A key of the wrong width (written by hand) decodes with a short blob id; the pruner just deletes it.
    return keys.map((key) => this.decodeKey(key))
  }
}
