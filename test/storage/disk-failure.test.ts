/**
 * A disk that fails LevelDB's write (here a real EFBIG: the child process runs with a file-size limit that LevelDB's
 * log passes partway through a store) is a typed refusal, STORAGE_IO_FAILED, that wrote nothing; what was stored
 * before stays readable.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { isDacnetError } from '../../src/errors.ts'
import { levelFailure } from '../../src/storage/db.ts'
import { StorageErrorCode } from '../../src/storage/index.ts'

const CHILD = fileURLToPath(new URL('./fixtures/disk-limit-child.ts', import.meta.url))
/** The child's file-size limit in KiB: well above the first store, well below the second. */
const FILE_SIZE_LIMIT_KIB = 1024

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

describe('a disk that fails a write', () => {
  it('refuses the store with STORAGE_IO_FAILED, writes nothing of it, and keeps serving what it held', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dacnet-disk-limit-'))
    dirs.push(dir)
    const run = spawnSync(
      '/bin/sh',
      ['-c', `ulimit -f ${FILE_SIZE_LIMIT_KIB} && exec "$0" "$@"`, process.execPath, CHILD, join(dir, 'store')],
      { encoding: 'utf8', timeout: 60_000 },
    )
    expect(run.status, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout.trim())).toEqual({
      small: 'ok',
      large: StorageErrorCode.IO_FAILED,
      smallAfter: 'ok',
      largeHeld: 'ok',
    })
  })

  it("maps LevelDB's codes: a closed database, batch or iterator is STORAGE_CLOSED, any other STORAGE_IO_FAILED", () => {
    const level = (code: string) => Object.assign(new Error(`${code} from LevelDB`), { code })
    const closed = levelFailure(level('LEVEL_DATABASE_NOT_OPEN'), 'reading')
    expect(isDacnetError(closed, StorageErrorCode.CLOSED)).toBe(true)
    expect(isDacnetError(levelFailure(level('LEVEL_BATCH_NOT_OPEN'), 'writing'), StorageErrorCode.CLOSED)).toBe(true)
    const io = levelFailure(level('LEVEL_IO_ERROR'), 'writing a batch')
    expect(isDacnetError(io, StorageErrorCode.IO_FAILED)).toBe(true)
    expect(io).toMatchObject({ meta: { level: 'LEVEL_IO_ERROR' } })
    expect((io as Error).message).toContain('writing a batch')
    // Not LevelDB's: passed on as it is.
    const other = new TypeError('not a level error')
    expect(levelFailure(other, 'reading')).toBe(other)
  })
})
