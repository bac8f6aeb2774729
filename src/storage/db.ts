import { Level } from 'level'
import { StorageErrorCode, storageError } from './errors.ts'

/** The raw LevelDB handle: byte keys, byte values. Only src/storage touches it. */
export type RawDb = Level<Uint8Array, Uint8Array>

/** An explicit LevelDB snapshot: reads given it see the database as it was when it was taken. */
export type Snapshot = ReturnType<RawDb['snapshot']>

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

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
