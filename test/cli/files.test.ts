import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliErrorCode } from '../../src/cli/errors.ts'
import { readFileChecked } from '../../src/cli/files.ts'
import { removeDir, tempDir } from './helpers.ts'

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (err: { code?: string }) => err.code,
  )
}

describe('reading a file the operator named (config, keys, tokens)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await tempDir()
  })
  afterAll(() => removeDir(dir))

  it('reads a file within its limit, and refuses a larger one, a directory and a missing one with their codes', async () => {
    await writeFile(join(dir, 'small'), 'abc')
    await writeFile(join(dir, 'large'), Buffer.alloc(2_000))
    expect((await readFileChecked(join(dir, 'small'), 'token', 3)).toString()).toBe('abc')
    expect(await codeOf(readFileChecked(join(dir, 'large'), 'token', 1_000))).toBe(CliErrorCode.FILE_TOO_LARGE)
    expect(await codeOf(readFileChecked(dir, 'token', 1_000))).toBe(CliErrorCode.READ_FAILED)
    expect(await codeOf(readFileChecked(join(dir, 'none'), 'token', 1_000))).toBe(CliErrorCode.FILE_NOT_FOUND)
  })

  it('stops at the limit on a device with no size to stat, instead of reading it to the end', async () => {
    // /dev/zero never ends: reading it whole would take memory until Node's 2 GiB cap.
    const start = performance.now()
    expect(await codeOf(readFileChecked('/dev/zero', 'config file', 1024 * 1024))).toBe(CliErrorCode.FILE_TOO_LARGE)
    expect(performance.now() - start).toBeLessThan(2_000)
  })
})
