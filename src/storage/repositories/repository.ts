import { type Bucket, type KeyRange, prefixRange } from '../buckets.ts'
import { CorruptionReason, CorruptValue } from '../corruption.ts'
import { type BatchOp, isLevelCorruption, levelFailure, type RawDb, type Snapshot } from '../db.ts'

/** Reads may pin an explicit snapshot, so that the integrity check sees one consistent state. */
export interface ReadOptions {
  snapshot?: Snapshot | undefined
}

/** Iterator page size: entries fetched from LevelDB per round trip when streaming a range. */
const ITERATOR_PAGE_ENTRIES = 64

/**
 * One bucket of the store (Lodestar's repository pattern): the bucket byte, key construction, and raw access.
 * Subclasses add the typed key parts and value layout of exactly one stored type. Writes are never issued here:
 * repositories return batch operations and the store commits them together with its usage counters.
 */
export abstract class Repository {
  readonly bucket: Bucket
  protected readonly db: RawDb

  constructor(db: RawDb, bucket: Bucket) {
    this.db = db
    this.bucket = bucket
  }

  /** The value stored under `key`, or undefined. A block LevelDB cannot decode surfaces as CorruptValue. */
  async getRaw(key: Uint8Array, opts: ReadOptions = {}): Promise<Uint8Array | undefined> {
    return this.db.get(key, snapshotOpt(opts)).then(asView, unreadable)
  }

  /** As getRaw, on the calling thread: no thread-pool hop, but a read that misses LevelDB's caches blocks. */
  getRawSync(key: Uint8Array): Uint8Array | undefined {
    try {
      return asView(this.db.getSync(key))
    } catch (err) {
      return unreadable(err)
    }
  }

  putOp(key: Uint8Array, value: Uint8Array): BatchOp {
    return { type: 'put', key, value }
  }

  delOp(key: Uint8Array): BatchOp {
    return { type: 'del', key }
  }

  /** Up to `limit` keys in `range`, in key order. */
  async keysIn(range: KeyRange, limit: number, opts: ReadOptions = {}): Promise<Uint8Array[]> {
    return this.db
      .keys({ ...bounds(range), limit, ...snapshotOpt(opts) })
      .all()
      .then((keys) => keys.map(asView), unreadable)
  }

  /** Streams the entries of `range` (all of this bucket by default) without loading them all at once. */
  async *entries(
    range: KeyRange = prefixRange(Uint8Array.of(this.bucket)),
    opts: ReadOptions = {},
  ): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const iterator = this.db.iterator({ ...bounds(range), ...snapshotOpt(opts) })
    try {
      for (;;) {
        const page = await iterator.nextv(ITERATOR_PAGE_ENTRIES).catch(unreadable)
        if (page.length === 0) return
        for (const [key, value] of page) yield [asView(key), asView(value)]
      }
    } finally {
      await iterator.close()
    }
  }
  /** Streams the keys of `range` in key order, values left unread. */
  async *keys(range: KeyRange, opts: ReadOptions = {}): AsyncGenerator<Uint8Array> {
    const iterator = this.db.keys({ ...bounds(range), ...snapshotOpt(opts) })
    try {
      for (;;) {
        const page = await iterator.nextv(ITERATOR_PAGE_ENTRIES).catch(unreadable)
        if (page.length === 0) return
        for (const key of page) yield asView(key)
      }
    } finally {
      await iterator.close()
    }
  }
}

/** LevelDB range options must be absent, not undefined, to mean "unbounded". */
function bounds(range: KeyRange): { gte: Uint8Array; lt?: Uint8Array } {
  return range.lt === undefined ? { gte: range.gte } : { gte: range.gte, lt: range.lt }
}

function snapshotOpt(opts: ReadOptions): { snapshot?: Snapshot } {
  return opts.snapshot ? { snapshot: opts.snapshot } : {}
}

/**
 * classic-level hands out Buffers; callers get plain Uint8Array views of the same memory (no copy), so what the
 * store returns compares and serializes like the Uint8Arrays it was given.
 */
export function asView<T extends Uint8Array | undefined>(bytes: T): T {
  if (bytes === undefined || Object.getPrototypeOf(bytes) === Uint8Array.prototype) return bytes
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as T
}

/**
 * LevelDB reports a damaged block as LEVEL_CORRUPTION; the store handles it like any other corrupt value. Other
 * LevelDB failures become STORAGE_IO_FAILED or STORAGE_CLOSED (levelFailure).
 */
function unreadable(err: unknown): never {
  if (isLevelCorruption(err)) throw new CorruptValue(CorruptionReason.unreadable, (err as Error).message)
  throw levelFailure(err, 'reading the store')
}
