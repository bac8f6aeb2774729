import type { BlobHeader } from '../erasure/header.ts'

/** What a shard read needs of its blob, cached so that a read is one LevelDB get plus one proof check. */
export interface CachedBlob {
  header: BlobHeader
  headerBytes: Uint8Array
  storedAt: number
  expiresAt: number
  /** Where its shards are keyed (see BlobRecord.shardsByExpiry). */
  shardsByExpiry: boolean
}

/**
 * A bounded LRU of decoded headers of blobs in state `stored`, keyed by blob id (latin1 string). Map keeps
 * insertion order, so re-inserting on hit makes the first key the least recently used.
 *
 * Deletions (prune, quarantine) bump `generation`; a reader that loaded a record from LevelDB caches it only if
 * no deletion happened while it was reading, so a blob that was just removed can never be re-cached by a read
 * that started before the removal.
 */
export class HeaderCache {
  readonly #entries = new Map<string, CachedBlob>()
  readonly #capacity: number
  generation = 0

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  get(key: string): CachedBlob | undefined {
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, entry)
    }
    return entry
  }

  set(key: string, entry: CachedBlob): void {
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }

  /** Drops a blob and invalidates reads in flight. */
  delete(key: string): void {
    this.#entries.delete(key)
    this.generation++
  }

  clear(): void {
    this.#entries.clear()
    this.generation++
  }
}
