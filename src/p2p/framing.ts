import type { Stream } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { P2pErrorCode, p2pError, toWireError } from './errors.ts'

/**
 * Frames: an unsigned LEB128 varint length, then that many bytes. The reader checks every length against the
 * caller's limit for that frame before buffering its body, and pauses the stream while it holds more than
 * `highWater` bytes, so a fast sender cannot make us buffer without bound. (libp2p's `lpStream` neither
 * pauses nor allows a per-frame limit, hence this small reader.)
 */

/** Bytes buffered before the reader pauses the stream (the muxer window keeps the rest at the sender). */
export const DEFAULT_READ_HIGH_WATER = 1024 * 1024
/** Bytes queued for sending before a writer waits for the stream to drain. */
export const DEFAULT_WRITE_HIGH_WATER = 1024 * 1024

export class FrameReader {
  private readonly stream: Stream
  private readonly buffer = new Uint8ArrayList()
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
   * Throws P2P_FRAME_TOO_LARGE, P2P_STREAM_ENDED (mid-frame or reset), P2P_TIMEOUT / P2P_ABORTED.
   */
  async next(maxLength: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    const maxPrefix = varint.encodingLength(maxLength)
    while (true) {
      signal?.throwIfAborted()
      const frame = this.take(maxLength, maxPrefix)
      if (frame !== undefined) return frame
      if (this.failure !== null && this.failure !== undefined) throw toWireError(this.failure, 'reading a frame')
      if (this.ended) {
        if (this.buffer.byteLength === 0) return null
        throw p2pError(P2pErrorCode.STREAM_ENDED, `stream ended inside a frame (${this.buffer.byteLength} bytes left)`)
      }
      if (this.stream.readStatus === 'paused') this.stream.resume()
      await this.waitForData(signal)
    }
  }

  /** Like next(), but a clean end is an error too: the protocol needs this frame. */
  async expect(maxLength: number, what: string, signal?: AbortSignal): Promise<Uint8Array> {
    const frame = await this.next(maxLength, signal)
    if (frame === null) throw p2pError(P2pErrorCode.STREAM_ENDED, `stream ended before ${what}`)
    return frame
  }

  /** Detaches from the stream; unread bytes are dropped. */
  release(): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('remoteCloseWrite', this.onEnd)
    this.stream.removeEventListener('close', this.onClose)
    this.notify()
  }

  private take(maxLength: number, maxPrefix: number): Uint8Array | undefined {
    if (this.buffer.byteLength === 0) return undefined
    let length: number
    try {
      length = varint.decode(this.buffer)
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      // An incomplete varint: fine unless it is already longer than any allowed length's varint.
      if (this.buffer.byteLength >= maxPrefix) {
        throw p2pError(P2pErrorCode.FRAME_TOO_LARGE, `frame length prefix is longer than ${maxPrefix} bytes`)
      }
      return undefined
    }
    if (length > maxLength) {
      throw p2pError(P2pErrorCode.FRAME_TOO_LARGE, `frame of ${length} bytes is above the limit of ${maxLength}`, {
        length,
        maxLength,
      })
    }
    const prefix = varint.encodingLength(length)
    if (this.buffer.byteLength < prefix + length) return undefined
    const frame = this.buffer.subarray(prefix, prefix + length)
    this.buffer.consume(prefix + length)
    if (this.stream.readStatus === 'paused' && this.buffer.byteLength < this.highWater) this.stream.resume()
    return frame
  }

  private pauseIfFull(): void {
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
 * Sends one frame (a single `send`, so a full transport never splits prefix from body) and waits while more
 * than `highWater` bytes are queued locally. Waits for 'drain' or 'idle' events in a loop: a drain says
 * the transport took some bytes, not that our queue is short again.
 */
export async function writeFrame(
  stream: Stream,
  data: Uint8Array,
  opts: { signal?: AbortSignal; highWater?: number } = {},
): Promise<void> {
  const highWater = opts.highWater ?? DEFAULT_WRITE_HIGH_WATER
  opts.signal?.throwIfAborted()
  try {
    stream.send(new Uint8ArrayList(varint.encode(data.byteLength), data))
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
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('idle', onDrain)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort)
  })
}
