import type { Stream } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import type { Uint8ArrayList } from 'uint8arraylist'
import { allocUnsafe } from 'uint8arrays/alloc'
import { ByteQueue } from './byte-queue.ts'
import { asError, P2pErrorCode, p2pError, toWireError } from './errors.ts'
import { varintSize, writeVarint } from './varint.ts'

/**
 * Frames: an unsigned LEB128 varint length in its shortest encoding, then that many bytes. The reader checks
 * every length against the caller's limit for that frame before buffering its body, and pauses the stream while
 * it holds more than `highWater` bytes that nobody is waiting for, so a fast sender cannot make us buffer without
 * bound. (libp2p's `lpStream` neither pauses nor allows a per-frame limit, hence this small reader.)
 */

/** Bytes buffered before the reader pauses the stream (the muxer window keeps the rest at the sender). */
export const DEFAULT_READ_HIGH_WATER = 1024 * 1024
/** Bytes queued for sending before a writer waits for the stream to drain. */
export const DEFAULT_WRITE_HIGH_WATER = 1024 * 1024

export class FrameReader {
  private readonly stream: Stream
  private readonly buffer = new ByteQueue()
  private readonly highWater: number
  private ended = false
  private failure: unknown = null
  private wake: (() => void) | null = null
  private readonly onMessage = (evt: { data: Uint8Array | Uint8ArrayList }) => {
    this.buffer.append(evt.data)
    // Pausing from inside the listener can be undone by the resume that delivered this message: defer it.
    if (this.buffer.byteLength >= this.highWater) queueMicrotask(() => this.pauseIfFull())
    this.notify()
  }
  private readonly onEnd = () => {
    this.ended = true
    this.notify()
  }
  private readonly onClose = (evt: Event) => {
    this.ended = true
    this.failure ??= (evt as Event & { error?: unknown }).error ?? null
    this.notify()
  }

  constructor(stream: Stream, opts: { highWater?: number } = {}) {
    this.stream = stream
    this.highWater = opts.highWater ?? DEFAULT_READ_HIGH_WATER
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('remoteCloseWrite', this.onEnd)
    stream.addEventListener('close', this.onClose)
    if (stream.readableEnded || stream.remoteWriteStatus !== 'writable') this.ended = true
  }

  /**
   * The next frame, at most `maxLength` bytes, or null if the stream ended cleanly between frames.
   * Throws P2P_FRAME_TOO_LARGE, P2P_MALFORMED_MESSAGE (a length prefix that is not the shortest encoding),
   * P2P_STREAM_ENDED (mid-frame or reset), P2P_TIMEOUT / P2P_ABORTED.
   */
  async next(maxLength: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    const maxPrefix = varint.encodingLength(maxLength)
    while (true) {
      signal?.throwIfAborted()
      const frame = this.take(maxLength, maxPrefix)
      if (frame !== undefined) return frame
      if (!(await this.moreBytes(signal))) {
        if (this.buffer.byteLength === 0) return null
        throw p2pError(P2pErrorCode.STREAM_ENDED, `stream ended inside a frame (${this.buffer.byteLength} bytes left)`)
      }
    }
  }

  /**
   * The next frame if all of it is here already, taken at once; undefined if not (then `next` or `expect` waits for
   * it). Throws as `next` does for a frame above `maxLength`, a malformed length prefix or an aborted `signal`. A
   * reader of many frames takes what has arrived without a promise per frame, and awaits only when the buffer runs
   * dry.
   */
  nextBuffered(maxLength: number, signal?: AbortSignal): Uint8Array | undefined {
    signal?.throwIfAborted()
    return this.take(maxLength, varint.encodingLength(maxLength))
  }

  /** Like next(), but a clean end is an error too: the protocol needs this frame. */
  async expect(maxLength: number, what: string, signal?: AbortSignal): Promise<Uint8Array> {
    const frame = await this.next(maxLength, signal)
    if (frame === null) throw p2pError(P2pErrorCode.STREAM_ENDED, `stream ended before ${what}`)
    return frame
  }

  /**
   * Waits for the sender to close its side with nothing more sent. Any further byte — a whole frame, a bare
   * length prefix, even an empty frame — is P2P_MALFORMED_MESSAGE (`what` says which rule it breaks), refused
   * without reading the rest. A reset is P2P_STREAM_ENDED; the signal gives P2P_TIMEOUT / P2P_ABORTED.
   */
  async expectEnd(what: string, signal?: AbortSignal): Promise<void> {
    while (true) {
      signal?.throwIfAborted()
      if (this.buffer.byteLength > 0) throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, what)
      if (!(await this.moreBytes(signal))) return
    }
  }

  /**
   * Waits for the first byte of the next frame: true once one is here, false if the stream ended cleanly first.
   * Throws as next() does for a reset or the signal.
   */
  async started(signal?: AbortSignal): Promise<boolean> {
    while (this.buffer.byteLength === 0) {
      signal?.throwIfAborted()
      if (!(await this.moreBytes(signal))) return false
    }
    return true
  }

  /** Bytes received and not yet taken as frames. */
  get buffered(): number {
    return this.buffer.byteLength
  }

  /** Detaches from the stream; unread bytes are dropped. */
  release(): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('remoteCloseWrite', this.onEnd)
    this.stream.removeEventListener('close', this.onClose)
    this.notify()
  }

  private take(maxLength: number, maxPrefix: number): Uint8Array | undefined {
    const head = this.lengthPrefix(maxPrefix)
    if (head === undefined) return undefined
    const { length, prefix } = head
    if (length > maxLength) {
      throw p2pError(P2pErrorCode.FRAME_TOO_LARGE, `frame of ${length} bytes is above the limit of ${maxLength}`, {
        length,
        maxLength,
      })
    }
    if (this.buffer.byteLength < prefix + length) return undefined
    this.buffer.skip(prefix)
    const frame = this.buffer.take(length)
    if (this.stream.readStatus === 'paused' && this.buffer.byteLength < this.highWater) this.stream.resume()
    return frame
  }

  /**
   * The length prefix at the head of the buffer: its value and how many bytes it takes, or undefined while it
   * is incomplete. Only the shortest encoding of a length is accepted: `0x81 0x00` also reads as 1, but taking
   * it would put the body one byte early. A prefix longer than the limit's own varint is refused at once.
   */
  private lengthPrefix(maxPrefix: number): { length: number; prefix: number } | undefined {
    const available = Math.min(this.buffer.byteLength, maxPrefix)
    let length = 0
    for (let i = 0; i < available; i++) {
      const byte = this.buffer.byteAt(i)!
      length += (byte & 0x7f) * 2 ** (7 * i)
      if (byte < 0x80) {
        if (byte === 0 && i > 0) {
          throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `frame length prefix of ${i + 1} bytes is not minimal`, {
            length,
          })
        }
        return { length, prefix: i + 1 }
      }
    }
    if (this.buffer.byteLength >= maxPrefix) {
      throw p2pError(P2pErrorCode.FRAME_TOO_LARGE, `frame length prefix is longer than ${maxPrefix} bytes`)
    }
    return undefined
  }

  /**
   * One wait for bytes, when the buffer does not hold what the caller needs: true when bytes may have come (look
   * again), false once the stream has ended cleanly with nothing more to deliver; throws if it failed.
   *
   * Bytes that arrived while the stream was paused are handed over synchronously by resume(), before any waiter
   * exists: so after a resume the caller looks again instead of waiting for a notification already gone by. The
   * stream is never left paused while a caller waits (see pauseIfFull), and an end is final only once the stream
   * holds no undelivered bytes (a sender may close while we are paused with its last frames still queued).
   */
  private async moreBytes(signal?: AbortSignal): Promise<boolean> {
    if (this.failure !== null && this.failure !== undefined) throw toWireError(this.failure, 'reading a frame')
    if (this.stream.readStatus === 'paused') {
      this.stream.resume()
      return true
    }
    if (this.ended && !this.streamHoldsBytes()) return false
    await this.waitForData(signal)
    return true
  }

  /** Bytes the stream has received but not yet delivered to us (they come as 'message' events). */
  private streamHoldsBytes(): boolean {
    const status = this.stream.readStatus
    return this.stream.readBufferLength > 0 && (status === 'readable' || status === 'paused')
  }

  /**
   * Pauses while more than `highWater` bytes wait to be taken, so a sender cannot make us buffer without bound.
   * Not while a caller waits for bytes: then the frame at the head is incomplete (larger than `highWater`,
   * within the caller's limit), and only more bytes can finish it.
   */
  private pauseIfFull(): void {
    if (this.wake !== null) return
    if (this.buffer.byteLength >= this.highWater && this.stream.readStatus === 'readable') this.stream.pause()
  }

  private waitForData(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.wake = null
        reject(toWireError(signal!.reason, 'reading a frame'))
      }
      this.wake = () => {
        signal?.removeEventListener('abort', onAbort)
        this.wake = null
        resolve()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  private notify(): void {
    this.wake?.()
  }
}

/**
 * How long a peer has, after the last frame of its answer, to close its side of the stream (ms): its close waits
 * for its connection to drain, which a large transfer on the same connection over a slow link can hold up.
 */
export const REMOTE_CLOSE_GRACE_MS = 5_000

/**
 * Ends a client's finished exchange in the background. The peer, its answer complete, must close its side within
 * REMOTE_CLOSE_GRACE_MS and send nothing more; a byte more, or no close in time, resets the stream. A stream whose
 * write side this node closed stays open until the peer closes too, and what the peer sends then piles up in the
 * stream's read buffer with nobody reading: a holder that answered and never closed could pin up to that buffer's
 * limit (4 MiB) per stream, dozens of streams per connection, for as long as the connection lives.
 */
export function settleFinished(stream: Stream, reader: FrameReader): void {
  reader
    .expectEnd('bytes after the end of the answer', AbortSignal.timeout(REMOTE_CLOSE_GRACE_MS))
    .catch((err: unknown) => stream.abort(asError(err)))
    .finally(() => reader.release())
}

export interface WriteOptions {
  signal?: AbortSignal
  /** Bytes queued locally past which a writer waits for the stream to drain. Default DEFAULT_WRITE_HIGH_WATER. */
  highWater?: number
}

/**
 * Sends one frame (a single `send` of one contiguous buffer, so a full transport never splits prefix from body and
 * the layers below write it as one piece) and waits while more than `highWater` bytes are queued locally. Waits
 * for 'drain' or 'idle' events in a loop: a drain says the transport took some bytes, not that our queue is short
 * again.
 */
export async function writeFrame(stream: Stream, data: Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const framed = allocUnsafe(varintSize(data.byteLength) + data.byteLength)
  framed.set(data, writeVarint(framed, 0, data.byteLength))
  await sendAndDrain(stream, framed, opts)
}

/**
 * Bytes of frames a FrameBatch gathers into one `send`: just under one noise message (at most 65,535 bytes), so
 * that a sender of many small frames — a member's share of a blob is about a thousand shards of 3-4 KiB
 * (PROTOCOL.md §2.3) — pays the muxer's, the encryption's and the socket's per-message costs once per batch
 * instead of once per frame. Frames are a byte stream: how they are grouped into sends changes nothing on the wire.
 */
export const DEFAULT_SEND_BATCH_BYTES = 60 * 1024

/** Room past `batchBytes` in a batch's buffer, so that the frame that fills a batch seldom needs a bigger one. */
const BATCH_SLACK_BYTES = 16 * 1024
/** A frame this small that starts a batch gets a buffer of its own size (an END after the last shards). */
const SMALL_FRAME_BYTES = 1024

/** Writes a frame's body at `offset` of `buf`; returns the offset just after it. */
export type FrameWriter = (buf: Uint8Array, offset: number) => number

/**
 * Frames gathered and sent together: `add` queues a frame and sends the batch once it holds `batchBytes`;
 * `flush` sends what is left. Frames are written into one buffer as they come (`addWritten` lets an encoder
 * write a body there directly), and that buffer is what is sent. Holds at most one batch (plus the frame that
 * filled it) in memory.
 */
export class FrameBatch {
  readonly #stream: Stream
  readonly #opts: WriteOptions
  readonly #batchBytes: number
  #buf: Uint8Array | undefined
  #used = 0

  constructor(stream: Stream, opts: WriteOptions & { batchBytes?: number } = {}) {
    this.#stream = stream
    this.#opts = opts
    this.#batchBytes = opts.batchBytes ?? DEFAULT_SEND_BATCH_BYTES
  }

  add(data: Uint8Array): Promise<void> {
    return this.addWritten(data.byteLength, (buf, offset) => {
      buf.set(data, offset)
      return offset + data.byteLength
    })
  }

  /** Queues a frame of `length` bytes whose body `write` puts in place; it must write exactly `length` bytes. */
  async addWritten(length: number, write: FrameWriter): Promise<void> {
    const start = this.#used
    const size = varintSize(length) + length
    const buf = this.#room(size)
    const end = write(buf, writeVarint(buf, start, length))
    if (end !== start + size) throw new Error(`a frame writer wrote ${end - start} bytes of a ${size}-byte frame`)
    this.#used = end
    if (this.#used >= this.#batchBytes) await this.flush()
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return
    // One contiguous buffer: the layers below (yamux, noise, the TCP socket) carry each chunk of a list as a
    // piece of its own, so a batch of frames sent as a list became a socket write per varint and per frame.
    const batch = this.#buf!.subarray(0, this.#used)
    this.#buf = undefined
    this.#used = 0
    await sendAndDrain(this.#stream, batch, this.#opts)
  }

  /** The buffer, with room for `size` more bytes after what it holds. */
  #room(size: number): Uint8Array {
    const buf = this.#buf
    if (buf !== undefined && this.#used + size <= buf.byteLength) return buf
    const capacity =
      buf === undefined && size <= SMALL_FRAME_BYTES
        ? size
        : Math.max(this.#batchBytes + BATCH_SLACK_BYTES, this.#used + size)
    const next = allocUnsafe(capacity)
    if (buf !== undefined) next.set(buf.subarray(0, this.#used))
    this.#buf = next
    return next
  }
}

async function sendAndDrain(stream: Stream, data: Uint8Array, opts: WriteOptions): Promise<void> {
  const highWater = opts.highWater ?? DEFAULT_WRITE_HIGH_WATER
  opts.signal?.throwIfAborted()
  try {
    stream.send(data)
  } catch (err) {
    throw toWireError(err, 'writing a frame')
  }
  while (stream.writeBufferLength > highWater) await drained(stream, opts.signal)
}

function drained(stream: Stream, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown) => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('idle', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(toWireError(err, 'writing a frame'))
    }
    const onDrain = () => done()
    const onClose = (evt: Event) =>
      done((evt as Event & { error?: unknown }).error ?? p2pError(P2pErrorCode.STREAM_ENDED, 'stream closed'))
    const onAbort = () => done(signal!.reason)
    if (signal?.aborted) {
      onAbort()
      return
    }
    // A stream reset or aborted before we got here sends no more events: its queued bytes will never drain.
    if (stream.status === 'reset' || stream.status === 'aborted' || stream.writeStatus === 'closed') {
      done(p2pError(P2pErrorCode.STREAM_ENDED, `stream ${stream.status}`))
      return
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('idle', onDrain)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort)
  })
}
