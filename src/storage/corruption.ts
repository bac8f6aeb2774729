/** Why a stored entry was judged corrupt. Stored as one byte in quarantine records (see docs/STORAGE.md). */
export const CorruptionReason = {
  /** A shard's Merkle proof does not prove its data against the header root. */
  proof: 'proof',
  /** The value's length is not the one its type and header fix. */
  length: 'length',
  /** A blob record's header bytes do not hash to the blob id in its key. */
  hash: 'hash',
  /** The value does not decode (unknown state byte, invalid header fields). */
  undecodable: 'undecodable',
  /** LevelDB itself reported the block holding it as damaged. */
  unreadable: 'unreadable',
} as const

export type CorruptionReason = (typeof CorruptionReason)[keyof typeof CorruptionReason]

/** Reason bytes in quarantine records. Never renumber: old records must keep their meaning. */
const REASON_BYTES: Record<CorruptionReason, number> = {
  proof: 1,
  length: 2,
  hash: 3,
  undecodable: 4,
  unreadable: 5,
}

export function reasonToByte(reason: CorruptionReason): number {
  return REASON_BYTES[reason]
}

export function reasonFromByte(byte: number): CorruptionReason | undefined {
  for (const [reason, value] of Object.entries(REASON_BYTES)) if (value === byte) return reason as CorruptionReason
  return undefined
}

/** Thrown by value decoders inside src/storage; the store turns it into a quarantine and STORAGE_CORRUPT_ENTRY. */
export class CorruptValue extends Error {
  readonly reason: CorruptionReason

  constructor(reason: CorruptionReason, message: string) {
    super(message)
    this.name = 'CorruptValue'
    this.reason = reason
  }
}

/** What the store reports for each corrupt entry it finds, to `onCorruptEntry` and in the integrity report. */
export interface CorruptEntry {
  /** Bucket name of the damaged entry: "blob" or "shard" (the only types whose content can be re-checked). */
  bucket: string
  /** Blob id string (CID base32) from the entry's key. */
  blobId: string
  /** Shard index, for shard entries. */
  index?: number
  reason: CorruptionReason
  detail: string
}
