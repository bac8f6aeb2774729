import { Level } from 'level'
import { StorageErrorCode, storageError } from './errors.ts'

/** The raw LevelDB handle: byte keys, byte values. Only src/storage touches it. */
export type RawDb = Level<Uint8Array, Uint8Array>

/** An explicit LevelDB snapshot: reads given it see the database as it was when it was taken. */
export type Snapshot = ReturnType<RawDb['snapshot']>

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

/**
 * Writes `ops` as one atomic LevelDB batch, through LevelDB's chained batch (one native put or del per op) rather
 * than the array form `db.batch(ops)`, whose preparation runs on the event loop op by op. Measured with 1,024 puts
 * of 3.5 KiB (a member's share of a 16 MiB blob), synced, alternating: the array form held the event loop 13.5-14.7
 * ms and took 34 ms to the end of the fsync; the chained form 1.8-2.4 ms and 27 ms. Inside a store put of such a
 * share (profiled over 80 puts), LevelDB's batch preparation went from 8.5 to 6.1 ms of the event loop.
 */
export async function writeBatch(db: RawDb, ops: readonly BatchOp[], opts: { sync: boolean }): Promise<void> {
  const batch = db.batch()
  try {
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value)
      else batch.del(op.key)
    }
  } catch (err) {
    await batch.close()
    throw err
  }
  await batch.write({ sync: opts.sync })
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
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const locked = cause?.code === 'LEVEL_LOCKED'
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

/** True when LevelDB reported damaged files (a block that does not decode), as opposed to a missing key. */
export function isLevelCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown; cause?: { code?: unknown } } | null)?.code
  const causeCode = (err as { cause?: { code?: unknown } } | null)?.cause?.code
  return code === 'LEVEL_CORRUPTION' || causeCode === 'LEVEL_CORRUPTION'
}
