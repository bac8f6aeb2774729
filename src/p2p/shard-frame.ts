import type { ShardWithProof } from '../erasure/shard.ts'
import type { FrameBatch } from './framing.ts'
import { varintSize, writeVarint } from './varint.ts'

/**
 * The two frames that carry shards, written straight into a send buffer: `Shard` (a store stream's frames) and
 * `Reply { kind: SHARD, shard, index }` (sample and retrieve answers), in the protobuf encoding of
 * src/p2p/pb/dacnet.proto that the generated codec writes (fields in number order, zero values left out). A holder
 * answers thousands of shards a second: encoding each through the generated codec allocated a buffer and its
 * writer's state per frame, and the batch then copied them all once more; here a shard's bytes are copied once,
 * from the store's value into the batch.
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
