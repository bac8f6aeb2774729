import type { ShardWithProof } from '../erasure/shard.ts'
import type { DacnetError } from '../errors.ts'
import { blobIdKey } from './codec.ts'
import type { StoreCore } from './core.ts'
import { CorruptValue } from './corruption.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import type { CachedBlob } from './header-cache.ts'
import { type QuarantineTarget, quarantine } from './quarantine.ts'
import { type ProofCheck, proofFailure, shardPlace } from './repositories/shards.ts'

/**
 * Shard reads. Every value is re-verified against the header root before it is returned. Not held (blob
 * unknown, expired and being pruned, or shard not assigned here) is `undefined` / omitted; a value that fails
 * the check is quarantined and raises STORAGE_CORRUPT_ENTRY, and reads as not held afterwards.
 */
export async function getShard(
  core: StoreCore,
  blobId: Uint8Array,
  index: number,
): Promise<ShardWithProof | undefined> {
  const blobKey = blobIdKey(blobId)
  const blob = await core.readableBlob(blobId, blobKey)
  if (blob === undefined) return undefined
  checkIndex(index, blob)
  const { shards } = core.repos
  const key = shards.key(shardPlace(blobId, blob), index)
  const check = proofCheck(core, blobKey, blob)
  let value: Uint8Array | undefined
  try {
    value = readsSync(core, blob) ? shards.getRawSync(key) : await shards.getRaw(key)
    return value === undefined ? undefined : shards.open(value, index, blob.header, check)
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    throw await quarantine(core, target(blobId, index, key, blob, err, value))
  }
}

/** The requested shards that are held, in request order. At most n indices per call. */
export async function getShards(
  core: StoreCore,
  blobId: Uint8Array,
  indices: readonly number[],
): Promise<ShardWithProof[]> {
  if (!Array.isArray(indices)) throw storageError(StorageErrorCode.INVALID_SHARD, 'indices must be an array')
  const blobKey = blobIdKey(blobId)
  const blob = await core.readableBlob(blobId, blobKey)
  if (blob === undefined) return []
  if (indices.length > blob.header.n) {
    throw storageError(
      StorageErrorCode.INVALID_SHARD,
      `${indices.length} indices requested, the blob has ${blob.header.n}`,
    )
  }
  for (const index of indices) checkIndex(index, blob)
  const { shards } = core.repos
  const place = shardPlace(blobId, blob)
  const keys = indices.map((index) => shards.key(place, index))
  const values = await readMany(core, keys, readsSync(core, blob))
  const entries: RunEntry[] = []
  values.forEach((value, i) => {
    if (value !== undefined) entries.push({ index: indices[i]!, key: keys[i]!, value })
  })
  const { found, corrupt } = openRun(core, blobId, blobKey, blob, entries)
  if (corrupt.length > 0) throw await quarantineAll(core, corrupt)
  return found
}

/** Every shard held for the blob, in index order. */
export async function getAllShards(core: StoreCore, blobId: Uint8Array): Promise<ShardWithProof[]> {
  const blobKey = blobIdKey(blobId)
  const blob = await core.readableBlob(blobId, blobKey)
  if (blob === undefined) return []
  const { shards } = core.repos
  const entries: RunEntry[] = []
  try {
    for await (const [key, value] of shards.entries(shards.rangeOf(shardPlace(blobId, blob)))) {
      entries.push({ index: shards.indexOf(key), key, value })
    }
  } catch (err) {
    const damaged = asCorrupt(err)
    // A damaged block in the middle of the range: which keys it held is unknown, so nothing can be quarantined
    // here; the integrity check reports it.
    throw storageError(StorageErrorCode.CORRUPT_ENTRY, `shards of a blob are unreadable: ${damaged.message}`, {
      bucket: 'shard',
      reason: damaged.reason,
    })
  }
  const { found, corrupt } = openRun(core, blobId, blobKey, blob, entries)
  if (corrupt.length > 0) throw await quarantineAll(core, corrupt)
  return found
}

/** A value of one blob read among others: its shard index, its key, and what LevelDB returned. */
interface RunEntry {
  index: number
  key: Uint8Array
  value: Uint8Array | CorruptValue
}

/**
 * The shards of values read together, in their order, with their proofs checked as one run (`verifyRun`: a batch,
 * one by one only if it fails); the values that fail, by length or proof, become quarantine targets instead.
 */
function openRun(
  core: StoreCore,
  blobId: Uint8Array,
  blobKey: string,
  blob: CachedBlob,
  entries: readonly RunEntry[],
): { found: ShardWithProof[]; corrupt: QuarantineTarget[] } {
  const { shards } = core.repos
  const opened = entries.map(({ index, value }): ShardWithProof | CorruptValue => {
    if (value instanceof CorruptValue) return value
    try {
      return shards.split(value, index, blob.header)
    } catch (err) {
      return asCorrupt(err)
    }
  })
  const split: ShardWithProof[] = []
  const positions: number[] = []
  opened.forEach((shard, at) => {
    if (shard instanceof CorruptValue) return
    split.push(shard)
    positions.push(at)
  })
  for (const j of core.verifier.verifyRun(blobKey, blob.header, split)) opened[positions[j]!] = proofFailure()
  const found: ShardWithProof[] = []
  const corrupt: QuarantineTarget[] = []
  opened.forEach((shard, at) => {
    if (!(shard instanceof CorruptValue)) {
      found.push(shard)
      return
    }
    const { index, key, value } = entries[at]!
    corrupt.push(target(blobId, index, key, blob, shard, value instanceof CorruptValue ? undefined : value))
  })
  return { found, corrupt }
}

/** Values for `keys`, with entries LevelDB cannot read as CorruptValue in their place. */
async function readMany(
  core: StoreCore,
  keys: Uint8Array[],
  sync: boolean,
): Promise<(Uint8Array | undefined | CorruptValue)[]> {
  const { shards } = core.repos
  const one = (key: Uint8Array) => {
    try {
      return shards.getRawSync(key)
    } catch (err) {
      return asCorrupt(err)
    }
  }
  if (sync) return keys.map(one)
  try {
    return await shards.getMany(keys)
  } catch {
    // One damaged block fails the whole multi-get; read one by one to find which entries it holds.
    return Promise.all(keys.map((key) => shards.getRaw(key).catch((err: unknown) => asCorrupt(err))))
  }
}

async function quarantineAll(core: StoreCore, targets: QuarantineTarget[]): Promise<DacnetError> {
  let first: DacnetError | undefined
  for (const t of targets) {
    const err = await quarantine(core, t)
    first ??= err
  }
  first!.meta['indices'] = targets.map((t) => t.index)
  return first!
}

function target(
  blobId: Uint8Array,
  index: number,
  key: Uint8Array,
  blob: CachedBlob,
  err: CorruptValue,
  badValue: Uint8Array | undefined,
): QuarantineTarget {
  return { key, blobId, index, reason: err.reason, detail: err.message, badValue, header: blob.header }
}

function asCorrupt(err: unknown): CorruptValue {
  if (err instanceof CorruptValue) return err
  throw err
}

/** The proof check of reads: through the store's verifier, which remembers proofs that held. */
function proofCheck(core: StoreCore, blobKey: string, blob: CachedBlob): ProofCheck {
  return (index, data, proof) => core.verifier.verify(blobKey, blob.header, index, data, proof)
}

/** Whether point reads of this blob use LevelDB's synchronous get (option `syncReads`). */
function readsSync(core: StoreCore, blob: CachedBlob): boolean {
  const { syncReads, syncReadWindowMs, now } = core.opts
  if (syncReads !== 'recent') return syncReads
  // A negative age (stored under a clock that was ahead) says nothing about the page cache: read asynchronously.
  const age = now() - blob.storedAt
  return age >= 0 && age < syncReadWindowMs
}

function checkIndex(index: number, blob: CachedBlob): void {
  if (!Number.isInteger(index) || index < 0 || index >= blob.header.n) {
    throw storageError(StorageErrorCode.INVALID_SHARD, `shard index ${index} is outside 0..${blob.header.n - 1}`, {
      index,
    })
  }
}
