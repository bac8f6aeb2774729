import { randomBytes } from 'node:crypto'
import { chmod, open, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { DacnetError } from '../errors.ts'
import { CliErrorCode, cliError } from './errors.ts'

/**
 * Reads a whole file, refusing a missing one and one larger than `maxBytes` (checked on the open handle,
 * before reading) with typed errors that name what the file was supposed to be.
 */
export async function readFileChecked(
  path: string,
  what: string,
  maxBytes: number,
  opts: { hint?: string } = {},
): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, 'r')
  } catch (err) {
    throw fileError(err, path, what)
  }
  try {
    const info = await handle.stat()
    if (info.isDirectory()) throw cliError(CliErrorCode.READ_FAILED, `${what} ${path} is a directory`, { path })
    if (info.size > maxBytes) {
      throw cliError(CliErrorCode.FILE_TOO_LARGE, `${what} ${path} has ${info.size} bytes, more than ${maxBytes}`, {
        path,
        size: info.size,
        maxBytes,
        ...opts,
      })
    }
    // Read to the limit and no further: a device or a pipe (`/dev/zero`, a process substitution) has no size to
    // stat, and a file may grow after the stat.
    const bytes = await readUpTo(handle, maxBytes + 1)
    if (bytes.length > maxBytes) {
      throw cliError(CliErrorCode.FILE_TOO_LARGE, `${what} ${path} has more than ${maxBytes} bytes`, {
        path,
        maxBytes,
        ...opts,
      })
    }
    return bytes
  } catch (err) {
    if (err instanceof DacnetError) throw err
    throw fileError(err, path, what)
  } finally {
    await handle.close()
  }
}

export async function readJsonFile(path: string, what: string, maxBytes: number): Promise<unknown> {
  const text = (await readFileChecked(path, what, maxBytes)).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw cliError(CliErrorCode.READ_FAILED, `${what} ${path} is not JSON: ${(err as Error).message}`, { path })
  }
}

/**
 * Writes through a temporary file and a rename, so a reader (or a crash) never sees half a file. `mode`
 * 0o600 for secrets.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode?: number; exclusive?: boolean } = {},
): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    if (opts.exclusive && (await pathExists(path))) {
      throw cliError(CliErrorCode.ALREADY_EXISTS, `${path} already exists`, { path })
    }
    await writeFile(temp, data, { mode: opts.mode ?? 0o644, flag: 'wx' })
    if (opts.mode !== undefined) await chmod(temp, opts.mode)
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    if (err instanceof DacnetError) throw err
    throw cliError(
      CliErrorCode.WRITE_FAILED,
      `cannot write ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    )
  }
}

/** Refuses an output path whose directory does not exist, before any work is done for it. */
export async function checkOutputDir(path: string): Promise<void> {
  const dir = dirname(path)
  if (!(await pathExists(dir))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `output directory ${dir} does not exist`, { path: dir })
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** JSON as dacnet writes it to files and stdout: two-space indent, bigints as decimal strings. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), indent)
}

function fileError(err: unknown, path: string, what: string) {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return cliError(CliErrorCode.FILE_NOT_FOUND, `${what} ${path} does not exist`, { path })
  return cliError(CliErrorCode.READ_FAILED, `cannot read ${what} ${path}: ${(err as Error).message}`, { path })
}

/** At most `limit` bytes from the handle's current position to its end. */
async function readUpTo(handle: Awaited<ReturnType<typeof open>>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit - total))
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
    if (bytesRead === 0) break
    chunks.push(chunk.subarray(0, bytesRead))
    total += bytesRead
  }
  return Buffer.concat(chunks, total)
}
