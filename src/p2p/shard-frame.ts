import type { ShardWithProof } from '../erasure/shard.ts'
import type { FrameBatch } from './framing.ts'
import { type Reply, Reply as ReplyCodec, ReplyKind, Shard } from './pb/dacnet.js'
import { varintSize, writeVarint } from './varint.ts'
import { decodeFrame } from './wire.ts'

/**
 * The two frames that carry shards, written straight into a send buffer and read straight out of a received one: `Shard` (a store stream's frames) and
 * `Reply { kind: SHARD, shard, index }` (sample and retrieve answers), in the protobuf encoding of
 * src/p2p/pb/dacnet.proto that the generated codec writes (fields in number order, zero values left out). A holder
 * answers thousands of shards a second: encoding each through the generated codec allocated a buffer and its
 * writer's state per frame, and the batch then copied them all once more; here a shard's bytes are copied once,
 * from the store's value into the batch. Reading is the mirror: a shard frame as dacnet writes it is taken apart by
 * hand (views into the frame, no reader object, no default buffers per field); any other shape — fields in another
 * order or repeated are fine, an unknown or malformed field is not — goes to the generated codec, which decides.
 */

/** Protobuf tags (field number << 3 | wire type). */
const SHARD_INDEX_TAG = 0x08 // Shard.index, varint
const SHARD_DATA_TAG = 0x12 // Shard.data, bytes
const SHARD_PROOF_TAG = 0x1a // Shard.proof, bytes
const REPLY_SHARD_TAG = 0x12 // Reply.shard, message
const REPLY_INDEX_TAG = 0x18 // Reply.index, varint

/** Bytes of the `Shard` message of `shard` (without a length prefix). */
export function shardMessageSize(shard: ShardWithProof): number {
  return (
    (shard.index === 0 ? 0 : 1 + varintSize(shard.index)) +
    bytesFieldSize(shard.data.byteLength) +
    bytesFieldSize(shard.proof.byteLength)
  )
}

/** Writes the `Shard` message of `shard` at `offset`; returns the offset after it. */
export function writeShardMessage(buf: Uint8Array, offset: number, shard: ShardWithProof): number {
  let at = offset
  if (shard.index !== 0) {
    buf[at++] = SHARD_INDEX_TAG
    at = writeVarint(buf, at, shard.index)
  }
  at = writeBytesField(buf, at, SHARD_DATA_TAG, shard.data)
  return writeBytesField(buf, at, SHARD_PROOF_TAG, shard.proof)
}

/** Bytes of `Reply { kind: SHARD, shard, index }` (`index` 0 is left out, as retrieve sends it). */
export function shardReplySize(shard: ShardWithProof, index: number): number {
  const inner = shardMessageSize(shard)
  return 1 + varintSize(inner) + inner + (index === 0 ? 0 : 1 + varintSize(index))
}

/** Writes `Reply { kind: SHARD, shard, index }` at `offset`; returns the offset after it. */
export function writeShardReply(buf: Uint8Array, offset: number, shard: ShardWithProof, index: number): number {
  let at = offset
  buf[at++] = REPLY_SHARD_TAG
  at = writeVarint(buf, at, shardMessageSize(shard))
  at = writeShardMessage(buf, at, shard)
  if (index !== 0) {
    buf[at++] = REPLY_INDEX_TAG
    at = writeVarint(buf, at, index)
  }
  return at
}

function bytesFieldSize(length: number): number {
  return length === 0 ? 0 : 1 + varintSize(length) + length
}

function writeBytesField(buf: Uint8Array, offset: number, tag: number, bytes: Uint8Array): number {
  if (bytes.byteLength === 0) return offset
  buf[offset] = tag
  const at = writeVarint(buf, offset + 1, bytes.byteLength)
  buf.set(bytes, at)
  return at + bytes.byteLength
}

/** Queues `shard` as a `Shard` frame (a store stream's). */
export function addShardFrame(batch: FrameBatch, shard: ShardWithProof): Promise<void> {
  return batch.addWritten(shardMessageSize(shard), (buf, offset) => writeShardMessage(buf, offset, shard))
}

/** Queues `shard` as a `Reply { kind: SHARD }` frame; `index` 0 leaves the reply's own index out (retrieve). */
export function addShardReply(batch: FrameBatch, shard: ShardWithProof, index: number): Promise<void> {
  return batch.addWritten(shardReplySize(shard, index), (buf, offset) => writeShardReply(buf, offset, shard, index))
}

const EMPTY: Uint8Array = new Uint8Array(0)

/** The `Shard` of a store stream's frame. A frame the generated codec refuses is P2P_MALFORMED_MESSAGE. */
export function decodeShardFrame(frame: Uint8Array): ShardWithProof {
  return readShardMessage(frame, 0, frame.length) ?? decodeFrame(Shard, frame, 'shard')
}

/** A sample or retrieve reply frame, as the generated `Reply` codec decodes it. */
export function decodeReplyFrame(frame: Uint8Array): Reply {
  return readShardReply(frame) ?? decodeFrame(ReplyCodec, frame, 'reply')
}

/**
 * `Reply { kind: SHARD, shard, index }` when the frame holds only those fields (`shard`, `index`; `kind` SHARD is
 * the default and left out), else undefined.
 */
function readShardReply(frame: Uint8Array): Reply | undefined {
  let shard: ShardWithProof | undefined
  let index = 0
  let at = 0
  while (at < frame.length) {
    const tag = frame[at++]
    if (tag === REPLY_SHARD_TAG) {
      const length = readUint32(frame, at)
      if (length < 0) return undefined
      at = varintEnd
      if (length > frame.length - at) return undefined
      shard = readShardMessage(frame, at, at + length)
      if (shard === undefined) return undefined
      at += length
    } else if (tag === REPLY_INDEX_TAG) {
      const value = readUint32(frame, at)
      if (value < 0) return undefined
      index = value
      at = varintEnd
    } else return undefined
  }
  if (shard === undefined) return undefined
  return { kind: ReplyKind.SHARD, shard, index, header: EMPTY, count: 0, errorCode: '', errorMessage: '' }
}

/** The `Shard` message in frame[from, to) when it holds only its three fields, well formed; else undefined. */
function readShardMessage(frame: Uint8Array, from: number, to: number): ShardWithProof | undefined {
  let index = 0
  let data = EMPTY
  let proof = EMPTY
  let at = from
  while (at < to) {
    const tag = frame[at++]
    const value = readUint32(frame, at, to)
    if (value < 0) return undefined
    at = varintEnd
    if (tag === SHARD_INDEX_TAG) {
      index = value
      continue
    }
    if (tag !== SHARD_DATA_TAG && tag !== SHARD_PROOF_TAG) return undefined
    if (value > to - at) return undefined
    const bytes = frame.subarray(at, at + value)
    at += value
    if (tag === SHARD_DATA_TAG) data = bytes
    else proof = bytes
  }
  return { index, data, proof }
}

/** Where the varint read last by readUint32 ended: kept here so that a read allocates no result object. */
let varintEnd = 0

/**
 * A varint of at most five bytes holding a value below 2^32, ending before `to`, its end left in `varintEnd`; -1
 * if there is none.
 */
function readUint32(frame: Uint8Array, from: number, to = frame.length): number {
  let value = 0
  for (let i = 0; i < 5 && from + i < to; i++) {
    const byte = frame[from + i]!
    value += (byte & 0x7f) * 2 ** (7 * i)
    if (byte < 0x80) {
      varintEnd = from + i + 1
      return value <= 0xffffffff ? value : -1
    }
  }
  return -1
}
