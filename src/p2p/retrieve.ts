import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { type BlobId, blobIdOf, parseBlobId } from '../erasure/blob-id.ts'
import { type BlobHeader, decodeHeader, HEADER_SIZE } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { DacnetError } from '../errors.ts'
import { asError, ofService, P2pErrorCode, p2pError, toWireError } from './errors.ts'
import { DEFAULT_SEND_BATCH_BYTES, FrameBatch, FrameReader, settleFinished, writeFrame } from './framing.ts'
import {
  DEFAULT_REQUEST_FRAME_TIMEOUT_MS,
  DEFAULT_RETRIEVE_HEADER_TIMEOUT_MS,
  DEFAULT_RETRIEVE_TIMEOUT_MS,
  deadlineIn,
  FRAME_OVERHEAD_BYTES,
  MAX_ERROR_REPLY_BYTES,
  MAX_QUERY_REQUEST_BYTES,
  replyFrameLimit,
  shardFrameLimit,
} from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import { Reply, ReplyKind, RetrieveRequest } from './pb/dacnet.js'
import { RETRIEVE_PROTOCOL } from './protocols.ts'
import { remoteError } from './remote-error.ts'
import { endFailedExchange, replyFrame } from './reply.ts'
import { addShardReply, decodeReplyFrame } from './shard-frame.ts'
import { decodeFrame, type ServedOutcome } from './wire.ts'

/**
 * /dacnet/retrieve/1.0.0 — anyone -> holder.
 *
 *   client: RetrieveRequest { blobId }, then closes its write side
 *   server: HEADER { header, count }, then `count` SHARD frames in increasing index order, then
 *           END { count }. Or a single ERROR (P2P_BLOB_NOT_HELD when it holds nothing of that blob).
 *
 * The server reads its shards a run at a time (about RETRIEVE_READ_BYTES of frames, one multi-get when the service
 * has `withShards` or `readShards`) and sends the shard frames in batches of about 60 KiB (FrameBatch: a holder of a
 * large blob sends a thousand or more small shards). With `withShards` a run is framed and handed to the stream
 * under its read slot, and the drain is awaited after the slot is given back. Serving a blob needs memory for about
 * one run and one batch whatever the blob's size.
 */

/**
 * Frame bytes a retrieve server reads at once: as many shards as fit one send batch as frames (a member's run of
 * small shards is many multi-gets), so that each run goes out in one write, and retrieval and sampling take turns
 * of the same size at the holder's read slots.
 */
export const RETRIEVE_READ_BYTES = DEFAULT_SEND_BATCH_BYTES

export interface RetrieveService {
  /** The header bytes and the indices held for a blob, or null when nothing is held. */
  holdings(blobId: BlobId, requester?: string): Promise<{ headerBytes: Uint8Array; indices: number[] } | null>
  /** One held shard with its proof (undefined if it vanished, e.g. pruned meanwhile). */
  readShard(blobId: BlobId, index: number, requester?: string): Promise<ShardWithProof | undefined>
  /** The held ones of these shards, in index order, read together; absent: one `readShard` per index. */
  readShards?(blobId: BlobId, indices: readonly number[], requester?: string): Promise<ShardWithProof[]>
  /** As `readShards`, passing them to `use` under the same read slot; preferred to `readShards` when present. */
  withShards?<T>(
    blobId: BlobId,
    indices: readonly number[],
    requester: string,
    use: (shards: ShardWithProof[]) => T,
  ): Promise<T>
}

export async function handleRetrieveStream(
  service: RetrieveService,
  stream: Stream,
  connection: Connection,
  opts: { timeoutMs?: number; requestFrameTimeoutMs?: number } = {},
): Promise<ServedOutcome> {
  const exchange = deadlineIn(opts.timeoutMs ?? DEFAULT_RETRIEVE_TIMEOUT_MS)
  const { signal } = exchange
  const reader = new FrameReader(stream)
  // The answers go out in ~60 KiB batches. With `withShards` each is handed to the stream under a read slot, and
  // the next run waits until the stream has passed the last one on (highWater 0): a client that reads slowly slows
  // its own runs, and its replies are not left to be encrypted and written from the stream's buffer outside a slot.
  const batch = new FrameBatch(stream, { signal, ...(service.withShards ? { highWater: 0 } : {}) })
  /** The request was read and answers are going out: a stream that ends now is a client that stopped reading. */
  let answering = false
  try {
    const first = deadlineIn(opts.requestFrameTimeoutMs ?? DEFAULT_REQUEST_FRAME_TIMEOUT_MS, signal)
    const frame = await reader
      .expect(MAX_QUERY_REQUEST_BYTES, 'the retrieve request', first.signal)
      .finally(() => first.clear())
    reader.release()
    const request = decodeFrame(RetrieveRequest, frame, 'retrieve request')
    const blobId = parseBlobId(request.blobId)
    const range = requestedRange(request)
    const requester = connection.remotePeer.toString()
    const holdings = await ofService(() => service.holdings(blobId, requester), 'the retrieve request')
    if (holdings === null) throw p2pError(P2pErrorCode.BLOB_NOT_HELD, `no shard of ${blobId} is held here`)
    const indices = [...new Set(holdings.indices)].filter((i) => inRange(range, i)).sort((a, b) => a - b)
    answering = true
    await writeFrame(
      stream,
      replyFrame({ kind: ReplyKind.HEADER, header: holdings.headerBytes, count: indices.length }),
      {
        signal,
      },
    )
    let sent = 0
    /** Queues a shard in the batch; the batch sends once it holds about 60 KiB. */
    const send = (shard: ShardWithProof): Promise<void> => {
      sent++
      return addShardReply(batch, shard, 0)
    }
    const run = Math.max(1, Math.floor(RETRIEVE_READ_BYTES / shardFrameLimit(shardSizeOf(holdings.headerBytes))))
    const what = 'the retrieve request'
    if (service.withShards) {
      const withShards = service.withShards.bind(service)
      for (let from = 0; from < indices.length; from += run) {
        // Framed and handed to the stream under the run's read slot; the drain is awaited after it.
        const part = indices.slice(from, from + run)
        const sending = await ofService(
          () => withShards(blobId, part, requester, (shards) => Promise.all([...shards.map(send), batch.flush()])),
          what,
        )
        await sending
      }
    } else if (service.readShards) {
      const readShards = service.readShards.bind(service)
      for (let from = 0; from < indices.length; from += run) {
        const part = indices.slice(from, from + run)
        for (const shard of await ofService(() => readShards(blobId, part, requester), what)) await send(shard)
      }
    } else {
      for (const index of indices) {
        const shard = await ofService(() => service.readShard(blobId, index, requester), what)
        if (shard) await send(shard)
      }
    }
    await batch.add(replyFrame({ kind: ReplyKind.END, count: sent }))
    await batch.flush()
    await stream.close({ signal })
    return 'ok'
  } catch (err) {
    reader.release()
    // The shards read before the failure still go out, then the ERROR in place of the rest.
    return endFailedExchange(stream, batch, err, 'retrieve', answering, signal)
  } finally {
    exchange.clear()
  }
}

/** Which shards a retrieve asks for: `from <= index < to`, `to` undefined for no upper bound. */
export interface ShardRange {
  from: number
  to?: number | undefined
}

/** The range of a RetrieveRequest; one with `to_index` set and not above `from_index` is malformed. */
function requestedRange(request: RetrieveRequest): ShardRange {
  const { fromIndex, toIndex } = request
  if (toIndex !== 0 && toIndex <= fromIndex) {
    throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `the requested range ${fromIndex}..${toIndex} is empty`)
  }
  return { from: fromIndex, to: toIndex === 0 ? undefined : toIndex }
}

/** A range a request can carry: indices are uint32, and `to`, when set, is above `from`. */
function checkRange(range: ShardRange): void {
  const index = (v: number) => Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff
  if (!index(range.from) || (range.to !== undefined && (!index(range.to) || range.to <= range.from))) {
    throw p2pError(
      P2pErrorCode.MALFORMED_MESSAGE,
      `retrieve range ${range.from}..${range.to} is not a range of indices`,
    )
  }
}

function inRange(range: ShardRange | undefined, index: number): boolean {
  return range === undefined || (index >= range.from && (range.to === undefined || index < range.to))
}

/** The shard size the holder's own header states; a header it cannot decode makes it read one shard at a time. */
function shardSizeOf(headerBytes: Uint8Array): number {
  try {
    return Math.max(1, decodeHeader(headerBytes).shardSize)
  } catch {
    return RETRIEVE_READ_BYTES
  }
}

/** HEADER frame: the header plus protobuf tags and the count. */
const MAX_HEADER_REPLY_BYTES = HEADER_SIZE + FRAME_OVERHEAD_BYTES

/** The first frame of a retrieve reply: a HEADER, or an ERROR carrying a message of up to 512 characters. */
export const MAX_FIRST_RETRIEVE_REPLY_BYTES = Math.max(MAX_HEADER_REPLY_BYTES, MAX_ERROR_REPLY_BYTES)

export interface RetrieveSession {
  header: BlobHeader
  headerBytes: Uint8Array
  /** Shards the holder announced. */
  count: number
  /** The shards as they arrive (proofs not yet checked). Breaking out of the loop aborts the stream. */
  shards: AsyncGenerator<ShardWithProof>
}

export interface OpenRetrieveOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** Deadline for the HEADER (or ERROR) frame. Default DEFAULT_RETRIEVE_HEADER_TIMEOUT_MS. */
  headerTimeoutMs?: number
  /**
   * Judges the holder's header before any SHARD frame is read (e.g. against the committee of its epoch and a
   * maximum blob size). A throw aborts the stream and is rethrown by openRetrieve. The hash check only ties the
   * header to the blob id: when the caller knows no certificate, the header is whatever the blob id's author
   * chose, and its shard size bounds every later frame.
   */
  checkHeader?: (header: BlobHeader) => void | Promise<void>
  /** Only the held shards in this range (PROTOCOL.md §3.5); default every held shard. */
  range?: ShardRange
}

/**
 * Opens a retrieve stream to a holder. The header it sends must hash to `blobId` and pass `checkHeader`, and it
 * may announce at most n shards; every later frame is bounded by the header's shard size, and the SHARD frames
 * must carry distinct indices below n in increasing order, as many as END counts (P2P_MALFORMED_MESSAGE).
 */
export async function openRetrieve(
  libp2p: DacnetLibp2p,
  peer: PeerId | Multiaddr | Multiaddr[],
  blobId: BlobId,
  opts: OpenRetrieveOptions = {},
): Promise<RetrieveSession> {
  if (opts.range !== undefined) checkRange(opts.range)
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_RETRIEVE_TIMEOUT_MS)
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
  let stream: Stream
  try {
    stream = await libp2p.dialProtocol(peer, RETRIEVE_PROTOCOL, { signal })
  } catch (err) {
    throw toWireError(err, `dialling ${String(peer)}`)
  }
  const reader = new FrameReader(stream)
  const fail = (err: unknown): DacnetError => {
    const failure = err instanceof DacnetError ? err : toWireError(err, 'retrieve')
    reader.release()
    stream.abort(asError(failure))
    return failure
  }
  let header: BlobHeader
  let first: Reply
  try {
    const range = opts.range
    const request = { blobId: blobId.bytes, fromIndex: range?.from ?? 0, toIndex: range?.to ?? 0 }
    await writeFrame(stream, RetrieveRequest.encode(request), { signal })
    await stream.close({ signal })
    const headerSignal = AbortSignal.any([
      signal,
      AbortSignal.timeout(opts.headerTimeoutMs ?? DEFAULT_RETRIEVE_HEADER_TIMEOUT_MS),
    ])
    first = decodeFrame(
      Reply,
      await reader.expect(MAX_FIRST_RETRIEVE_REPLY_BYTES, 'the retrieve header', headerSignal),
      'reply',
    )
    if (first.kind === ReplyKind.ERROR) throw remoteError(first.errorCode, first.errorMessage, String(peer))
    if (first.kind !== ReplyKind.HEADER)
      throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `expected HEADER, got ${first.kind}`)
    if (!blobIdOf(first.header).equals(blobId)) {
      throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, 'the holder sent a header that is not this blob id')
    }
    header = decodeHeader(first.header)
    if (first.count > header.n) {
      throw p2pError(
        P2pErrorCode.MALFORMED_MESSAGE,
        `the holder announced ${first.count} shards of a blob of ${header.n}`,
      )
    }
    await opts.checkHeader?.(header)
  } catch (err) {
    throw fail(err)
  }
  // Later frames are SHARDs of the header's size, END, or an ERROR, which may be the larger for small shards.
  const limit = replyFrameLimit(header.shardSize)
  const count = first.count
  async function* shards(): AsyncGenerator<ShardWithProof> {
    let received = 0
    let last = -1
    let finished = false
    try {
      while (true) {
        const frame =
          reader.nextBuffered(limit, signal) ?? (await reader.expect(limit, 'the end of the retrieve reply', signal))
        const reply = decodeReplyFrame(frame)
        if (reply.kind === ReplyKind.END) {
          if (reply.count !== received) {
            throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `END counts ${reply.count} shards, ${received} came`)
          }
          break
        }
        if (reply.kind === ReplyKind.ERROR) throw remoteError(reply.errorCode, reply.errorMessage, String(peer))
        if (reply.kind !== ReplyKind.SHARD || !reply.shard || ++received > count) {
          throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `unexpected ${reply.kind} frame in a retrieve reply`)
        }
        // Increasing order makes every index arrive at most once; a holder never has one outside 0..n-1.
        const { index } = reply.shard
        if (index <= last || index >= header.n) {
          throw p2pError(
            P2pErrorCode.MALFORMED_MESSAGE,
            `shard ${index} ${index >= header.n ? `is outside 0..${header.n - 1}` : `follows shard ${last}`}`,
          )
        }
        if (!inRange(opts.range, index)) {
          throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `shard ${index} is outside the range asked for`)
        }
        last = index
        yield reply.shard
      }
      finished = true
    } catch (err) {
      throw fail(err)
    } finally {
      if (!finished) {
        reader.release()
        stream.abort(new Error('retrieve stopped by the client'))
      } else settleFinished(stream, reader)
    }
  }
  return { header, headerBytes: first.header, count, shards: shards() }
}
