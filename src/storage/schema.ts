import { SHARD_BUCKET_FENCE } from './buckets.ts'
import { CorruptValue } from './corruption.ts'
import { type BatchOp, type RawDb, writeBatch } from './db.ts'
import { StorageErrorCode, storageError } from './errors.ts'
import type { MetaRepository } from './repositories/meta.ts'
import { emptyUsage, type Usage } from './usage.ts'

/**
 * Version of the whole on-disk layout (buckets, keys, values, meta). Bump it for any change an older build would
 * misread, and add a migration from the previous version; a build never opens a newer store.
 *
 * 2: new blobs' shards are keyed by expiry (bucket `shardByExpiry`), flagged in their records. A schema-1 store is
 * upgraded by writing the new version alone: its records carry no flag, so their shards are read and pruned under
 * the blob-id keys they were written with.
 */
export const STORAGE_SCHEMA_VERSION = 2

/** The oldest schema this build upgrades (in place, without rewriting any entry but the version). */
export const OLDEST_UPGRADABLE_SCHEMA = 1

/**
 * Checks the schema of a freshly opened database, or writes it (with zeroed usage counters) into an empty one.
 * Returns the usage counters.
 */
export async function openSchema(db: RawDb, dir: string, meta: MetaRepository): Promise<Usage> {
  try {
    return await readSchema(db, dir, meta)
  } catch (err) {
    if (!(err instanceof CorruptValue)) throw err
    throw storageError(
      StorageErrorCode.CORRUPT_ENTRY,
      `shard store at ${dir} cannot be opened: LevelDB cannot read its meta entries (${err.message})`,
      { dir, bucket: 'meta', reason: err.reason },
    )
  }
}

async function readSchema(db: RawDb, dir: string, meta: MetaRepository): Promise<Usage> {
  const version = await meta.schemaVersion()
  if (version === undefined) {
    const anyKey = await db.keys({ limit: 1 }).all()
    if (anyKey.length > 0) {
      throw storageError(
        StorageErrorCode.NOT_A_STORE,
        `${dir} holds a LevelDB database without a dacnet schema version; refusing to use it as a shard store`,
        { dir },
      )
    }
    const usage = emptyUsage()
    await writeBatch(db, [meta.schemaVersionOp(STORAGE_SCHEMA_VERSION), meta.usageOp(usage), FENCE_OP], { sync: true })
    return usage
  }
  if (version === null) {
    throw storageError(StorageErrorCode.NOT_A_STORE, `${dir}: the schema version entry is damaged`, { dir })
  }
  if (version > STORAGE_SCHEMA_VERSION) {
    throw storageError(
      StorageErrorCode.SCHEMA_TOO_NEW,
      `shard store at ${dir} was written with storage schema ${version}, but this dacnet understands schema ` +
        `${STORAGE_SCHEMA_VERSION} at most; upgrade dacnet to open it (a data directory cannot be downgraded)`,
      { dir, version, supported: STORAGE_SCHEMA_VERSION },
    )
  }
  if (version >= OLDEST_UPGRADABLE_SCHEMA && version < STORAGE_SCHEMA_VERSION) {
    await writeBatch(db, [meta.schemaVersionOp(STORAGE_SCHEMA_VERSION), FENCE_OP], { sync: true })
  } else if (version < STORAGE_SCHEMA_VERSION) {
    throw storageError(
      StorageErrorCode.SCHEMA_UNSUPPORTED,
      `shard store at ${dir} uses storage schema ${version}, and no migration to schema ${STORAGE_SCHEMA_VERSION} exists`,
      { dir, version, supported: STORAGE_SCHEMA_VERSION },
    )
  }
  const usage = await meta.usage()
  if (usage === undefined) {
    throw storageError(StorageErrorCode.NOT_A_STORE, `${dir}: the usage counters are missing or damaged`, { dir })
  }
  await writeFence(db)
  return usage
}

const FENCE_OP: BatchOp = { type: 'put', key: SHARD_BUCKET_FENCE, value: new Uint8Array(0) }

/** Writes SHARD_BUCKET_FENCE unless it is there (a store written before the fence, or one that lost it). */
async function writeFence(db: RawDb): Promise<void> {
  if ((await db.get(SHARD_BUCKET_FENCE)) !== undefined) return
  await writeBatch(db, [FENCE_OP], { sync: true })
}
