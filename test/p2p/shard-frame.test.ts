import fc from 'fast-check'
import * as varint from 'uint8-varint'
import { describe, expect, it } from 'vitest'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { Reply, ReplyKind, Shard } from '../../src/p2p/pb/dacnet.js'
import {
  decodeReplyFrame,
  decodeShardFrame,
  shardMessageSize,
  shardReplySize,
  writeShardMessage,
  writeShardReply,
} from '../../src/p2p/shard-frame.ts'
import { varintSize, writeVarint } from '../../src/p2p/varint.ts'
import { prng } from '../erasure/helpers.ts'

/**
 * Shard frames written straight into a send buffer are the bytes the generated protobuf codec writes for the same
 * message (docs/PROTOCOL.md §3.3), so a peer decoding them with any protobuf library reads the same shard.
 */

function shardOf(rand: () => number, index: number, dataBytes: number, proofBytes: number): ShardWithProof {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256))
  return { index, data: bytes(dataBytes), proof: bytes(proofBytes) }
}

/** Indices and lengths around the varint boundaries (1, 2 and 3 bytes), and the zero values protobuf leaves out. */
const INDICES = [0, 1, 127, 128, 16_383, 16_384, 70_000]
const LENGTHS = [0, 1, 127, 128, 3_000, 16_384, 20_000]

/** Writes with `write` into a buffer with junk around the frame: the writer must touch exactly its own bytes. */
function written(size: number, write: (buf: Uint8Array, offset: number) => number): Uint8Array {
  const buf = new Uint8Array(size + 10).fill(0xee)
  const end = write(buf, 5)
  expect(end - 5).toBe(size)
  expect(buf.subarray(0, 5).every((b) => b === 0xee) && buf.subarray(end).every((b) => b === 0xee)).toBe(true)
  return buf.subarray(5, end)
}

describe('shard frames written in place', () => {
  it('a Shard message is the generated codec’s bytes, for indices and lengths across varint boundaries', () => {
    const rand = prng(3)
    for (const index of INDICES) {
      for (const dataBytes of LENGTHS) {
        const shard = shardOf(rand, index, dataBytes, LENGTHS[(index + dataBytes) % LENGTHS.length]!)
        const expected = Shard.encode(shard)
        expect(shardMessageSize(shard)).toBe(expected.byteLength)
        expect(written(expected.byteLength, (buf, at) => writeShardMessage(buf, at, shard))).toEqual(expected)
      }
    }
  })

  it('a SHARD reply is the generated codec’s bytes, with its own index (sample) or without (retrieve)', () => {
    const rand = prng(4)
    for (const index of INDICES) {
      for (const dataBytes of LENGTHS) {
        const shard = shardOf(rand, index, dataBytes, 32 * (index % 15))
        for (const replyIndex of [index, 0]) {
          const expected = Reply.encode({ kind: ReplyKind.SHARD, shard, index: replyIndex })
          expect(shardReplySize(shard, replyIndex)).toBe(expected.byteLength)
          const bytes = written(expected.byteLength, (buf, at) => writeShardReply(buf, at, shard, replyIndex))
          expect(bytes).toEqual(expected)
          const decoded = Reply.decode(bytes)
          expect(decoded.shard?.data).toEqual(shard.data)
          expect(decoded.index).toBe(replyIndex)
        }
      }
    }
  })

  it('varints are the shortest LEB128 encoding, as uint8-varint writes them', () => {
    for (const value of [0, 1, 127, 128, 255, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 32, 2 ** 53 - 1]) {
      const expected = varint.encode(value)
      expect(varintSize(value)).toBe(expected.byteLength)
      expect(written(expected.byteLength, (buf, at) => writeVarint(buf, at, value))).toEqual(expected)
    }
  })
})

/** What decoding `bytes` gives: the message with its byte fields as plain arrays, or the error's code. */
function outcome(decode: () => unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(decode(), (_, v) => (v instanceof Uint8Array ? Array.from(v) : v)))
  } catch (err) {
    return { code: (err as { code?: string }).code ?? 'thrown' }
  }
}

/** The generated codec's verdict on a frame, its errors as the wire layer reports them (P2P_MALFORMED_MESSAGE). */
function generated(decode: () => unknown): unknown {
  const result = outcome(decode)
  return typeof result === 'object' && result !== null && 'code' in result ? { code: 'P2P_MALFORMED_MESSAGE' } : result
}

describe('shard frames read in place', () => {
  const rand = prng(5)
  const frames = INDICES.flatMap((index) =>
    [0, 3, 3_136].map((dataBytes) => {
      const shard = shardOf(rand, index, dataBytes, 32 * (index % 15))
      return { shard, message: Shard.encode(shard), reply: Reply.encode({ kind: ReplyKind.SHARD, shard, index }) }
    }),
  )

  it('reads what the writers write: the shard, its bytes as views into the frame', () => {
    for (const { shard, message, reply } of frames) {
      const read = decodeShardFrame(message)
      expect(read).toEqual({ index: shard.index, data: shard.data, proof: shard.proof })
      if (shard.data.length > 0) expect(read.data.buffer).toBe(message.buffer)
      const answer = decodeReplyFrame(reply)
      expect(answer.kind).toBe(ReplyKind.SHARD)
      expect(answer.index).toBe(shard.index)
      expect(answer.shard).toEqual({ index: shard.index, data: shard.data, proof: shard.proof })
    }
  })

  it('gives what the generated codec gives for other replies and for fields out of order, repeated or unknown', () => {
    const others = [
      Reply.encode({ kind: ReplyKind.END, count: 12 }),
      Reply.encode({ kind: ReplyKind.NOT_HELD, index: 7 }),
      Reply.encode({ kind: ReplyKind.ERROR, errorCode: 'NODE_BUSY', errorMessage: 'later' }),
      Reply.encode({ kind: ReplyKind.HEADER, header: new Uint8Array(65).fill(1), count: 3 }),
      Uint8Array.of(0x08, 0x00, 0x12, 0x02, 0x08, 0x05), // kind SHARD written out
      Uint8Array.of(0x1a, 0x01, 0xaa, 0x12, 0x01, 0xbb, 0x08, 0x09, 0x12, 0x01, 0xcc), // out of order, data twice
      Uint8Array.of(0x08, 0x02, 0x22, 0x01, 0x00), // an unknown field (4, bytes)
      Uint8Array.of(0x08, 0x80, 0x80, 0x80, 0x80, 0x10), // an index past 2^32
      new Uint8Array(0),
    ]
    for (const frame of others) {
      expect(outcome(() => decodeReplyFrame(frame))).toEqual(generated(() => Reply.decode(frame)))
      expect(outcome(() => decodeShardFrame(frame))).toEqual(generated(() => Shard.decode(frame)))
    }
  })

  it('agrees with the generated codec on any damage to a frame: the same message, or both refuse it', () => {
    const damaged = fc.record({
      frame: fc.constantFrom(...frames.flatMap(({ message, reply }) => [message, reply])),
      cut: fc.nat(),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    })
    fc.assert(
      fc.property(damaged, ({ frame, cut, flips }) => {
        const bytes = frame.slice(0, frame.length - (cut % Math.max(1, Math.min(frame.length, 8))))
        for (const [at, value] of flips) if (bytes.length > 0) bytes[at % Math.min(bytes.length, 16)] = value
        expect(outcome(() => decodeReplyFrame(bytes))).toEqual(generated(() => Reply.decode(bytes)))
        expect(outcome(() => decodeShardFrame(bytes))).toEqual(generated(() => Shard.decode(bytes)))
      }),
      { numRuns: 2_000, seed: 12 },
    )
  })
})
