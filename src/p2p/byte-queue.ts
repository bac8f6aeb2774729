import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * Taken chunks kept in the array before it is compacted (a shift per chunk would move the rest every time): at
 * least this many, and at least half the array, so that compacting stays linear in the chunks a queue ever held
 * even when a peer sends a flood of tiny ones.
 */
const COMPACT_AFTER_CHUNKS = 64
/**
 * Chunks shorter than this are copied into a buffer of the queue's own, TAIL_BYTES at a time, instead of being kept
 * as they came: each chunk kept costs an object and its view (~100 bytes), so a peer sending its bytes one at a time
 * (1-byte muxer frames) would make the reader's 1 MiB of buffered bytes cost over 100 MB of heap.
 */
export const SMALL_CHUNK_BYTES = 1024
const TAIL_BYTES = 16 * 1024

/**
 * The bytes a stream has delivered and a reader has not taken yet, as the chunks they came in: taking bytes from
 * the head moves an offset instead of allocating (a Uint8ArrayList makes a view on every consume and an array on
 * every sublist). A frame within one chunk is taken as a view into it, one that spans chunks as a copy.
 *
 * A store stream carries a member's share as thousands of frames of 3-4 KiB in chunks of up to 64 KiB: what the
 * reader allocates per frame is garbage the member's collector pays for (PROTOCOL.md §2.3, BENCHMARKS.md).
 */
export class ByteQueue {
  #chunks: Uint8Array[] = []
  /** Index in #chunks of the chunk holding the first untaken byte. */
  #head = 0
  /** Offset of the first untaken byte in that chunk. */
  #offset = 0
  #length = 0
  /** Where small chunks are copied (see SMALL_CHUNK_BYTES): bytes up to #tailUsed are written. */
  #tail: Uint8Array | undefined
  #tailUsed = 0
  /** Where the last chunk held, a view of #tail, starts in it; -1 when the last chunk is not such a view. */
  #tailStart = -1

  /** Bytes held. */
  get byteLength(): number {
    return this.#length
  }

  append(data: Uint8Array | Uint8ArrayList): void {
    if (data instanceof Uint8Array) this.#push(data)
    else for (const chunk of data) this.#push(chunk)
  }

  /** The byte at `index` from the head; undefined past the end. */
  byteAt(index: number): number | undefined {
    if (index < 0 || index >= this.#length) return undefined
    let at = this.#offset + index
    for (let c = this.#head; c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c]!
      if (at < chunk.byteLength) return chunk[at]
      at -= chunk.byteLength
    }
    return undefined
  }

  /** Drops `count` bytes from the head (at most what is held). */
  skip(count: number): void {
    let left = Math.min(count, this.#length)
    this.#length -= left
    while (left > 0) {
      const chunk = this.#chunks[this.#head]!
      const rest = chunk.byteLength - this.#offset
      if (left < rest) {
        this.#offset += left
        return
      }
      left -= rest
      this.#dropHead()
    }
  }

  /**
   * The next `count` bytes, taken from the queue: a view into the chunk that holds them all, else a copy joining
   * the chunks they span. The caller checks that `count` bytes are held.
   */
  take(count: number): Uint8Array {
    if (count > this.#length) throw new RangeError(`${count} bytes asked of a queue holding ${this.#length}`)
    if (count === 0) return new Uint8Array(0)
    const first = this.#chunks[this.#head]!
    const start = this.#offset
    if (start + count <= first.byteLength) {
      const view = first.subarray(start, start + count)
      this.skip(count)
      return view
    }
    const joined = new Uint8Array(count)
    let filled = 0
    while (filled < count) {
      const chunk = this.#chunks[this.#head]!
      const piece = Math.min(chunk.byteLength - this.#offset, count - filled)
      joined.set(chunk.subarray(this.#offset, this.#offset + piece), filled)
      filled += piece
      this.skip(piece)
    }
    return joined
  }

  /** Chunks held: bounded by bytes held / SMALL_CHUNK_BYTES, however small the pieces the bytes came in. */
  get chunkCount(): number {
    return this.#chunks.length - this.#head
  }

  /** Drops everything held. */
  clear(): void {
    this.#chunks = []
    this.#head = 0
    this.#offset = 0
    this.#length = 0
    this.#tailStart = -1
  }

  #push(chunk: Uint8Array): void {
    const length = chunk.byteLength
    if (length === 0) return
    this.#length += length
    if (length >= SMALL_CHUNK_BYTES) {
      this.#chunks.push(chunk)
      this.#tailStart = -1
      return
    }
    // A small chunk: appended to the last chunk held when that is a view of the tail with room after it (the bytes
    // past a view are never part of another), else starting a new view there, in a fresh tail when it is full.
    if (this.#tail === undefined || this.#tailUsed + length > TAIL_BYTES) {
      this.#tail = new Uint8Array(TAIL_BYTES)
      this.#tailUsed = 0
      this.#tailStart = -1
    }
    const tail = this.#tail
    tail.set(chunk, this.#tailUsed)
    this.#tailUsed += length
    if (this.#tailStart >= 0) {
      this.#chunks[this.#chunks.length - 1] = tail.subarray(this.#tailStart, this.#tailUsed)
    } else {
      this.#tailStart = this.#tailUsed - length
      this.#chunks.push(tail.subarray(this.#tailStart, this.#tailUsed))
    }
  }

  #dropHead(): void {
    this.#chunks[this.#head] = EMPTY
    this.#head++
    this.#offset = 0
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0
      this.#head = 0
      this.#tailStart = -1
    } else if (this.#head >= COMPACT_AFTER_CHUNKS && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }
}

const EMPTY = new Uint8Array(0)
