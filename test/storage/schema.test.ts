import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isDacnetError } from '../../src/errors.ts'
import { checkShardStore, ShardStore, STORAGE_SCHEMA_VERSION, StorageErrorCode } from '../../src/storage/index.ts'
import { openRaw, tempDir } from './fixtures/temp.ts'

const SCHEMA_KEY = Uint8Array.of(0x00, 0x01)

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value)
  return out
}

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const err = await promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (e: unknown) => e as { code?: string; message: string },
  )
  return err
}

describe('schema version', () => {
  let dir: string
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ dir, cleanup } = await tempDir())
  })
  afterEach(async () => {
    await cleanup()
  })

  it('writes the current schema version into a new store', async () => {
    const store = await ShardStore.open(dir, { backgroundPrune: false })
    await store.close()
    const raw = await openRaw(dir)
    expect(Array.from((await raw.get(SCHEMA_KEY))!)).toEqual(Array.from(u32(STORAGE_SCHEMA_VERSION)))
    await raw.close()
  })

  it('refuses a store written by a newer schema, with a clear message', async () => {
    await (await ShardStore.open(dir, { backgroundPrune: false })).close()
    const raw = await openRaw(dir)
    await raw.put(SCHEMA_KEY, u32(STORAGE_SCHEMA_VERSION + 1))
    await raw.close()
    const err = await failure(ShardStore.open(dir))
    expect(err.code).toBe(StorageErrorCode.SCHEMA_TOO_NEW)
    expect(err.message).toContain(`schema ${STORAGE_SCHEMA_VERSION + 1}`)
    expect(err.message).toContain('upgrade dacnet')
    // The refusal closed LevelDB again: the directory can be opened by someone else.
    const again = await openRaw(dir)
    await again.close()
  })

  it('refuses an older schema without migration, and foreign LevelDB databases', async () => {
    await (await ShardStore.open(dir, { backgroundPrune: false })).close()
    let raw = await openRaw(dir)
    await raw.put(SCHEMA_KEY, u32(0))
    await raw.close()
    expect((await failure(ShardStore.open(dir))).code).toBe(StorageErrorCode.SCHEMA_UNSUPPORTED)

    const foreign = await tempDir()
    raw = await openRaw(foreign.dir)
    await raw.put(Uint8Array.of(0x61), Uint8Array.of(1))
    await raw.close()
    expect((await failure(ShardStore.open(foreign.dir))).code).toBe(StorageErrorCode.NOT_A_STORE)
    await foreign.cleanup()
  })

  it('refuses a directory another process holds, and a missing one for the check', async () => {
    const store = await ShardStore.open(dir, { backgroundPrune: false })
    const err = await failure(ShardStore.open(dir))
    expect(err.code).toBe(StorageErrorCode.OPEN_FAILED)
    expect(err.message).toContain('in use')
    await store.close()
    const missing = await failure(checkShardStore(`${dir}/nothing-here`))
    expect(isDacnetError(missing, StorageErrorCode.OPEN_FAILED)).toBe(true)
  })

  it('validates options', async () => {
    expect((await failure(ShardStore.open(dir, { quotaBytes: 0 }))).code).toBe(StorageErrorCode.INVALID_OPTIONS)
    expect((await failure(ShardStore.open(dir, { retentionMs: 1.5 }))).code).toBe(StorageErrorCode.INVALID_OPTIONS)
  })
})
