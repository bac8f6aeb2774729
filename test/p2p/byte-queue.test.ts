import { randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { ByteQueue, SMALL_CHUNK_BYTES } from '../../src/p2p/byte-queue.ts'

/** A deterministic generator, so that a failing split can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('ByteQueue', () => {
  it('gives back the bytes it was handed, in order, however they are chunked and taken', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed)
      const bytes = new Uint8Array(randomBytes(20_000))
      const queue = new ByteQueue()
      const out: number[] = []
      let given = 0
      while (given < bytes.length || queue.byteLength > 0) {
        if (given < bytes.length && (queue.byteLength === 0 || next() < 0.5)) {
          // Chunks of 0 to 300 bytes, some of them handed over as a list.
          const size = Math.min(Math.floor(next() * 300), bytes.length - given)
          const chunk = bytes.subarray(given, given + size)
          if (next() < 0.3) queue.append(new Uint8ArrayList(chunk.subarray(0, size >> 1), chunk.subarray(size >> 1)))
          else queue.append(chunk)
          given += size
          continue
        }
        const want = Math.min(queue.byteLength, Math.floor(next() * 700))
        expect(queue.byteAt(0)).toBe(want === 0 && queue.byteLength === 0 ? undefined : bytes[out.length])
        if (next() < 0.2) {
          queue.skip(want)
          for (let i = 0; i < want; i++) out.push(bytes[out.length]!)
        } else {
          out.push(...queue.take(want))
        }
      }
      expect(Uint8Array.from(out), `seed ${seed}`).toEqual(bytes)
    }
  })

  it('takes a frame within one chunk as a view into it, one across chunks as a copy', () => {
    const first = new Uint8Array(randomBytes(SMALL_CHUNK_BYTES + 5))
    const second = new Uint8Array(randomBytes(SMALL_CHUNK_BYTES))
    const queue = new ByteQueue()
    queue.append(first)
    queue.append(second)
    const view = queue.take(SMALL_CHUNK_BYTES)
    expect(view).toEqual(first.subarray(0, SMALL_CHUNK_BYTES))
    expect(view.buffer).toBe(first.buffer)
    const joined = queue.take(10)
    expect(joined).toEqual(Uint8Array.of(...first.subarray(SMALL_CHUNK_BYTES), ...second.subarray(0, 5)))
    expect(joined.buffer).not.toBe(first.buffer)
    expect(queue.byteLength).toBe(SMALL_CHUNK_BYTES - 5)
    expect([queue.byteAt(0), queue.byteAt(queue.byteLength), queue.byteAt(-1)]).toEqual([
      second[5],
      undefined,
      undefined,
    ])
  })

  it('holds bytes sent one at a time in a few buffers of its own, not an object per byte', () => {
    const bytes = new Uint8Array(randomBytes(100_000))
    const queue = new ByteQueue()
    const taken: Uint8Array[] = []
    for (let i = 0; i < bytes.length; i++) {
      queue.append(bytes.subarray(i, i + 1))
      // Frames taken as views of the queue's buffer stay as they were while more bytes are copied in after them.
      if (i % 10_000 === 9_999) taken.push(queue.take(5_000))
    }
    expect(queue.chunkCount).toBeLessThanOrEqual(Math.ceil(queue.byteLength / (16 * 1024)) + 1)
    const rest = queue.take(queue.byteLength)
    const out = Uint8Array.from([...taken.flatMap((t) => [...t]), ...rest])
    // The views were taken at every 10,000th byte: 5,000 each, then what was left, in order.
    expect(out.length).toBe(bytes.length)
    expect(out).toEqual(bytes)
  })

  it('refuses to take more than it holds, and holds nothing once cleared', () => {
    const queue = new ByteQueue()
    queue.append(new Uint8Array(10))
    expect(() => queue.take(11)).toThrow(RangeError)
    expect(queue.byteLength).toBe(10)
    expect(queue.take(0)).toHaveLength(0)
    queue.clear()
    expect(queue.byteLength).toBe(0)
    expect(queue.byteAt(0)).toBeUndefined()
  })

  it('keeps taking correctly past many consumed chunks (its chunk list is compacted on the way)', () => {
    const queue = new ByteQueue()
    let value = 0
    for (let chunk = 0; chunk < 1000; chunk++) queue.append(Uint8Array.from({ length: 7 }, () => value++ % 256))
    let expected = 0
    while (queue.byteLength >= 5) {
      for (const byte of queue.take(5)) expect(byte).toBe(expected++ % 256)
    }
    expect(expected).toBe(7000 - queue.byteLength)
  })
})
