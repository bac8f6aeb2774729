import { randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { ByteQueue } from '../../src/p2p/byte-queue.ts'

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
    const first = Uint8Array.of(1, 2, 3, 4, 5)
    const queue = new ByteQueue()
    queue.append(first)
    queue.append(Uint8Array.of(6, 7, 8))
    const view = queue.take(2)
    expect(view).toEqual(Uint8Array.of(1, 2))
    expect(view.buffer).toBe(first.buffer)
    const joined = queue.take(4)
    expect(joined).toEqual(Uint8Array.of(3, 4, 5, 6))
    expect(joined.buffer).not.toBe(first.buffer)
    expect(queue.byteLength).toBe(2)
    expect([queue.byteAt(0), queue.byteAt(1), queue.byteAt(2), queue.byteAt(-1)]).toEqual([7, 8, undefined, undefined])
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
