import { BLOB_ID_SIZE } from '../erasure/blob-id.ts'
import { blobIdKey } from './codec.ts'
import type { StoreCore } from './core.ts'
import { CorruptValue } from './corruption.ts'
import type { BatchOp } from './db.ts'
import { type BlobRecord, BlobState } from './repositories/blobs.ts'
import type { ExpiryEntry } from './repositories/expiry.ts'
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
 * carries on; every phase is idempotent. Batches are not synced: a lost batch is simply done again.
 */
export async function pruneStep(core: StoreCore, budget: number): Promise<PruneStepResult> {
  const due = await core.repos.expiry.due(core.opts.now(), budget)
  const plan: Plan = { ops: [], delta: new DeltaBuilder(), blobs: 0, evict: [] }
  for (const entry of due) {
    if (plan.ops.length >= budget) break
    const finished = await planBlob(core, entry, plan, budget)
    if (!finished) break
  }
  if (plan.ops.length === 0) return { blobs: 0, entries: 0 }
  const entries = plan.ops.length
  await core.commit(plan.ops, plan.delta.delta, false)
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
  const { record, raw } = await readRecord(core, id)
  // The record has a different expiry: this entry is stale (left by a record that was quarantined and the blob
  // stored afresh under a new entry), and the blob is not due.
  if (record !== undefined && record.expiresAt !== entry.expiresAt) {
    dropEntry()
    return true
  }

  if (record === undefined || record.state === BlobState.stored) {
    for (const repo of [repos.attestations, repos.certificates]) {
      const value = await repo.get(id)
      if (value === undefined) continue
      ops.push(repo.del(id))
      delta.add('bytes', -repo.entryBytes(value))
    }
  }
  if (record?.state === BlobState.stored) {
    ops.push(repos.blobs.putRecord(id, { ...record, state: BlobState.pruning }))
    delta.add('blobs', -1)
    plan.evict.push(blobIdKey(id))
  }

  const room = budget - ops.length
  if (room <= 0) return false
  const range = repos.shards.rangeOf(id)
  if (record !== undefined) {
    // Sizes follow from the header, so keys alone are enough.
    const keys = await repos.shards.keysIn(range, room)
    for (const key of keys) {
      ops.push(repos.shards.delOp(key))
      delta.add('bytes', -repos.shards.entryBytes(repos.shards.indexOf(key), record.header))
    }
    delta.add('shards', -keys.length)
    if (keys.length === room) return false
  } else {
    // No readable header: account the leftovers by their actual size.
    let count = 0
    for await (const [key, value] of repos.shards.entries(range)) {
      if (count === room) return false
      ops.push(repos.shards.delOp(key))
      delta.add('bytes', -(key.length + value.length))
      delta.add('shards', -1)
      count++
    }
  }

  for (const quarantineRange of repos.quarantine.rangesOf(id)) {
    for (const key of await repos.quarantine.keysIn(quarantineRange, Number.POSITIVE_INFINITY)) {
      ops.push(repos.quarantine.delOp(key))
      delta.add('bytes', -repos.quarantine.entryBytes(repos.quarantine.originalKeyOf(key)))
      delta.add('quarantined', -1)
    }
  }
  if (raw !== undefined) {
    ops.push(repos.blobs.delOp(repos.blobs.key(id)))
    delta.add('bytes', -raw.accounted)
    // A damaged record still counted as a stored blob unless its state byte said otherwise.
    if (record === undefined && raw.bytes?.[0] !== BlobState.pruning) delta.add('blobs', -1)
  }
  dropEntry()
  plan.blobs++
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
