import { BLOB_ID_SIZE } from '../erasure/blob-id.ts'
import type { PrefixRange } from './buckets.ts'
import { blobIdKey } from './codec.ts'
import type { StoreCore } from './core.ts'
import { CorruptValue } from './corruption.ts'
import type { BatchOp } from './db.ts'
import { type BlobRecord, BlobState, rawRecordState } from './repositories/blobs.ts'
import type { ExpiryEntry } from './repositories/expiry.ts'
import { type ShardPlace, shardPlace } from './repositories/shards.ts'
import { DeltaBuilder } from './usage.ts'

export interface PruneStepResult {
  /** Blobs whose last entry was deleted in this step. */
  blobs: number
  /** Entries deleted (and records rewritten) in this step. */
  entries: number
}

/**
 * One bounded prune batch, run inside a write-queue task: at most `budget` operations on blobs whose expiry
 * time has passed, oldest first. A blob goes in three phases, each of which may span several steps:
 *
 *  1. its record turns `pruning` and its attestation and certificate are deleted, in one batch: from then on
 *     it reads as not held and nothing vouches for it, so no attestation ever outlives its shards;
 *  2. its shards are deleted, `budget` at a time;
 *  3. its quarantine records, its record and its expiry entry are deleted together.
 *
 * The expiry entry goes last, so after a crash the next step finds the blob at the head of the index again and
 * carries on; every phase is idempotent. Batches are synced: the usage counters they carry must not be lost
 * while a later synced batch (which carries counters computed after them) survives, and LevelDB does not sync
 * an old log when it switches memtables. One fsync per bounded step costs nothing next to retention.
 *
 * A damaged LevelDB block under a blob's shard range (range scans fail on it) must not stop pruning: the blob's
 * shards are then deleted by point, index by index, which never scans the damaged block.
 */
export async function pruneStep(core: StoreCore, budget: number): Promise<PruneStepResult> {
  const due = await core.repos.expiry.due(core.opts.now(), budget)
  const plan: Plan = { ops: [], delta: new DeltaBuilder(), blobs: 0, evict: [] }
  const planned = new Set<string>()
  for (const entry of due) {
    if (plan.ops.length >= budget) break
    // Two due entries for one blob (stale ones left by quarantined records): plan it once per step, since
    // reads here do not see this step's own deletes.
    const key = blobIdKey(entry.blobId)
    if (planned.has(key)) break
    planned.add(key)
    const finished = await planBlob(core, entry, plan, budget)
    if (!finished) break
  }
  if (plan.ops.length === 0) return { blobs: 0, entries: 0 }
  const entries = plan.ops.length
  await core.commit(plan.ops, plan.delta.delta)
  // After the commit, so that a read that loaded the record before it cannot re-cache it.
  for (const key of plan.evict) core.cache.delete(key)
  return { blobs: plan.blobs, entries }
}

interface Plan {
  ops: BatchOp[]
  delta: DeltaBuilder
  blobs: number
  evict: string[]
}

/** Adds one blob's next operations to the plan; true when the blob is completely gone. */
async function planBlob(core: StoreCore, entry: ExpiryEntry, plan: Plan, budget: number): Promise<boolean> {
  const { repos } = core
  const { ops, delta } = plan
  const dropEntry = () => {
    ops.push(repos.expiry.delOp(entry.key))
    delta.add('bytes', -entry.key.length)
  }
  // A key of the wrong width cannot name a blob: drop it.
  if (entry.blobId.length !== BLOB_ID_SIZE) {
    dropEntry()
    return true
  }
  const id = entry.blobId
  // Whatever happens to this blob in this step, a cached header must not outlive it.
  plan.evict.push(blobIdKey(id))
  const { record, raw } = await readRecord(core, id)
  // The record has a different expiry: this entry is stale (left by a record that was quarantined and the blob
  // stored afresh under a new entry), and the blob is not due. Shards still keyed by this entry's expiry are that
  // old record's leftovers: they go first, then the entry.
  if (record !== undefined && record.expiresAt !== entry.expiresAt) {
    const leftovers: ShardPlace = { blobId: id, expiresAt: entry.expiresAt }
    const done = await planShards(core, leftovers, undefined, plan, budget - ops.length)
    if (!done) return false
    await planQuarantineRecords(core, [repos.quarantine.rangeOver(repos.shards.rangeOf(leftovers))], plan)
    dropEntry()
    return true
  }

  if (record === undefined || record.state === BlobState.stored) {
    for (const repo of [repos.attestations, repos.certificates]) {
      let value: Uint8Array | undefined
      try {
        value = await repo.get(id)
      } catch (err) {
        if (!(err instanceof CorruptValue)) throw err
        // A damaged block under it must not stop pruning (the blob would head the expiry index for good, and the
        // quota fill): deleted unread. Its size is unknown, so the counters keep it until `check()` recounts.
        ops.push(repo.del(id))
        continue
      }
      if (value === undefined) continue
      ops.push(repo.del(id))
      delta.add('bytes', -repo.entryBytes(value))
    }
  }
  if (record?.state === BlobState.stored) {
    ops.push(repos.blobs.putRecord(id, { ...record, state: BlobState.pruning }))
    delta.add('blobs', -1)
  }

  // Shards are keyed by this expiry (schema 2) or by the blob id (schema 1). Without a readable record the layout is
  // unknown, and a schema-2 record may follow a quarantined schema-1 one whose shards were left: both are tried
  // unless the record says schema 1 (a range with nothing in it costs one seek).
  const places: ShardPlace[] =
    record !== undefined && !record.shardsByExpiry
      ? [shardPlace(id, record)]
      : [
          { blobId: id, expiresAt: entry.expiresAt },
          { blobId: id, expiresAt: undefined },
        ]
  for (const place of places) {
    const room = budget - ops.length
    if (room <= 0) return false
    const shardsDone = await planShards(core, place, record, plan, room)
    if (!shardsDone) return false
  }

  const shardRanges = places.map((place) => repos.quarantine.rangeOver(repos.shards.rangeOf(place)))
  await planQuarantineRecords(core, [repos.quarantine.recordRangeOf(id), ...shardRanges], plan)
  if (raw !== undefined) {
    ops.push(repos.blobs.delOp(repos.blobs.key(id)))
    delta.add('bytes', -raw.accounted)
    // A damaged record still counted as a stored blob unless its state byte said otherwise.
    if (record === undefined && rawRecordState(raw.bytes) !== BlobState.pruning) delta.add('blobs', -1)
  }
  dropEntry()
  plan.blobs++
  return true
}

/** Deletes of every quarantine record in `ranges`. */
async function planQuarantineRecords(core: StoreCore, ranges: readonly PrefixRange[], plan: Plan): Promise<void> {
  // The common case costs nothing: with no quarantine record anywhere there is nothing to look up.
  if (core.usage.quarantined === 0) return
  const { quarantine } = core.repos
  for (const range of ranges) {
    for (const key of await quarantine.keysIn(range, Number.POSITIVE_INFINITY)) {
      plan.ops.push(quarantine.delOp(key))
      plan.delta.add('bytes', -quarantine.entryBytes(quarantine.originalKeyOf(key)))
      plan.delta.add('quarantined', -1)
    }
  }
}

/** Adds deletes for up to `room` of the blob's shards; true when none is left. */
async function planShards(
  core: StoreCore,
  place: ShardPlace,
  record: BlobRecord | undefined,
  plan: Plan,
  room: number,
): Promise<boolean> {
  const { shards } = core.repos
  const { ops, delta } = plan
  const range = shards.rangeOf(place)
  try {
    if (record !== undefined) {
      // Sizes follow from the header, so keys alone are enough.
      const keys = await shards.keysIn(range, room)
      for (const key of keys) {
        ops.push(shards.delOp(key))
        delta.add('bytes', -shards.entryBytes(place, shards.indexOf(key), record.header))
      }
      delta.add('shards', -keys.length)
      return keys.length < room
    }
    // No readable header: account the leftovers by their actual size.
    let count = 0
    for await (const [key, value] of shards.entries(range)) {
      if (count === room) return false
      ops.push(shards.delOp(key))
      delta.add('bytes', -(key.length + value.length))
      delta.add('shards', -1)
      count++
    }
    return true
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    // A damaged block under the range. Without a header the indices are unknown: keep what was planned and
    // leave the rest (the integrity check reports them) rather than stall every later blob behind this one.
    // With one (keysIn fails before returning any key), go index by index.
    if (record === undefined) return true
    return planShardsByIndex(core, place, record, plan, room)
  }
}

/**
 * Point reads of every index of the blob: present and unreadable entries are deleted and their accounted size
 * subtracted, absent ones skipped. An unreadable entry is taken as held, as a read that quarantines it does
 * (a lookup of an index this node never held that lands in the damaged block fails the same way; the
 * integrity check reports counters that drift from it). Idempotent: a deleted entry reads as absent after.
 */
async function planShardsByIndex(
  core: StoreCore,
  place: ShardPlace,
  record: BlobRecord,
  plan: Plan,
  room: number,
): Promise<boolean> {
  const { shards } = core.repos
  let count = 0
  for (let index = 0; index < record.header.n; index++) {
    const key = shards.key(place, index)
    let held: boolean
    try {
      held = (await shards.getRaw(key)) !== undefined
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      held = true
    }
    if (!held) continue
    if (count === room) return false
    plan.ops.push(shards.delOp(key))
    plan.delta.add('bytes', -shards.entryBytes(place, index, record.header))
    plan.delta.add('shards', -1)
    count++
  }
  return true
}

interface RecordRead {
  record?: BlobRecord
  /** The raw entry if one exists, readable or not, with the logical bytes it was accounted at. */
  raw?: { accounted: number; bytes?: Uint8Array }
}

/** The record for pruning purposes: a damaged one is about to be deleted anyway, so it is not quarantined. */
async function readRecord(core: StoreCore, id: Uint8Array): Promise<RecordRead> {
  const { blobs } = core.repos
  let bytes: Uint8Array | undefined
  try {
    bytes = await blobs.getRaw(blobs.key(id))
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    return { raw: { accounted: blobs.entryBytes() } }
  }
  if (bytes === undefined) return {}
  try {
    const record = blobs.decode(id, bytes)
    return { record, raw: { accounted: blobs.entryBytes(record.headerBytes.length), bytes } }
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    return { raw: { accounted: blobs.key(id).length + bytes.length, bytes } }
  }
}
