import { blobIdOf } from '../../erasure/blob-id.ts'
import { type BlobHeader, decodeHeader, HEADER_SIZE } from '../../erasure/header.ts'
import { bytesEqual } from '../../erasure/merkle.ts'
import { BLOB_KEY_SIZE, Bucket, blobKey } from '../buckets.ts'
import { readU64, viewOf, writeU64 } from '../codec.ts'
import { CorruptionReason, CorruptValue } from '../corruption.ts'
import type { BatchOp, RawDb } from '../db.ts'
import { type ReadOptions, Repository } from './repository.ts'

/**
 * A blob's lifecycle as its record states it. `stored`: readable and attestable. `pruning`: expired, its
 * attestation and certificate already removed and its shards being deleted in bounded batches; readers treat
 * it as not held, and a new store of the same blob waits until the record is gone.
 */
export const BlobState = { stored: 1, pruning: 2 } as const
export type BlobState = (typeof BlobState)[keyof typeof BlobState]

/** Set in a record's first byte (beside the state) when its shards are keyed by expiry (bucket `shardByExpiry`). */
const SHARDS_BY_EXPIRY_FLAG = 0x80

/** The state a raw record value states, without decoding the rest (for the accounting of a damaged record). */
export function rawRecordState(value: Uint8Array | undefined): number | undefined {
  return value?.[0] === undefined ? undefined : value[0] & ~SHARDS_BY_EXPIRY_FLAG
}

export interface BlobRecord {
  state: BlobState
  /** Wall-clock ms when the blob was first stored. */
  storedAt: number
  /** storedAt + retention: the pruner removes the blob once now passes this. */
  expiresAt: number
  /** Shards of this blob that the store holds (the node's assignment, possibly grown by later stores). */
  shardCount: number
  /**
   * True for blobs stored under schema 2 and later: their shards are keyed by (expiresAt, blob id, index). False for
   * blobs stored before, whose shards stay keyed by (blob id, index) until they are pruned.
   */
  shardsByExpiry: boolean
  headerBytes: Uint8Array
  header: BlobHeader
}

/** state u8 (with the shards-by-expiry flag), storedAt u64, expiresAt u64, shardCount u32; the header bytes follow. */
const RECORD_FIXED_SIZE = 1 + 8 + 8 + 4

/** Blob records: key `0x01 || blobId`, value as above. The header bytes must hash to the key's blob id. */
export class BlobRepository extends Repository {
  constructor(db: RawDb) {
    super(db, Bucket.blob)
  }

  key(blobId: Uint8Array): Uint8Array {
    return blobKey(Bucket.blob, blobId)
  }

  /** Logical bytes of a record entry (key + value) for quota accounting. */
  entryBytes(headerLength: number = HEADER_SIZE): number {
    return BLOB_KEY_SIZE + RECORD_FIXED_SIZE + headerLength
  }

  encode(record: Omit<BlobRecord, 'header'>): Uint8Array {
    const out = new Uint8Array(RECORD_FIXED_SIZE + record.headerBytes.length)
    const view = viewOf(out)
    view.setUint8(0, record.state | (record.shardsByExpiry ? SHARDS_BY_EXPIRY_FLAG : 0))
    writeU64(view, 1, record.storedAt)
    writeU64(view, 9, record.expiresAt)
    view.setUint32(17, record.shardCount)
    out.set(record.headerBytes, RECORD_FIXED_SIZE)
    return out
  }

  /** Decodes and re-checks a record; anything that does not match its key throws CorruptValue. */
  decode(blobId: Uint8Array, value: Uint8Array): BlobRecord {
    if (value.length <= RECORD_FIXED_SIZE) {
      throw new CorruptValue(CorruptionReason.length, `blob record of ${value.length} bytes`)
    }
    const view = viewOf(value)
    const first = view.getUint8(0)
    const state = first & ~SHARDS_BY_EXPIRY_FLAG
    if (state !== BlobState.stored && state !== BlobState.pruning) {
      throw new CorruptValue(CorruptionReason.undecodable, `unknown blob state ${state}`)
    }
    const headerBytes = value.subarray(RECORD_FIXED_SIZE)
    // The blob id is the CID of the header bytes: comparing it is the integrity check of the whole header.
    if (!bytesEqual(blobIdOf(headerBytes).bytes, blobId)) {
      throw new CorruptValue(CorruptionReason.hash, 'header bytes do not hash to the blob id')
    }
    let header: BlobHeader
    try {
      header = decodeHeader(headerBytes)
    } catch (err) {
      throw new CorruptValue(CorruptionReason.undecodable, (err as Error).message)
    }
    return {
      state,
      storedAt: readU64(view, 1),
      expiresAt: readU64(view, 9),
      shardCount: view.getUint32(17),
      shardsByExpiry: (first & SHARDS_BY_EXPIRY_FLAG) !== 0,
      headerBytes,
      header,
    }
  }

  /** The record, undefined if absent; throws CorruptValue if present but damaged. */
  async get(blobId: Uint8Array, opts?: ReadOptions): Promise<BlobRecord | undefined> {
    const value = await this.getRaw(this.key(blobId), opts)
    return value === undefined ? undefined : this.decode(blobId, value)
  }

  putRecord(blobId: Uint8Array, record: Omit<BlobRecord, 'header'>): BatchOp {
    return this.putOp(this.key(blobId), this.encode(record))
  }
}
