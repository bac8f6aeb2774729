import { parseBlobId } from '../erasure/blob-id.ts'
import type { BlobHeader } from '../erasure/header.ts'
import { bytesEqual } from '../erasure/merkle.ts'
import type { DacnetError } from '../errors.ts'
import { Bucket, bucketName, isShardBucket } from './buckets.ts'
import { blobIdKey } from './codec.ts'
import type { StoreCore } from './core.ts'
import { type CorruptEntry, type CorruptionReason, CorruptValue } from './corruption.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import { BlobState, rawRecordState } from './repositories/blobs.ts'
import { DeltaBuilder } from './usage.ts'

/** A damaged blob record or shard entry, as its reader found it. */
export interface QuarantineTarget {
  key: Uint8Array
  blobId: Uint8Array
  /** Shard index (shard entries only). */
  index?: number
  reason: CorruptionReason
  detail: string
  /** The value as read; undefined when LevelDB could not read it. */
  badValue?: Uint8Array | undefined
  /** The blob's header, for shard entries: fixes the size that was accounted when the shard was stored. */
  header?: BlobHeader | undefined
}

/**
 * Moves a corrupt entry out of the readable buckets: deletes it and writes a quarantine record in one batch,
 * counts it, reports it to `onCorruptEntry`, and returns the STORAGE_CORRUPT_ENTRY error for the reader to
 * throw. After this the entry reads as "not held", so it is never served; storing the blob again restores it.
 */
export async function quarantine(core: StoreCore, target: QuarantineTarget): Promise<DacnetError> {
  const moved = await core.exclusive(() => quarantineLocked(core, target))
  return corruptError(core, target, moved)
}

/** Reports a detection (once: only when this caller moved the entry) and builds the error to throw. */
export function corruptError(core: StoreCore, target: QuarantineTarget, moved: boolean): DacnetError {
  const entry = describe(target)
  if (moved) core.opts.onCorruptEntry?.(entry)
  const where = entry.index === undefined ? '' : ` shard ${entry.index}`
  return storageError(
    StorageErrorCode.CORRUPT_ENTRY,
    `corrupt ${entry.bucket} entry for blob ${entry.blobId}${where} (${entry.reason}: ${entry.detail}); quarantined`,
    { ...entry },
  )
}

/**
 * The quarantine batch itself, for callers already inside a write-queue task. Returns false when the entry is
 * gone or was replaced since it was read (another reader quarantined it first, or a store rewrote it), so each
 * corruption is counted once.
 */
export async function quarantineLocked(core: StoreCore, target: QuarantineTarget): Promise<boolean> {
  const { repos } = core
  let current: Uint8Array | undefined | 'unreadable'
  try {
    current = await repos.blobs.getRaw(target.key)
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    current = 'unreadable'
  }
  if (current === undefined) return false
  if (current === 'unreadable' ? target.badValue !== undefined : !sameBytes(current, target.badValue)) return false

  const delta = new DeltaBuilder()
  const isBlobRecord = target.key[0] === Bucket.blob
  if (isBlobRecord) {
    delta.add('bytes', -repos.blobs.entryBytes())
    // A record already in state `pruning` was taken out of the blob count when it entered that state.
    if (rawRecordState(target.badValue) !== BlobState.pruning) delta.add('blobs', -1)
  } else {
    const accounted =
      target.header && target.index !== undefined
        ? repos.shards.entryBytesOfKey(target.key.length, target.index, target.header)
        : target.key.length + (target.badValue?.length ?? 0)
    delta.add('bytes', -accounted)
    delta.add('shards', -1)
  }
  // The same entry quarantined before (then repaired by a re-store, then damaged again): its record is replaced,
  // not added, so it is counted once.
  const earlier = await repos.quarantine.getRaw(repos.quarantine.key(target.key)).catch(() => undefined)
  if (earlier === undefined) {
    delta.add('bytes', repos.quarantine.entryBytes(target.key))
    delta.add('quarantined', 1)
  }
  delta.add('corruptDetected', 1)
  const ops = [
    repos.blobs.delOp(target.key),
    repos.quarantine.put(target.key, target.reason, core.opts.now(), target.badValue),
  ]
  // Synced, like every batch that carries usage counters: a later synced batch, whose counters assume this one,
  // must not survive a power loss without it (LevelDB does not sync an old log when it switches memtables).
  await core.commit(ops, delta.delta)
  if (isBlobRecord) core.cache.delete(blobIdKey(target.blobId))
  return true
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && bytesEqual(a, b)
}

export function describe(target: QuarantineTarget): CorruptEntry {
  const entry: CorruptEntry = {
    // Both shard layouts are reported as `shard`: where a shard is keyed is the store's business.
    bucket: isShardBucket(target.key[0]) ? bucketName(Bucket.shard) : bucketName(target.key[0] ?? -1),
    blobId: blobIdString(target.blobId),
    reason: target.reason,
    detail: target.detail,
  }
  if (target.index !== undefined) entry.index = target.index
  return entry
}

export function blobIdString(blobId: Uint8Array): string {
  try {
    return parseBlobId(blobId).toString()
  } catch {
    return Buffer.from(blobId).toString('hex')
  }
}
