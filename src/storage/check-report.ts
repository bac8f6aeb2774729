import type { CorruptEntry } from './corruption.ts'
import type { Usage } from './usage.ts'

export interface CheckOptions {
  /** Also quarantine the corrupt entries found (default false: the check only reads). */
  quarantine?: boolean
  /** How many items each list in the report holds at most; the counts are always complete. Default 100. */
  maxListed?: number
}

/** A stored blob with fewer shards than its record counts, and no quarantine record to explain the gap. */
export interface IncompleteBlob {
  blobId: string
  /** Shards the record counts; null when the record itself is missing. */
  expectedShards: number | null
  /** Shard entries found, valid or corrupt. */
  presentShards: number
  /** Shards of this blob quarantined earlier. */
  quarantinedShards: number
  /** Whether this node's own attestation for the blob exists. */
  attested: boolean
}

export interface ReportList<T> {
  count: number
  items: T[]
}

/** What `check()` (and `dacnet db check`) reports. Counts come from one consistent snapshot of the store. */
export interface IntegrityReport {
  /** No corruption found now, no attested blob missing shards, no incomplete blob, counters match the data. */
  ok: boolean
  /** False when a damaged block stopped the scan early; the counts then cover only what was read. */
  complete: boolean
  schemaVersion: number
  checkedAt: number
  durationMs: number
  /** Blob records in state `stored` that decode and hash to their id. */
  blobs: number
  /** Blob records in state `pruning` (a prune is under way). */
  pruningBlobs: number
  /** Stored blobs past their expiry that the pruner has not reached yet. */
  expiredBlobs: number
  /** Shard entries whose proof verified. */
  shards: number
  attestations: number
  certificates: number
  /** Entries that failed their check during this run. */
  corrupt: ReportList<CorruptEntry>
  /** How many of those this run quarantined (with `quarantine: true`). */
  quarantinedNow: number
  /** Quarantine records from earlier detections. */
  quarantined: number
  /** Attested blobs with shards missing and unexplained by corruption. Must always be zero. */
  attestedMissingShards: ReportList<IncompleteBlob>
  /** Stored blobs (attested or not) with shards missing and unexplained by corruption. */
  incompleteBlobs: ReportList<IncompleteBlob>
  /** Shard entries without a readable blob record (left by a quarantined record; removed at expiry). */
  orphanShards: number
  /**
   * Shard entries still under schema 1's blob-id keys (of the shards counted above): blobs stored before the store
   * was upgraded to schema 2 keep them until they expire, so this falls to zero within one retention period.
   */
  schemaOneShards: number
  /** Stored blobs without their expiry entry: they would never be pruned. */
  missingExpiry: number
  /** Entries in no known bucket, or with a key of the wrong width. */
  unknownEntries: number
  usage: {
    /** The counters as kept in meta. */
    recorded: Usage
    /** The same quantities counted from the data (corruptDetected is a history and has no scanned value). */
    scanned: Omit<Usage, 'corruptDetected'>
    consistent: boolean
  }
}
