import * as varint from 'uint8-varint'
import { describe, expect, it } from 'vitest'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { Reply, ReplyKind, Shard } from '../../src/p2p/pb/dacnet.js'
import { shardMessageSize, shardReplySize, writeShardMessage, writeShardReply } from '../../src/p2p/shard-frame.ts'
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
