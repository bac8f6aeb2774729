import { Level } from 'level'
import { INDEX_SIZE } from './buckets.ts'
import { StorageErrorCode, storageError } from './errors.ts'

/** The raw LevelDB handle: byte keys, byte values. Only src/storage touches it. */
export type RawDb = Level<Uint8Array, Uint8Array>

/** An explicit LevelDB snapshot: reads given it see the database as it was when it was taken. */
export type Snapshot = ReturnType<RawDb['snapshot']>

/** One shard's value in a `putShards` op: written as `data || proof` under the key ending in `index`. */
export interface ShardParts {
  readonly index: number
  readonly data: Uint8Array
  readonly proof: Uint8Array
}

export type BatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  /**
   * A blob's shards: each under `keyPrefix || index` (u32, big-endian), value `data || proof`, key and value
   * joined only as LevelDB's batch takes them, in buffers reused from one shard to the next. A member's share is
   * thousands of shards: a key, a value and an op of their own for each would be garbage by the thousand a store.
   */
  | { type: 'putShards'; keyPrefix: Uint8Array; shards: readonly ShardParts[] }
  | { type: 'del'; key: Uint8Array }

/** The bytes of the values an op writes (0 for a delete). */
export function opValueBytes(op: BatchOp): number {
  if (op.type === 'put') return op.value.length
  if (op.type === 'del') return 0
  let bytes = 0
  const { shards } = op
  for (let t = 0; t < shards.length; t++) bytes += shards[t]!.data.length + shards[t]!.proof.length
  return bytes
}

/** One atomic LevelDB batch being filled. */
export interface LevelBatch {
  /** Adds `op`; its bytes are copied into the batch before this returns, so the caller's buffers are free again. */
  add(op: BatchOp): void
  write(opts: { sync: boolean }): Promise<void>
  /** Drops a batch that will not be written. */
  close(): Promise<void>
}

/** Where a shard's value is joined before LevelDB's batch copies it; grows to the largest value joined. */
let valueScratch = new Uint8Array(8 * 1024)
/** Where a shard's key is written before LevelDB's batch copies it; grows to the longest key. */
let keyScratch = new Uint8Array(64)

/**
 * A batch through LevelDB's chained batch: each op goes into LevelDB's own batch as it is added (one native put or
 * del, which copies the bytes), rather than the array form `db.batch(ops)`, whose preparation runs on the event loop
 * op by op. Measured with 1,024 puts of 3.5 KiB (a member's share of a 16 MiB blob), synced, alternating: the array
 * form held the event loop 13.5-14.7 ms and took 34 ms to the end of the fsync; the chained form 1.8-2.4 ms and 27
 * ms. Since the bytes are copied as ops are added, a store's shards need no copy of their own to wait in until
 * the batch is written: each shard's key and value (`putShards`) are written into scratch buffers that LevelDB
 * copies from at once. That holds for classic-level's own chained batch, which `db` (a Level, never a sublevel) gives,
 * with no 'write' listeners or prewrite hooks on the database: abstract-level's default batch, or those, would keep
 * the buffers and see them overwritten.
 */
export function openBatch(db: RawDb): LevelBatch {
  let batch: ReturnType<RawDb['batch']>
  try {
    batch = db.batch()
  } catch (err) {
    throw levelFailure(err, 'opening a batch')
  }
  return {
    add(op) {
      try {
        if (op.type === 'del') batch.del(op.key)
        else if (op.type === 'put') batch.put(op.key, op.value)
        else addShards(batch, op.keyPrefix, op.shards)
      } catch (err) {
        throw levelFailure(err, 'adding to a batch')
      }
    },
    write: (opts) =>
      batch.write({ sync: opts.sync }).catch((err: unknown) => {
        throw levelFailure(err, 'writing a batch')
      }),
    close: () => batch.close(),
  }
}

/** The shard key layout's tail (ShardRepository): `keyPrefix || index`, the index a big-endian u32. */
function addShards(batch: ReturnType<RawDb['batch']>, keyPrefix: Uint8Array, shards: readonly ShardParts[]): void {
  const keyLength = keyPrefix.length + INDEX_SIZE
  if (keyScratch.length < keyLength) keyScratch = new Uint8Array(keyLength)
  keyScratch.set(keyPrefix)
  const key = keyScratch.subarray(0, keyLength)
  const keyView = new DataView(key.buffer, key.byteOffset, keyLength)
  let value = valueScratch.subarray(0, 0)
  for (let t = 0; t < shards.length; t++) {
    const { index, data, proof } = shards[t]!
    keyView.setUint32(keyPrefix.length, index)
    const bytes = data.length + proof.length
    if (value.length !== bytes) {
      if (valueScratch.length < bytes) valueScratch = new Uint8Array(bytes)
      value = valueScratch.subarray(0, bytes)
    }
    value.set(data)
    value.set(proof, data.length)
    batch.put(key, value)
  }
}

/** Writes `ops` as one atomic LevelDB batch (see openBatch). */
export async function writeBatch(db: RawDb, ops: readonly BatchOp[], opts: { sync: boolean }): Promise<void> {
  const batch = openBatch(db)
  try {
    for (const op of ops) batch.add(op)
  } catch (err) {
    await batch.close()
    throw err
  }
  await batch.write(opts)
}

/** LevelDB tuning that the store sets; everything else stays at LevelDB's defaults. */
export interface LevelTuning {
  createIfMissing: boolean
  writeBufferBytes: number
  blockCacheBytes: number
  maxFileBytes: number
}

export async function openLevel(dir: string, tuning: LevelTuning): Promise<RawDb> {
  const db = new Level<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
    createIfMissing: tuning.createIfMissing,
    writeBufferSize: tuning.writeBufferBytes,
    cacheSize: tuning.blockCacheBytes,
    maxFileSize: tuning.maxFileBytes,
  })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause
    const locked = levelCodes(err).includes('LEVEL_LOCKED')
    throw storageError(
      StorageErrorCode.OPEN_FAILED,
      locked
        ? `shard store at ${dir} is in use by another process`
        : `cannot open shard store at ${dir}: ${cause?.message ?? (err as Error).message}`,
      { dir, locked },
      { cause: err },
    )
  }
  return db
}

/** LevelDB's codes for an operation on a database, batch or iterator that was closed meanwhile. */
const CLOSED_CODES: ReadonlySet<string> = new Set([
  'LEVEL_DATABASE_NOT_OPEN',
  'LEVEL_BATCH_NOT_OPEN',
  'LEVEL_ITERATOR_NOT_OPEN',
])

/**
 * LevelDB's codes on an error, outermost first: abstract-level wraps the binding's error (its `cause`) in one of
 * its own (a failed open is LEVEL_DATABASE_NOT_OPEN caused by LEVEL_LOCKED, say).
 */
function levelCodes(err: unknown): string[] {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null
  return [e?.code, e?.cause?.code].filter(
    (code): code is string => typeof code === 'string' && code.startsWith('LEVEL_'),
  )
}

/**
 * A LevelDB failure as the store's typed error: an operation on a database, batch or iterator closed meanwhile is
 * STORAGE_CLOSED; any other LevelDB error (an I/O error from a full or failing disk, and the like) is
 * STORAGE_IO_FAILED, with LevelDB's innermost code in `meta.level` and the error as its cause. Anything that is not
 * a LevelDB error comes back as it is; damaged blocks (LEVEL_CORRUPTION) are the caller's to tell apart first
 * (isLevelCorruption).
 */
export function levelFailure(err: unknown, what: string): unknown {
  const code = levelCodes(err).at(-1)
  if (code === undefined) return err
  const detail = (err as { message?: unknown }).message
  if (CLOSED_CODES.has(code))
    return storageError(StorageErrorCode.CLOSED, `${what}: the store was closed`, {}, { cause: err })
  return storageError(
    StorageErrorCode.IO_FAILED,
    `${what}: LevelDB failed (${code}${typeof detail === 'string' && detail !== '' ? `: ${detail}` : ''})`,
    { level: code },
    { cause: err },
  )
}

/** True when LevelDB reported damaged files (a block that does not decode), as opposed to a missing key. */
export function isLevelCorruption(err: unknown): boolean {
  return levelCodes(err).includes('LEVEL_CORRUPTION')
}
