import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { type BlobId, parseBlobId } from '../erasure/blob-id.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { DacnetError } from '../errors.ts'
import { asError, P2pErrorCode, p2pError, toWireError } from './errors.ts'
import { FrameReader, writeFrame } from './framing.ts'
import { DEFAULT_SAMPLE_TIMEOUT_MS, MAX_QUERY_REQUEST_BYTES, MAX_SAMPLE_INDICES, replyFrameLimit } from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import { Reply, ReplyKind, SampleRequest } from './pb/dacnet.js'
import { SAMPLE_PROTOCOL } from './protocols.ts'
import { remoteError } from './remote-error.ts'
import { replyError, replyFrame } from './reply.ts'
import { decodeFrame, type ServedOutcome } from './wire.ts'

/**
 * /dacnet/sample/1.0.0 — anyone -> holder.
 *
 *   client: SampleRequest { blobId, indices (1..64, distinct) }, then closes its write side
 *   server: one Reply per requested index, in request order: SHARD { shard } or NOT_HELD { index };
 *           then END { count = SHARD frames sent }. Or a single ERROR { errorCode, errorMessage }.
 */

export interface SampleService {
  /** The held shards among `indices`, with proofs; indices not held are simply absent. */
  sample(blobId: BlobId, indices: number[]): Promise<Map<number, ShardWithProof>>
}

export async function handleSampleStream(
  service: SampleService,
  stream: Stream,
  _connection: Connection,
  opts: { timeoutMs?: number } = {},
): Promise<ServedOutcome> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_SAMPLE_TIMEOUT_MS)
  const reader = new FrameReader(stream)
  try {
    const frame = await reader.expect(MAX_QUERY_REQUEST_BYTES, 'the sample request', signal)
    reader.release()
    const request = decodeFrame(SampleRequest, frame, 'sample request', { indices: MAX_SAMPLE_INDICES })
    const blobId = parseBlobId(request.blobId)
    const indices = checkIndices(request.indices)
    const held = await service.sample(blobId, indices)
    let sent = 0
    for (const index of indices) {
      const shard = held.get(index)
      if (shard) {
        await writeFrame(stream, replyFrame({ kind: ReplyKind.SHARD, shard, index }), { signal })
        sent++
      } else {
        await writeFrame(stream, replyFrame({ kind: ReplyKind.NOT_HELD, index }), { signal })
      }
    }
    await writeFrame(stream, replyFrame({ kind: ReplyKind.END, count: sent }), { signal })
    await stream.close({ signal })
    return 'ok'
  } catch (err) {
    reader.release()
    const failure = toWireError(err, 'sample')
    if (failure.code === P2pErrorCode.STREAM_ENDED || failure.code === P2pErrorCode.TIMEOUT)
      stream.abort(asError(failure))
    else await replyError(stream, failure, signal)
    return failure.code
  }
}

function checkIndices(indices: number[]): number[] {
  if (indices.length === 0) throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, 'a sample request needs at least one index')
  if (new Set(indices).size !== indices.length) {
    throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, 'sample indices must be distinct')
  }
  return indices
}

/** The answer for one index: the shard as sent (proof not yet checked), or null when the holder lacks it. */
export type SampleAnswer = ShardWithProof | null

/**
 * Asks a holder for shards of a blob. Returns an answer for every requested index; proofs are the caller's
 * to check. `shardSize` (from the header) bounds every frame.
 */
export async function requestSamples(
  libp2p: DacnetLibp2p,
  peer: PeerId | Multiaddr | Multiaddr[],
  blobId: BlobId,
  indices: number[],
  opts: { shardSize: number; signal?: AbortSignal; timeoutMs?: number },
): Promise<Map<number, SampleAnswer>> {
  if (indices.length === 0 || indices.length > MAX_SAMPLE_INDICES || new Set(indices).size !== indices.length) {
    throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `ask for 1..${MAX_SAMPLE_INDICES} distinct indices`)
  }
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_SAMPLE_TIMEOUT_MS)
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
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
    const answers = new Map<number, SampleAnswer>()
    const limit = replyFrameLimit(opts.shardSize)
    while (true) {
      const reply = decodeFrame(Reply, await reader.expect(limit, 'the end of the sample reply', signal), 'reply')
      if (reply.kind === ReplyKind.ERROR) throw remoteError(reply.errorCode, reply.errorMessage, String(peer))
      if (reply.kind === ReplyKind.END) break
      const index =
        reply.kind === ReplyKind.SHARD
          ? reply.shard?.index
          : reply.kind === ReplyKind.NOT_HELD
            ? reply.index
            : undefined
      if (index === undefined || !indices.includes(index) || answers.has(index)) {
        throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `unexpected ${reply.kind} reply for index ${index}`)
      }
      answers.set(index, reply.kind === ReplyKind.SHARD ? (reply.shard as ShardWithProof) : null)
    }
    if (answers.size !== indices.length) {
      throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `holder answered ${answers.size} of ${indices.length} indices`)
    }
    return answers
  } catch (err) {
    const failure = err instanceof DacnetError ? err : toWireError(err, 'sample')
    stream.abort(asError(failure))
    throw failure
  } finally {
    reader.release()
  }
}
