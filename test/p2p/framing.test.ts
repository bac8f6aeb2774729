import type { Stream } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { DEFAULT_SEND_BATCH_BYTES, FrameBatch, FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { failureOf, startNodes, stopAll, untilClosed, waitFor, withHandler } from './helpers.ts'

/**
 * The frame reader against raw bytes, over a real libp2p stream on loopback: the client sends exactly the bytes
 * a test names, the server reads them with a FrameReader (docs/PROTOCOL.md §3.2).
 */

const PROTOCOL = '/dacnet-test/frames/1.0.0'

let server: DacnetLibp2p
let client: DacnetLibp2p

beforeAll(async () => {
  ;[server, client] = (await startNodes(2)) as [DacnetLibp2p, DacnetLibp2p]
  await client.dial(server.getMultiaddrs())
})

afterAll(() => stopAll([server, client]))

/** What the server's `read` made of `bytes` (sent raw, then the client's write side closed): a value or an error. */
async function serverReads<T>(
  bytes: Uint8Array,
  read: (reader: FrameReader) => Promise<T>,
): Promise<{ value?: T; code?: string | undefined }> {
  let resolve!: (outcome: { value?: T; code?: string | undefined }) => void
  const outcome = new Promise<{ value?: T; code?: string | undefined }>((r) => {
    resolve = r
  })
  const handler = async (stream: Stream) => {
    const reader = new FrameReader(stream)
    try {
      resolve({ value: await read(reader) })
    } catch (err) {
      resolve({ code: (err as { code?: string }).code ?? `uncoded: ${(err as Error).message}` })
    } finally {
      reader.release()
      await stream.close().catch(() => {})
    }
  }
  return withHandler(server, PROTOCOL, handler, async () => {
    const stream = await client.dialProtocol(server.peerId, PROTOCOL)
    stream.send(bytes)
    await stream.close()
    return outcome
  })
}

/** Every frame until the clean end, as arrays of numbers. */
const allFrames = (maxLength: number) => async (reader: FrameReader) => {
  const frames: number[][] = []
  for (let frame = await reader.next(maxLength); frame !== null; frame = await reader.next(maxLength))
    frames.push([...frame])
  return frames
}

describe('frame length prefixes', { timeout: 10_000 }, () => {
  it('a non-minimal prefix is P2P_MALFORMED_MESSAGE, not a frame read from the wrong offset', async () => {
    // 0x81 0x00 also decodes to 1; taken as a one-byte prefix it would make the frame [0x00] and shift every
    // later frame by one byte (here 0xaa would become the next length prefix).
    const shifted = await serverReads(Uint8Array.of(0x81, 0x00, 0xaa, 0x01, 0xbb), allFrames(200))
    expect(shifted).toEqual({ code: P2pErrorCode.MALFORMED_MESSAGE })
    // Zero padded to two and three bytes, and a two-byte length padded to three.
    for (const prefix of [
      [0x80, 0x00],
      [0x80, 0x80, 0x00],
      [0x82, 0x81, 0x00],
    ]) {
      const bytes = Uint8Array.of(...prefix, ...new Uint8Array(130 + 2))
      expect(await serverReads(bytes, allFrames(100_000)), `prefix ${prefix}`).toEqual({
        code: P2pErrorCode.MALFORMED_MESSAGE,
      })
    }
  })

  it('minimal prefixes of one, two and three bytes, and the empty frame, read as sent', async () => {
    const sizes = [0, 1, 127, 128, 300, 16_383, 16_384]
    const frames = sizes.map((size) => Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff))
    const bytes = Uint8Array.from(frames.flatMap((frame) => [...varint.encode(frame.length), ...frame]))
    expect(bytes.length).toBe(sizes.reduce((sum, size) => sum + size, 0) + 1 + 1 + 1 + 2 + 2 + 2 + 3)
    expect(await serverReads(bytes, allFrames(16_384))).toEqual({ value: frames })
  })

  it('a prefix longer than the limit’s own varint is P2P_FRAME_TOO_LARGE at once, padded or not', async () => {
    // Limit 100: one prefix byte. A continuation bit in the first byte means a length of at least 128 — or a
    // padded small one; either way more than this frame may announce.
    expect(await serverReads(Uint8Array.of(0x81, 0x00, 0xaa), allFrames(100))).toEqual({
      code: P2pErrorCode.FRAME_TOO_LARGE,
    })
    expect(await serverReads(Uint8Array.of(0x65, ...new Uint8Array(101)), allFrames(100))).toEqual({
      code: P2pErrorCode.FRAME_TOO_LARGE,
    })
  })
})

describe('frames already received', { timeout: 10_000 }, () => {
  it('are taken at once while whole, undefined for one not yet whole, then read on by waiting', async () => {
    // Three frames and the first byte of a fourth's body: two bytes announced, one sent before the end.
    const bytes = Uint8Array.of(2, 1, 2, 0, 3, 7, 8, 9, 2, 5)
    const outcome = await serverReads(bytes, async (reader) => {
      await reader.started()
      while (reader.buffered < bytes.length) await reader.started().then(() => new Promise((r) => setImmediate(r)))
      const taken: (number[] | undefined)[] = []
      for (let i = 0; i < 4; i++) taken.push(((f) => (f === undefined ? undefined : [...f]))(reader.nextBuffered(16)))
      const last = await reader.next(16).catch((err: { code?: string }) => err.code)
      return { taken, last }
    })
    expect(outcome.value).toEqual({ taken: [[1, 2], [], [7, 8, 9], undefined], last: P2pErrorCode.STREAM_ENDED })
  })

  it('an aborted signal is thrown before a buffered frame is taken, and the frame stays for the next read', async () => {
    const outcome = await serverReads(Uint8Array.of(2, 1, 2), async (reader) => {
      while (reader.buffered < 3) await reader.started().then(() => new Promise((r) => setImmediate(r)))
      const aborted = (() => {
        try {
          reader.nextBuffered(16, AbortSignal.abort())
          return false
        } catch {
          return true
        }
      })()
      return { aborted, buffered: reader.buffered, frame: [...(reader.nextBuffered(16) ?? [])] }
    })
    expect(outcome.value).toEqual({ aborted: true, buffered: 3, frame: [1, 2] })
  })

  it('a frame above the limit is refused as it would be by next(), without waiting', async () => {
    const outcome = await serverReads(Uint8Array.of(5, 1, 2, 3, 4, 5), async (reader) => {
      while (reader.buffered < 6) await reader.started().then(() => new Promise((r) => setImmediate(r)))
      return reader.nextBuffered(4)
    })
    expect(outcome.code).toBe(P2pErrorCode.FRAME_TOO_LARGE)
  })
})

describe('the end of a frame sequence', { timeout: 10_000 }, () => {
  const endAfterOne = async (reader: FrameReader) => {
    const frame = await reader.expect(16, 'the one frame')
    await reader.expectEnd('a frame after the last one')
    return [...frame]
  }

  it('a clean end after the last frame is accepted', async () => {
    expect(await serverReads(Uint8Array.of(0x02, 0x0a, 0x0b), endAfterOne)).toEqual({ value: [0x0a, 0x0b] })
  })

  it('any byte after the last frame is P2P_MALFORMED_MESSAGE, whatever its length prefix announces', async () => {
    const trailers = [
      [0x00], // an empty frame
      [0x01, 0x07], // a one-byte frame
      [0x02, 0x07, 0x08], // a two-byte frame
      [0xff, 0xff, 0x03], // a prefix announcing 64 KiB (above the frame limit), body never sent
      [0x80], // half a prefix
    ]
    for (const trailer of trailers) {
      const outcome = await serverReads(Uint8Array.of(0x02, 0x0a, 0x0b, ...trailer), endAfterOne)
      expect(outcome, `trailer ${trailer}`).toEqual({ code: P2pErrorCode.MALFORMED_MESSAGE })
    }
  })

  it('a stream reset instead of an end is P2P_STREAM_ENDED', async () => {
    let resolve!: (code: string | undefined) => void
    const outcome = new Promise<string | undefined>((r) => {
      resolve = r
    })
    await withHandler(
      server,
      PROTOCOL,
      async (stream) => {
        const reader = new FrameReader(stream)
        try {
          await reader.expect(16, 'the one frame')
          await writeFrame(stream, Uint8Array.of(1)) // tells the client its frame arrived
          resolve((await failureOf(reader.expectEnd('a frame after the last one')))?.code)
        } catch (err) {
          resolve(`the handler failed: ${(err as Error).message}`)
        } finally {
          reader.release()
        }
      },
      async () => {
        const stream = await client.dialProtocol(server.peerId, PROTOCOL)
        const reader = new FrameReader(stream)
        await writeFrame(stream, Uint8Array.of(1))
        await reader.expect(1, 'the acknowledgement')
        reader.release()
        stream.abort(new Error('client gave up'))
        expect(await outcome).toBe(P2pErrorCode.STREAM_ENDED)
      },
    )
  })
})

describe('a paused reader', { timeout: 10_000 }, () => {
  const FRAME = 50 * 1024
  const COUNT = 4
  /** COUNT frames of FRAME bytes, frame i filled with i. Their total fits the muxer's first window (256 KiB). */
  const frames = Array.from({ length: COUNT }, (_, i) => new Uint8Array(FRAME).fill(i))
  const total = COUNT * (FRAME + varint.encodingLength(FRAME))

  /**
   * A client stream that read nothing while the server sent `frames` (and closed its write side if `close`):
   * every byte is held by the paused stream when `body` runs.
   */
  async function pausedWhileSent<T>(close: boolean, body: (stream: Stream) => Promise<T>): Promise<T> {
    const sender = async (stream: Stream) => {
      const reader = new FrameReader(stream)
      await reader.expect(1, 'the go')
      reader.release()
      for (const frame of frames) await writeFrame(stream, frame)
      if (close) await stream.close()
      else await untilClosed(stream)
    }
    return withHandler(server, PROTOCOL, sender, async () => {
      const stream = await client.dialProtocol(server.peerId, PROTOCOL)
      stream.pause()
      await writeFrame(stream, Uint8Array.of(1))
      await waitFor(() => stream.readBufferLength >= total, 'every frame to reach the paused client')
      if (close) await waitFor(() => stream.remoteWriteStatus === 'closed', 'the server to close its side')
      try {
        return await body(stream)
      } finally {
        stream.abort(new Error('test over'))
      }
    })
  }

  it('delivers frames the stream held while paused, when they are more than its high-water mark', async () => {
    // resume() hands the held bytes over at once, before the reader waits: it must look at them, not wait for
    // more that the sender will never send.
    const got = await pausedWhileSent(false, async (stream) => {
      const reader = new FrameReader(stream, { highWater: FRAME })
      const signal = AbortSignal.timeout(3_000)
      const read: number[] = []
      for (let i = 0; i < COUNT; i++) read.push((await reader.expect(FRAME, `frame ${i}`, signal))[0]!)
      reader.release()
      return read
    })
    expect(got).toEqual([0, 1, 2, 3])
  })

  it('delivers every frame when the sender closed while the reader was paused, then the clean end', async () => {
    const got = await pausedWhileSent(true, async (stream) => {
      const reader = new FrameReader(stream)
      const signal = AbortSignal.timeout(3_000)
      const read: number[] = []
      for (let frame = await reader.next(FRAME, signal); frame !== null; frame = await reader.next(FRAME, signal))
        read.push(frame[0]!)
      reader.release()
      return read
    })
    expect(got).toEqual([0, 1, 2, 3])
  })
})

/**
 * The frames a client sends through `send` on a fresh stream, as the server read them back one by one: each as
 * [its length, the byte it is filled with] (-1 for an empty frame, -2 for one not filled with a single byte).
 */
async function framesAsRead(maxFrameBytes: number, send: (stream: Stream) => Promise<void>): Promise<number[][]> {
  return withHandler(
    server,
    PROTOCOL,
    async (stream: Stream) => {
      const reader = new FrameReader(stream)
      const read: number[][] = []
      for (let frame = await reader.next(maxFrameBytes); frame !== null; frame = await reader.next(maxFrameBytes))
        read.push([frame.length, frame.every((b) => b === frame[0]) ? (frame[0] ?? -1) : -2])
      reader.release()
      await writeFrame(stream, new TextEncoder().encode(JSON.stringify(read)))
      await stream.close()
    },
    async () => {
      const stream = await client.dialProtocol(server.peerId, PROTOCOL)
      await send(stream)
      await stream.close()
      const reader = new FrameReader(stream)
      const answer = await reader.expect(1024 * 1024, 'the echo')
      reader.release()
      return JSON.parse(new TextDecoder().decode(answer)) as number[][]
    },
  )
}

describe('a frame batch', { timeout: 10_000 }, () => {
  it('sends many small frames in a few sends of at most a batch each, read back one by one as sent', async () => {
    // 300 frames of 1 to 4,000 bytes (a member's share is many small shards): frame i is filled with i mod 256.
    const frames = Array.from({ length: 300 }, (_, i) => new Uint8Array(1 + ((i * 7919) % 4000)).fill(i % 256))
    let sends = 0
    let largest = 0
    const got = await framesAsRead(4000, async (stream) => {
      const send = stream.send.bind(stream)
      stream.send = (data) => {
        sends++
        largest = Math.max(largest, data.byteLength)
        return send(data)
      }
      const batch = new FrameBatch(stream)
      for (const frame of frames) await batch.add(frame)
      await batch.flush()
      await batch.flush() // nothing left: sends nothing
    })
    expect(got).toEqual(frames.map((f) => [f.length, f[0]]))
    const total = frames.reduce((sum, f) => sum + f.length + varint.encodingLength(f.length), 0)
    // Every send but the last carries at least a batch; none more than a batch and the frame that filled it.
    expect(sends).toBeGreaterThan(1)
    expect(sends).toBeLessThanOrEqual(Math.ceil(total / DEFAULT_SEND_BATCH_BYTES))
    expect(largest).toBeLessThan(DEFAULT_SEND_BATCH_BYTES + 4000 + 2)
  })

  it('carries frames larger than a batch, tiny ones and ones written in place, in order and whole', async () => {
    // Frame i is filled with i mod 256; sizes run from empty to well past a batch's buffer.
    const sizes = [5, 100_000, 0, 1, 61_000, 3_000, 200_000, 2, 60 * 1024, 7]
    const frames = sizes.map((size, i) => new Uint8Array(size).fill(i % 256))
    const got = await framesAsRead(300_000, async (stream) => {
      const batch = new FrameBatch(stream)
      for (const [i, frame] of frames.entries()) {
        if (i % 2 === 0) await batch.add(frame)
        else
          await batch.addWritten(frame.length, (buf, at) => {
            buf.fill(i % 256, at, at + frame.length)
            return at + frame.length
          })
      }
      // A writer that writes other than its frame's length is a bug, caught before anything is sent.
      await expect(batch.addWritten(10, (_buf, at) => at + 9)).rejects.toThrow(/wrote 10 bytes of a 11-byte frame/)
      await batch.flush()
    })
    expect(got).toEqual(frames.map((f, i) => [f.length, f.length === 0 ? -1 : i % 256]))
  })
})
