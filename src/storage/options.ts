import { MAX_TIMER_MS } from '../timer-limit.ts'
import type { CorruptEntry } from './corruption.ts'
import { StorageErrorCode, storageError } from './errors.ts'

const MS_PER_DAY = 24 * 60 * 60 * 1000
const GiB = 1024 ** 3
const MiB = 1024 ** 2

/** Committee default: blobs stay available for two weeks, long enough for any L1 dispute window we target. */
export const DEFAULT_RETENTION_MS = 14 * MS_PER_DAY
/** 100 GiB of logical bytes: two weeks of a busy rollup's share at a few MiB per blob, on a modest disk. */
export const DEFAULT_QUOTA_BYTES = 100 * GiB
/** Deletions per prune batch: small enough that a batch (and the writes queued behind it) takes milliseconds. */
export const DEFAULT_PRUNE_BATCH_ENTRIES = 256
/** How often the background pruner looks for expired blobs; retention is days, so a minute is plenty. */
export const DEFAULT_PRUNE_INTERVAL_MS = 60_000
/** Decoded headers kept in memory so a shard read is one LevelDB get; ~250 bytes each, so about 1 MiB. */
export const DEFAULT_HEADER_CACHE_ENTRIES = 4096
/** Writes allowed to wait behind the one in progress; past this a write is refused with STORAGE_BUSY. */
export const DEFAULT_MAX_PENDING_WRITES = 64
/**
 * Proofs remembered by shard reads (see `verifiedProofEntries`): at most 9 MiB (an entry is 64 bytes and a proof of
 * at most 16 hashes). With shards near 4 KiB (PROTOCOL.md §2.3) a member of 16 stores about 1,024 shards of a 16 MiB
 * blob, so this covers its last 16 such blobs, or hundreds of small ones: the recent blobs light clients sample.
 */
export const DEFAULT_VERIFIED_PROOF_ENTRIES = 16_384
/**
 * LevelDB memtable: one node's share of a 32 MiB blob fits several times over, so a put rarely waits for a
 * memtable flush (LevelDB's 4 MiB default stalls every large batch).
 */
export const DEFAULT_WRITE_BUFFER_BYTES = 64 * MiB
/** LevelDB block cache for reads; hot shards (recent blobs being sampled) stay in memory. */
export const DEFAULT_BLOCK_CACHE_BYTES = 64 * MiB
/** LevelDB table file size: 32 MiB keeps a 100 GiB store near 3,000 files instead of 50,000 at the 2 MiB default. */
export const DEFAULT_MAX_FILE_BYTES = 32 * MiB
/**
 * Blobs stored this recently have their shard point reads served with LevelDB's synchronous get (see
 * `syncReads`): their bytes were written minutes ago, so they sit in the memtable or the page cache and a
 * synchronous read costs ~15 µs instead of a ~50 µs thread-pool hop. Light clients sample exactly these blobs.
 */
export const DEFAULT_SYNC_READ_WINDOW_MS = 10 * 60_000

/** How shard point reads reach LevelDB: see `ShardStoreOptions.syncReads`. */
export type SyncReads = boolean | 'recent'

export interface ShardStoreOptions {
  /** Retention for blobs stored without their own; default DEFAULT_RETENTION_MS. */
  retentionMs?: number
  /** Quota in logical bytes (keys + values, see docs/STORAGE.md); default DEFAULT_QUOTA_BYTES. */
  quotaBytes?: number
  pruneBatchEntries?: number
  /** Default DEFAULT_PRUNE_INTERVAL_MS; at most 2^31 - 1 (a timer's longest delay). */
  pruneIntervalMs?: number
  /** Run the background pruner (default true). Off for tools that only read, and for tests that prune by hand. */
  backgroundPrune?: boolean
  headerCacheEntries?: number
  /**
   * Shard reads remember this many proofs that held (LRU), so that a repeated read of a shard hashes its data and
   * compares bytes instead of hashing the whole proof path; default DEFAULT_VERIFIED_PROOF_ENTRIES, 0 turns it off.
   */
  verifiedProofEntries?: number
  maxPendingWrites?: number
  /** Create the directory and an empty store if missing (default true); the integrity check sets it false. */
  createIfMissing?: boolean
  writeBufferBytes?: number
  blockCacheBytes?: number
  maxFileBytes?: number
  /**
   * Shard point reads (getShard, getShards) with LevelDB's synchronous get. It saves the thread-pool hop
   * (about 50 µs per read on the reference machine), but a read that misses the memtable and the page cache
   * blocks the event loop for the disk read. `'recent'` (default): synchronous for blobs stored within
   * `syncReadWindowMs`, whose bytes are still in memory, asynchronous for older ones; `true`: always (local
   * NVMe); `false`: never (network-attached disks). Whole-blob reads always stream asynchronously.
   */
  syncReads?: SyncReads
  /** The window of `syncReads: 'recent'`, in ms since a blob was stored; default DEFAULT_SYNC_READ_WINDOW_MS. */
  syncReadWindowMs?: number
  /** Wall clock in ms; injected by tests. */
  now?: () => number
  /** Called once per corrupt entry detected, after it was quarantined (metrics and logs hook). */
  onCorruptEntry?: (entry: CorruptEntry) => void
  /** Called when a background prune fails; it is retried at the next interval. */
  onBackgroundError?: (err: unknown) => void
}

export type ResolvedOptions = Required<Omit<ShardStoreOptions, 'onCorruptEntry' | 'onBackgroundError'>> &
  Pick<ShardStoreOptions, 'onCorruptEntry' | 'onBackgroundError'>

export function resolveOptions(opts: ShardStoreOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    retentionMs: opts.retentionMs ?? DEFAULT_RETENTION_MS,
    quotaBytes: opts.quotaBytes ?? DEFAULT_QUOTA_BYTES,
    pruneBatchEntries: opts.pruneBatchEntries ?? DEFAULT_PRUNE_BATCH_ENTRIES,
    pruneIntervalMs: opts.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS,
    backgroundPrune: opts.backgroundPrune ?? true,
    headerCacheEntries: opts.headerCacheEntries ?? DEFAULT_HEADER_CACHE_ENTRIES,
    verifiedProofEntries: opts.verifiedProofEntries ?? DEFAULT_VERIFIED_PROOF_ENTRIES,
    maxPendingWrites: opts.maxPendingWrites ?? DEFAULT_MAX_PENDING_WRITES,
    createIfMissing: opts.createIfMissing ?? true,
    syncReads: opts.syncReads ?? 'recent',
    syncReadWindowMs: opts.syncReadWindowMs ?? DEFAULT_SYNC_READ_WINDOW_MS,
    writeBufferBytes: opts.writeBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES,
    blockCacheBytes: opts.blockCacheBytes ?? DEFAULT_BLOCK_CACHE_BYTES,
    maxFileBytes: opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    now: opts.now ?? Date.now,
    onCorruptEntry: opts.onCorruptEntry,
    onBackgroundError: opts.onBackgroundError,
  }
  validateOptions(resolved)
  return resolved
}

function validateOptions(o: ResolvedOptions): void {
  const positive: (keyof ResolvedOptions)[] = [
    'retentionMs',
    'quotaBytes',
    'pruneBatchEntries',
    'pruneIntervalMs',
    'headerCacheEntries',
    'maxPendingWrites',
    'writeBufferBytes',
    'blockCacheBytes',
    'maxFileBytes',
    'syncReadWindowMs',
  ]
  for (const name of positive) {
    const value = o[name]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw storageError(StorageErrorCode.INVALID_OPTIONS, `${name} must be a positive integer, got ${value}`, {
        option: name,
      })
    }
  }
  if (o.pruneIntervalMs > MAX_TIMER_MS) {
    throw storageError(
      StorageErrorCode.INVALID_OPTIONS,
      `pruneIntervalMs must be at most ${MAX_TIMER_MS} (a timer's longest delay), got ${o.pruneIntervalMs}`,
      { option: 'pruneIntervalMs' },
    )
  }
  const memo = o.verifiedProofEntries
  if (typeof memo !== 'number' || !Number.isSafeInteger(memo) || memo < 0) {
    throw storageError(
      StorageErrorCode.INVALID_OPTIONS,
      `verifiedProofEntries must be a non-negative integer, got ${memo}`,
      { option: 'verifiedProofEntries' },
    )
  }
  if (o.syncReads !== true && o.syncReads !== false && o.syncReads !== 'recent') {
    throw storageError(StorageErrorCode.INVALID_OPTIONS, `syncReads must be true, false or 'recent'`, {
      option: 'syncReads',
    })
  }
  checkRetention(o.retentionMs)
  if (typeof o.now !== 'function') {
    throw storageError(StorageErrorCode.INVALID_OPTIONS, 'now must be a function', { option: 'now' })
  }
}

/** The longest retention a blob may be stored for: a hundred years (its expiry stays a safe integer of ms). */
export const MAX_RETENTION_MS = 3_155_760_000_000

/** Retention of one blob: the caller's, else the store default. */
export function checkRetention(retentionMs: number): number {
  // Zero would store a blob that is already expired: stored, yet refused an attestation.
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 1 || retentionMs > MAX_RETENTION_MS) {
    throw storageError(
      StorageErrorCode.INVALID_OPTIONS,
      `retentionMs must be a whole number in 1..${MAX_RETENTION_MS}`,
      {
        option: 'retentionMs',
        retentionMs,
      },
    )
  }
  return retentionMs
}
