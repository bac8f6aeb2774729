import { createHash } from 'node:crypto'
import { Bucket, blobKey, type PrefixRange, prefixRange } from '../buckets.ts'
import { concatBytes, readU64, viewOf, writeU64 } from '../codec.ts'
import { type CorruptionReason, reasonFromByte, reasonToByte } from '../corruption.ts'
import type { BatchOp, RawDb } from '../db.ts'
import { Repository } from './repository.ts'

export interface QuarantineRecord {
  /** Wall-clock ms when the corruption was detected. */
  detectedAt: number
  reason: CorruptionReason | 'unknown'
  /** Length of the bad value as found (0 when LevelDB could not read it). */
  valueLength: number
  /** SHA-256 of the bad value (zeros when unreadable): enough to tell a bit flip from a foreign write later. */
  valueHash: Uint8Array
}

/** detectedAt u64, reason u8, valueLength u32, valueHash 32 bytes. */
const RECORD_SIZE = 8 + 1 + 4 + 32

/**
 * Quarantine: key `0x06 || original key` (the original key keeps its own bucket byte and width), value the
 * fixed-size record above. The bad value itself is deleted rather than kept, so quarantine cannot grow the
 * store by more than a few dozen bytes per corrupt entry; the records are pruned with their blob.
 */
export class QuarantineRepository extends Repository {
  constructor(db: RawDb) {
    super(db, Bucket.quarantine)
  }

  key(originalKey: Uint8Array): Uint8Array {
    return concatBytes(Uint8Array.of(Bucket.quarantine), originalKey)
  }

  originalKeyOf(key: Uint8Array): Uint8Array {
    return key.subarray(1)
  }

  entryBytes(originalKey: Uint8Array): number {
    return 1 + originalKey.length + RECORD_SIZE
  }

  put(originalKey: Uint8Array, reason: CorruptionReason, detectedAt: number, badValue?: Uint8Array): BatchOp {
    const value = new Uint8Array(RECORD_SIZE)
    const view = viewOf(value)
    writeU64(view, 0, detectedAt)
    view.setUint8(8, reasonToByte(reason))
    view.setUint32(9, badValue?.length ?? 0)
    if (badValue) value.set(createHash('sha256').update(badValue).digest(), 13)
    return this.putOp(this.key(originalKey), value)
  }

  decode(value: Uint8Array): QuarantineRecord {
    if (value.length !== RECORD_SIZE) return { detectedAt: 0, reason: 'unknown', valueLength: 0, valueHash: value }
    const view = viewOf(value)
    return {
      detectedAt: readU64(view, 0),
      reason: reasonFromByte(view.getUint8(8)) ?? 'unknown',
      valueLength: view.getUint32(9),
      valueHash: value.subarray(13),
    }
  }

  /** Quarantine keys of a blob record's entry: `0x06 || 0x01 || blobId`. */
  recordRangeOf(blobId: Uint8Array): PrefixRange {
    return prefixRange(this.key(blobKey(Bucket.blob, blobId)))
  }

  /** Quarantine keys of the entries once under `original`, a range of original keys given by its prefix. */
  rangeOver(original: PrefixRange): PrefixRange {
    return prefixRange(this.key(original.gte))
  }
}
