import { BLOB_ID_SIZE } from '../../erasure/blob-id.ts'
import type { BlobHeader } from '../../erasure/header.ts'
import type { ShardWithProof } from '../../erasure/shard.ts'
import {
  BUCKET_SIZE,
  Bucket,
  INDEX_SIZE,
  type PrefixRange,
  prefixRange,
  SHARD_BY_EXPIRY_KEY_SIZE,
  SHARD_KEY_SIZE,
  TIME_SIZE,
} from '../buckets.ts'
import { viewOf, writeU64 } from '../codec.ts'
import { proofBytes, verifyShardProof } from '../commitment.ts'
import { CorruptionReason, CorruptValue } from '../corruption.ts'
import type { BatchOp, RawDb, ShardParts } from '../db.ts'
import { asView, type ReadOptions, Repository } from './repository.ts'

/** Verifies shard `index` of one blob, already known to the caller. */
export type ProofCheck = (index: number, data: Uint8Array, proof: Uint8Array) => boolean

/**
 * Where one blob's shards are keyed: by its expiry time (`expiresAt` given: bucket `shardByExpiry`, every blob
 * stored under schema 2) or by its blob id alone (bucket `shard`, blobs stored under schema 1).
 */
export interface ShardPlace {
  blobId: Uint8Array
  expiresAt: number | undefined
}

/** The place of a blob's shards as its record (or cached header) states it. */
export function shardPlace(blobId: Uint8Array, blob: { shardsByExpiry: boolean; expiresAt: number }): ShardPlace {
  return { blobId, expiresAt: blob.shardsByExpiry ? blob.expiresAt : undefined }
}

/**
 * Shards: key `0x07 || expiresAt u64 || blobId || index u32` (or `0x02 || blobId || index u32` for blobs stored
 * under schema 1), value `data || proof`. The data length is the header's shard size and the proof length is
 * fixed by (index, n), so the value needs no length fields, and a value of any other length is corrupt. Both
 * layouts end in the index, and both keep one blob's shards in one contiguous range.
 */
export class ShardRepository extends Repository {
  constructor(db: RawDb) {
    super(db, Bucket.shardByExpiry)
  }

  key(place: ShardPlace, index: number): Uint8Array {
    return this.#keyOf(place, index)
  }

  /** The shard index a key of either layout ends in. */
  indexOf(key: Uint8Array): number {
    return viewOf(key).getUint32(key.length - INDEX_SIZE)
  }

  /** All shard keys of one blob. */
  rangeOf(place: ShardPlace): PrefixRange {
    return prefixRange(this.#keyOf(place))
  }

  /** `bucket || [expiresAt] || blobId`, then `index u32` when given: one allocation, one view. */
  #keyOf(place: ShardPlace, index?: number): Uint8Array {
    const { expiresAt } = place
    const idAt = expiresAt === undefined ? BUCKET_SIZE : BUCKET_SIZE + TIME_SIZE
    const key = new Uint8Array(idAt + BLOB_ID_SIZE + (index === undefined ? 0 : INDEX_SIZE))
    key[0] = expiresAt === undefined ? Bucket.shard : Bucket.shardByExpiry
    key.set(place.blobId, idAt)
    if (expiresAt === undefined && index === undefined) return key
    const view = viewOf(key)
    if (expiresAt !== undefined) writeU64(view, BUCKET_SIZE, expiresAt)
    if (index !== undefined) view.setUint32(idAt + BLOB_ID_SIZE, index)
    return key
  }

  /** The puts of shards of one blob, each value `data || proof`: one op, keys and values made as LevelDB takes them. */
  putShardsOp(place: ShardPlace, shards: readonly ShardParts[]): BatchOp {
    return { type: 'putShards', keyPrefix: this.#keyOf(place), shards }
  }

  /** Logical bytes of a shard entry (key + value) for quota accounting. */
  entryBytes(place: ShardPlace, index: number, header: Pick<BlobHeader, 'n' | 'shardSize'>): number {
    return this.entryBytesOfKey(
      place.expiresAt === undefined ? SHARD_KEY_SIZE : SHARD_BY_EXPIRY_KEY_SIZE,
      index,
      header,
    )
  }

  /** As entryBytes, for a key of `keyLength` bytes. */
  entryBytesOfKey(keyLength: number, index: number, header: Pick<BlobHeader, 'n' | 'shardSize'>): number {
    return keyLength + header.shardSize + proofBytes(header, index)
  }

  /**
   * Splits a stored value and re-verifies its proof against the header (with `check` when given, a verifier that
   * remembers proofs it has seen hold); throws CorruptValue if it fails.
   */
  open(value: Uint8Array, index: number, header: BlobHeader, check?: ProofCheck): ShardWithProof {
    const shard = this.split(value, index, header)
    if (!(check ? check(index, shard.data, shard.proof) : verifyShardProof(header, index, shard.data, shard.proof))) {
      throw proofFailure()
    }
    return shard
  }

  /**
   * Splits a stored value into data and proof, checking only its length (throws CorruptValue); the caller checks
   * the proof (reads of many shards check theirs together) and throws `proofFailure()` for one that fails.
   */
  split(value: Uint8Array, index: number, header: Pick<BlobHeader, 'n' | 'shardSize'>): ShardWithProof {
    const expected = header.shardSize + proofBytes(header, index)
    if (value.length !== expected) {
      throw new CorruptValue(CorruptionReason.length, `shard value of ${value.length} bytes, expected ${expected}`)
    }
    return { index, data: value.subarray(0, header.shardSize), proof: value.subarray(header.shardSize) }
  }

  /** Indices of the shards held for a blob, in order; at most `limit`. */
  async indicesOf(place: ShardPlace, limit: number, opts?: ReadOptions): Promise<number[]> {
    const keys = await this.keysIn(this.rangeOf(place), limit, opts)
    return keys.map((key) => this.indexOf(key))
  }

  /**
   * indicesOf by point reads of each index below `n`, for when a damaged LevelDB block under the blob's range makes
   * the range scan fail (CorruptValue): the readable indices held, and those whose read failed on the damage.
   */
  async indicesByPoint(place: ShardPlace, n: number): Promise<{ held: number[]; unreadable: number[] }> {
    const held: number[] = []
    const unreadable: number[] = []
    for (let index = 0; index < n; index++) {
      try {
        if ((await this.getRaw(this.key(place, index))) !== undefined) held.push(index)
      } catch (err) {
        if (!(err instanceof CorruptValue)) throw err
        unreadable.push(index)
      }
    }
    return { held, unreadable }
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return (await this.db.getMany(keys)).map(asView)
  }
}

/** A stored value whose proof does not hold against the blob's root. */
export function proofFailure(): CorruptValue {
  return new CorruptValue(CorruptionReason.proof, 'proof does not verify against the header root')
}
