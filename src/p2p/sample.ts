import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { reader } from 'protons-runtime'
import * as varint from 'uint8-varint'
import { concat } from 'uint8arrays/concat'
import { type BlobId, parseBlobId } from '../erasure/blob-id.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { DacnetError } from '../errors.ts'
import { asError, ofService, P2pErrorCode, p2pError, toWireError } from './errors.ts'
import { DEFAULT_SEND_BATCH_BYTES, FrameBatch, FrameReader, settleFinished, writeFrame } from './framing.ts'
import {
  DEFAULT_REQUEST_FRAME_TIMEOUT_MS,
  DEFAULT_SAMPLE_TIMEOUT_MS,
  deadlineIn,
  FRAME_OVERHEAD_BYTES,
  MAX_QUERY_REQUEST_BYTES,
  MAX_SAMPLE_INDICES,
  replyFrameLimit,
} from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import { ReplyKind, SampleRequest } from './pb/dacnet.js'
import { SAMPLE_PROTOCOL } from './protocols.ts'
import { remoteError } from './remote-error.ts'
import { endFailedExchange, replyFrame } from './reply.ts'
import { addShardReply, decodeReplyFrame } from './shard-frame.ts'
import { decodeFrame, type ServedOutcome } from './wire.ts'

/**
 * /dacnet/sample/1.0.0 — anyone -> holder.
 *
 *   client: SampleRequest { blobId, indices (1..64, distinct) }, then closes its write side
 *   server: one Reply per requested index, in request order: SHARD { shard } or NOT_HELD { index };
 *           then END { count = SHARD frames sent }. Or a single ERROR { errorCode, errorMessage }, which may
 *           also come after some replies (e.g. NODE_BUSY).
 *
 * The server reads the requested shards in runs of about 60 KiB (one multi-get each when the service has
 * `withShards`) and hands each run to the stream as one batch while the run's read slot is held, then waits for
 * the stream to drain with the slot given back; so a request for 64 shards holds about one run in memory, however
 * slowly the client reads, and a holder's slots bound the work of serving, fairly between requesters.
 */

/** Indices read in a sample request's first run, before the shard size is known. */
export const FIRST_SAMPLE_RUN = 8
/** Frame bytes read and sent per run after the first: as many shards as fit one send batch as frames. */
export const SAMPLE_RUN_BYTES = DEFAULT_SEND_BATCH_BYTES

/** What a holder offers the sample protocol: where it reads the shards it serves. */
export interface SampleService {
  /**
   * One held shard with its proof, or undefined when it is not held here — including an index outside the
   * blob (at or above its n), which is the client's mistake, not the holder's. Throws to refuse the request
   * (the ERROR carries the code, e.g. NODE_BUSY). `requester` is the remote peer's id, which the handler always
   * passes, so that the holder can share its reads fairly between peers.
   */
  readShard(blobId: BlobId, index: number, requester?: string): Promise<ShardWithProof | undefined>
  /**
   * The held ones of `indices` (in the order asked; an index outside the blob is simply absent), passed to `use`
   * under the same read slot; resolves with what `use` returned. Absent: one `readShard` per index.
   */
  withShards?<T>(
    blobId: BlobId,
    indices: readonly number[],
    requester: string,
    use: (shards: ShardWithProof[]) => T,
  ): Promise<T>
}

export async function handleSampleStream(
  service: SampleService,
  stream: Stream,
  connection: Connection,
  opts: { timeoutMs?: number; requestFrameTimeoutMs?: number } = {},
): Promise<ServedOutcome> {
  const exchange = deadlineIn(opts.timeoutMs ?? DEFAULT_SAMPLE_TIMEOUT_MS)
  const { signal } = exchange
  const reader = new FrameReader(stream)
  const batch = sampleBatch(stream, service, signal)
  /** The request was read and answers are going out: a stream that ends now is a client that stopped reading. */
  let answering = false
  try {
    const { blobId, indices } = await readSampleRequest(reader, opts.requestFrameTimeoutMs, signal)
    reader.release()
    answering = true
    await answerSampleRequest(service, batch, blobId, indices, connection.remotePeer.toString(), signal)
    await stream.close({ signal })
    return 'ok'
  } catch (err) {
    reader.release()
    // The answers read before the failure still go out, then the ERROR in place of the rest.
    return endFailedExchange(stream, batch, err, 'sample', answering, signal)
  } finally {
    exchange.clear()
  }
}

/**
 * Answers one sample request into `batch`: a SHARD or NOT_HELD reply per index in request order, then END, all
 * handed to the stream when this resolves. With `withShards` the shards are read in runs of about 60 KiB, each
 * framed and handed over under its read slot, the next read waiting for the stream to take the last run.
 */
export async function answerSampleRequest(
  service: SampleService,
  batch: FrameBatch,
  blobId: BlobId,
  indices: number[],
  requester: string,
  signal: AbortSignal,
): Promise<void> {
  let sent = 0
  /** Queues the answer for `index` in the batch; the batch sends once it holds about 60 KiB. */
  const answer = (index: number, shard: ShardWithProof | undefined): Promise<void> => {
    if (shard) sent++
    return shard ? addShardReply(batch, shard, index) : batch.add(replyFrame({ kind: ReplyKind.NOT_HELD, index }))
  }
  if (service.withShards) {
    let run = FIRST_SAMPLE_RUN
    for (let from = 0; from < indices.length; ) {
      signal.throwIfAborted()
      const part = indices.slice(from, from + run)
      from += part.length
      let shardBytes = 0
      // Framed and handed to the stream under the run's read slot; the drain is awaited after it.
      const withShards = service.withShards.bind(service)
      const sending = await ofService(
        () =>
          withShards(blobId, part, requester, (shards) => {
            const held = new Map(shards.map((shard) => [shard.index, shard]))
            for (const shard of shards) {
              shardBytes = Math.max(shardBytes, shard.data.length + shard.proof.length + FRAME_OVERHEAD_BYTES)
            }
            return Promise.all([...part.map((index) => answer(index, held.get(index))), batch.flush()])
          }),
        'the sample request',
      )
      await sending
      if (shardBytes > 0) run = Math.max(1, Math.floor(SAMPLE_RUN_BYTES / shardBytes))
    }
  } else {
    for (const index of indices) {
      signal.throwIfAborted()
      await answer(index, await ofService(() => service.readShard(blobId, index, requester), 'the sample request'))
    }
  }
  await batch.add(replyFrame({ kind: ReplyKind.END, count: sent }))
  await batch.flush()
}

/** Reads and checks a sample request's frame, which must arrive within `frameTimeoutMs` (or `signal`). */
export async function readSampleRequest(
  reader: FrameReader,
  frameTimeoutMs: number | undefined,
  signal: AbortSignal,
): Promise<{ blobId: BlobId; indices: number[] }> {
  const first = deadlineIn(frameTimeoutMs ?? DEFAULT_REQUEST_FRAME_TIMEOUT_MS, signal)
  const frame = await reader
    .expect(MAX_QUERY_REQUEST_BYTES, 'the sample request', first.signal)
    .finally(() => first.clear())
  const request = decodeSampleRequest(frame)
  return { blobId: parseBlobId(request.blobId), indices: checkIndices(request.indices) }
}

/**
 * Where a holder batches its answers (~60 KiB). With `withShards` each batch is handed to the stream under a read
 * slot, and the next run waits until the stream has passed the last one on (highWater 0): a client that reads
 * slowly slows its own runs, and its replies are not left to be encrypted and written from the stream's buffer
 * outside a slot.
 */
export function sampleBatch(stream: Stream, service: SampleService, signal: AbortSignal): FrameBatch {
  return new FrameBatch(stream, { signal, ...(service.withShards ? { highWater: 0 } : {}) })
}

/** The indices of a sample request, checked: 1..64 (the decoder's bound), distinct. */
function checkIndices(indices: number[]): number[] {
  if (indices.length === 0) throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, 'a sample request needs at least one index')
  if (new Set(indices).size !== indices.length) {
    throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, 'sample indices must be distinct')
  }
  return indices
}

/** SampleRequest's `repeated uint32 indices = 2`. */
const INDICES_FIELD = 2
const WIRE_VARINT = 0
const WIRE_LENGTH_DELIMITED = 2
/** The tag of one unpacked index: field 2, wire type varint. */
const UNPACKED_INDEX_TAG = varint.encode((INDICES_FIELD << 3) | WIRE_VARINT)

/**
 * Decodes a SampleRequest frame. `indices` may come unpacked (a tag per index, as dacnet's own encoder and the
 * `[packed = false]` in dacnet.proto make it) or packed (one length-delimited run of varints, a proto3
 * encoder's default), or both, in any order: proto3 parsers must accept either. The protons-generated decoder
 * ignores a repeated field's wire type and would read a packed run's length as an index, so packed runs are
 * unpacked here first. A known field with a wire type it cannot have is P2P_MALFORMED_MESSAGE, as is anything
 * the generated decoder refuses (more than 64 indices included).
 */
export function decodeSampleRequest(frame: Uint8Array): SampleRequest {
  return decodeFrame(SampleRequest, unpackIndices(frame), 'sample request', { indices: MAX_SAMPLE_INDICES })
}

/** The frame with every packed `indices` run rewritten as unpacked entries in place; the frame itself if none. */
function unpackIndices(frame: Uint8Array): Uint8Array {
  const malformed = (why: string) => p2pError(P2pErrorCode.MALFORMED_MESSAGE, `malformed sample request: ${why}`)
  const r = reader(frame)
  let parts: Uint8Array[] | null = null
  let copied = 0
  try {
    while (r.pos < r.len) {
      const start = r.pos
      const tag = r.uint32()
      const field = tag >>> 3
      const wireType = tag & 7
      if (field === 1 && wireType !== WIRE_LENGTH_DELIMITED) throw malformed(`blob_id with wire type ${wireType}`)
      if (field !== INDICES_FIELD) {
        r.skipType(wireType)
        continue
      }
      if (wireType === WIRE_VARINT) {
        r.uint32()
        continue
      }
      if (wireType !== WIRE_LENGTH_DELIMITED) throw malformed(`indices with wire type ${wireType}`)
      const end = r.uint32() + r.pos
      if (end > r.len) throw malformed('a packed indices field runs past the end of the request')
      parts ??= []
      parts.push(frame.subarray(copied, start))
      while (r.pos < end) parts.push(UNPACKED_INDEX_TAG, varint.encode(r.uint32()))
      if (r.pos !== end) throw malformed('an index runs past the end of its packed field')
      copied = end
    }
  } catch (err) {
    if (err instanceof DacnetError) throw err
    throw malformed((err as Error).message)
  }
  if (parts === null) return frame
  parts.push(frame.subarray(copied))
  return concat(parts)
}

/** A client's own check of what it asks for: 1..MAX_SAMPLE_INDICES distinct indices (P2P_MALFORMED_MESSAGE). */
export function checkAskedIndices(indices: number[]): void {
  if (indices.length === 0 || indices.length > MAX_SAMPLE_INDICES || new Set(indices).size !== indices.length) {
    throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `ask for 1..${MAX_SAMPLE_INDICES} distinct indices`)
  }
}

/** One sample request's deadline (`timeoutMs`, default DEFAULT_SAMPLE_TIMEOUT_MS), within the caller's signal. */
export function sampleSignal(opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }): AbortSignal {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_SAMPLE_TIMEOUT_MS)
  return opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
}

/** The answer for one index: the shard as sent (proof not yet checked), or null when the holder lacks it. */
export type SampleAnswer = ShardWithProof | null

/**
 * Asks a holder for shards of a blob. Returns an answer for every requested index; proofs are the caller's
 * to check. `shardSize` (from the header) bounds every frame. `onShard` hears of every SHARD frame as it arrives,
 * before any check and even if the request fails later (what a caller counts as downloaded).
 */
export async function requestSamples(
  libp2p: DacnetLibp2p,
  peer: PeerId | Multiaddr | Multiaddr[],
  blobId: BlobId,
  indices: number[],
  opts: { shardSize: number; signal?: AbortSignal; timeoutMs?: number; onShard?: (shard: ShardWithProof) => void },
): Promise<Map<number, SampleAnswer>> {
  checkAskedIndices(indices)
  const signal = sampleSignal(opts)
  let stream: Stream
  try {
    stream = await libp2p.dialProtocol(peer, SAMPLE_PROTOCOL, { signal })
  } catch (err) {
    throw toWireError(err, `dialling ${String(peer)}`)
  }
  const reader = new FrameReader(stream)
  try {
    await writeFrame(stream, SampleRequest.encode({ blobId: blobId.bytes, indices }), { signal })
    await stream.close({ signal })
    const answers = await readSampleReplies(reader, indices, { ...opts, signal, peer: String(peer) })
    settleFinished(stream, reader)
    return answers
  } catch (err) {
    reader.release()
    const failure = err instanceof DacnetError ? err : toWireError(err, 'sample')
    stream.abort(asError(failure))
    throw failure
  }
}

/**
 * Reads a holder's replies to one sample request, up to its END: an answer for every index in `indices`. An ERROR
 * reply throws its code (as a remote error naming `peer`); a reply for an index not asked, or asked twice, an END
 * before every index is answered, or one whose count is not the SHARD replies that came, throws
 * P2P_MALFORMED_MESSAGE. `onReply` hears of each frame as it is read.
 */
export async function readSampleReplies(
  reader: FrameReader,
  indices: number[],
  opts: {
    shardSize: number
    signal: AbortSignal
    peer: string
    onShard?: ((shard: ShardWithProof) => void) | undefined
    onReply?: (() => void) | undefined
  },
): Promise<Map<number, SampleAnswer>> {
  const answers = new Map<number, SampleAnswer>()
  let shards = 0
  const limit = replyFrameLimit(opts.shardSize)
  while (true) {
    const frame = await reader.expect(limit, 'the end of the sample reply', opts.signal)
    opts.onReply?.()
    const reply = decodeReplyFrame(frame)
    if (reply.kind === ReplyKind.ERROR) throw remoteError(reply.errorCode, reply.errorMessage, opts.peer)
    if (reply.kind === ReplyKind.END) {
      if (reply.count !== shards) {
        throw p2pError(
          P2pErrorCode.MALFORMED_MESSAGE,
          `the END counts ${reply.count} SHARD replies where ${shards} came`,
        )
      }
      break
    }
    if (reply.kind === ReplyKind.SHARD && reply.shard !== undefined) opts.onShard?.(reply.shard as ShardWithProof)
    const index =
      reply.kind === ReplyKind.SHARD ? reply.shard?.index : reply.kind === ReplyKind.NOT_HELD ? reply.index : undefined
    if (index === undefined || !indices.includes(index) || answers.has(index)) {
      throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `unexpected ${reply.kind} reply for index ${index}`)
    }
    answers.set(index, reply.kind === ReplyKind.SHARD ? (reply.shard as ShardWithProof) : null)
    if (reply.kind === ReplyKind.SHARD) shards++
  }
  if (answers.size !== indices.length) {
    throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `holder answered ${answers.size} of ${indices.length} indices`)
  }
  return answers
}
