/**
 * The store's running totals, kept in meta and rewritten in the same batch as every change they describe, so
 * they are exact after any crash and opening the store never scans it.
 */
export interface Usage {
  /** Logical bytes: the sum of key + value lengths of every entry outside meta. This is what the quota bounds. */
  bytes: number
  /** Blob records in state `stored`. */
  blobs: number
  /** Shard entries. */
  shards: number
  /** Quarantine records currently held (they are pruned with their blob). */
  quarantined: number
  /** Corrupt entries ever detected by this store, a monotonic counter for operators and metrics. */
  corruptDetected: number
}

export type UsageDelta = Partial<Usage>

export function emptyUsage(): Usage {
  return { bytes: 0, blobs: 0, shards: 0, quarantined: 0, corruptDetected: 0 }
}

/** Adds a delta; counters never go below zero (only a hand-edited database could drive them there). */
export function applyDelta(usage: Usage, delta: UsageDelta): Usage {
  const sum = (field: keyof Usage) => Math.max(0, usage[field] + (delta[field] ?? 0))
  return {
    bytes: sum('bytes'),
    blobs: sum('blobs'),
    shards: sum('shards'),
    quarantined: sum('quarantined'),
    corruptDetected: sum('corruptDetected'),
  }
}

/** Accumulates a delta while a batch is being planned. */
export class DeltaBuilder {
  readonly delta: Required<UsageDelta> = emptyUsage()

  add(field: keyof Usage, amount: number): void {
    this.delta[field] += amount
  }
}
