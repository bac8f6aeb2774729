import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * How long a measured size is reused. LevelDB's files change with every compaction, but operators watch
 * the trend, and scrapes and status calls should not each walk the directory.
 */
export const DEFAULT_DISK_USAGE_MAX_AGE_MS = 15_000
/** Directory entries looked at per measurement: a LevelDB directory has hundreds of files, not millions. */
const MAX_ENTRIES = 100_000

/**
 * Bytes the store's directory takes on disk (file sizes, one level of subdirectories). The store's own
 * `stats().bytes` is the logical size the quota bounds; this is what `df` sees, compaction debt included.
 */
export class DiskUsage {
  readonly #dir: string
  readonly #maxAgeMs: number
  #measured: { at: number; bytes: number } | undefined
  #pending: Promise<number> | undefined

  constructor(dir: string, maxAgeMs = DEFAULT_DISK_USAGE_MAX_AGE_MS) {
    this.#dir = dir
    this.#maxAgeMs = maxAgeMs
  }

  /** The size in bytes, measured at most once per max age; concurrent callers share one measurement. */
  async bytes(): Promise<number> {
    const now = Date.now()
    if (this.#measured && now - this.#measured.at < this.#maxAgeMs) return this.#measured.bytes
    this.#pending ??= measure(this.#dir).then(
      (bytes) => {
        this.#measured = { at: Date.now(), bytes }
        this.#pending = undefined
        return bytes
      },
      (err: unknown) => {
        this.#pending = undefined
        throw err
      },
    )
    return this.#pending
  }
}

async function measure(dir: string): Promise<number> {
  let total = 0
  let seen = 0
  const walk = async (path: string, depth: number): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      if (++seen > MAX_ENTRIES) return
      const full = join(path, entry.name)
      if (entry.isFile()) {
        // A file LevelDB deleted between readdir and stat simply counts as gone.
        total += (await stat(full).catch(() => undefined))?.size ?? 0
      } else if (entry.isDirectory() && depth > 0) {
        await walk(full, depth - 1)
      }
    }
  }
  await walk(dir, 1)
  return total
}
