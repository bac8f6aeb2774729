import type { BlobHeader } from '../../erasure/header.ts'
import type { ShardWithProof } from '../../erasure/shard.ts'
import { BLOB_KEY_SIZE, Bucket, type PrefixRange, prefixRange, SHARD_KEY_SIZE } from '../buckets.ts'
import { viewOf } from '../codec.ts'
import { proofBytes, verifyShardProof } from '../commitment.ts'
import { CorruptionReason, CorruptValue } from '../corruption.ts'
import type { BatchOp, RawDb } from '../db.ts'
import { asView, type ReadOptions, Repository } from './repository.ts'

/** Verifies shard `index` of one blob, already known to the caller. */
export type ProofCheck = (index: number, data: Uint8Array, proof: Uint8Array) => boolean

/**
 * Shards: key `0x02 || blobId || index u32`, value `data || proof`. The data length is the header's shard size
 * and the proof length is fixed by (index, n), so the value needs no length fields, and a value of any other
 * length is corrupt.
 */
export class ShardRepository extends Repository {
  constructor(db: RawDb) {
    super(db, Bucket.shard)
  }

  key(blobId: Uint8Array, index: number): Uint8Array {
    const key = new Uint8Array(SHARD_KEY_SIZE)
    key[0] = Bucket.shard
    key.set(blobId, 1)
    viewOf(key).setUint32(BLOB_KEY_SIZE, index)
    return key
  }

  indexOf(key: Uint8Array): number {
    return viewOf(key).getUint32(BLOB_KEY_SIZE)
  }

  blobIdOf(key: Uint8Array): Uint8Array {
    return key.subarray(1, BLOB_KEY_SIZE)
  }

  /** All shard keys of one blob. */
  rangeOf(blobId: Uint8Array): PrefixRange {
    const prefix = new Uint8Array(BLOB_KEY_SIZE)
    prefix[0] = Bucket.shard
    prefix.set(blobId, 1)
    return prefixRange(prefix)
  }

  /** The put of a shard's value `data || proof`, joined only as LevelDB's batch takes it. */
  putShardOp(key: Uint8Array, shard: Pick<ShardWithProof, 'data' | 'proof'>): BatchOp {
    return { type: 'putParts', key, parts: [shard.data, shard.proof] }
  }

  /** Logical bytes of a shard entry (key + value) for quota accounting. */
  entryBytes(index: number, header: Pick<BlobHeader, 'n' | 'shardSize'>): number {
    return SHARD_KEY_SIZE + header.shardSize + proofBytes(header, index)
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
  async indicesOf(blobId: Uint8Array, limit: number, opts?: ReadOptions): Promise<number[]> {
    const keys = await this.keysIn(this.rangeOf(blobId), limit, opts)
    return keys.map((key) => this.indexOf(key))
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return (await this.db.getMany(keys)).map(asView)
  }
}

/** A stored value whose proof does not hold against the blob's root. */
export function proofFailure(): CorruptValue {
  return new CorruptValue(CorruptionReason.proof, 'proof does not verify against the header root')
}
