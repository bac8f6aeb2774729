import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { blobIdOf } from '../erasure/blob-id.ts'
import { type BlobHeader, decodeHeader } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { DacnetError } from '../errors.ts'
import { asError, ofService, P2pErrorCode, p2pError, toServiceError, toWireError } from './errors.ts'
import { FrameBatch, FrameReader, writeFrame } from './framing.ts'
import {
  DEFAULT_STORE_TIMEOUT_MS,
  MAX_STORE_REQUEST_BYTES,
  MAX_STORE_RESPONSE_BYTES,
  requestFrameSignal,
  shardFrameLimit,
} from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import { StoreRequest, StoreResponse } from './pb/dacnet.js'
import { STORE_PROTOCOL } from './protocols.ts'
import { remoteError } from './remote-error.ts'
import { addShardFrame, decodeShardFrame } from './shard-frame.ts'
import { decodeFrame, type ServedExchange, type ServedOutcome, sanitizeCode, truncateMessage } from './wire.ts'

/**
 * /dacnet/store/1.0.0 — sequencer -> member.
 *
 *   client: StoreRequest { header, shardCount }, then shardCount Shard frames, then closes its write side
 *   server: one StoreResponse { signature } or { errorCode, errorMessage }, then closes
 */

/** What a committee node decides; the handler owns only the wire. */
export interface StoreService {
  /**
   * Checked when the stream opens, before a byte is read: may this peer store here at all (is it a registered
   * sequencer of an epoch this node takes stores for)? Throws a DacnetError to refuse. Absent: every peer may
   * go on to `admit`, which checks the sender against the header's epoch.
   */
  acceptsFrom?(remotePeer: PeerId): void | Promise<void>
  /**
   * Checks a request before any shard is read: the sender may store, the header is one this node accepts,
   * and the count is its assignment. Throws a DacnetError to refuse; else returns where the shards go as they
   * are read.
   */
  admit(
    remotePeer: PeerId,
    header: BlobHeader,
    headerBytes: Uint8Array,
    shardCount: number,
  ): StoreIntake | Promise<StoreIntake>
}

/** Where an admitted store's shards go as they are read (a member stores them as they arrive). */
export interface StoreIntake {
  /**
   * Takes a run of shards read, in the order sent; throws a DacnetError to refuse the store. It keeps nothing of
   * the shards' buffers past its return.
   */
  add(shards: ShardWithProof[]): void
  /** Every announced shard was read, and nothing more: stores them durably and signs; returns the signature. */
  finish(): Promise<Uint8Array>
  /**
   * The exchange ends without a signature (`add` or `finish` refused, the stream broke, the deadline passed): drops
   * what was taken. Every caller of `add` and `finish` calls it then; calling it again, or after `finish`, is harmless.
   */
  abort(): void
}

/**
 * Shards handed to the intake in runs of at most this many: whatever is already buffered when the reader runs dry,
 * so the member checks and copies a run while the next frames travel.
 */
const MAX_INTAKE_RUN = 256

export interface StoreServerOptions {
  /** Deadline for a whole exchange. Default DEFAULT_STORE_TIMEOUT_MS. */
  timeoutMs?: number
  /** Deadline for the request frame. Default DEFAULT_REQUEST_FRAME_TIMEOUT_MS. */
  requestFrameTimeoutMs?: number
  /** Given the blob id once the request's header decodes, for the line a refusal is logged with. */
  exchange?: ServedExchange
}

export async function handleStoreStream(
  service: StoreService,
  stream: Stream,
  connection: Connection,
  opts: StoreServerOptions = {},
): Promise<ServedOutcome> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS)
  const reader = new FrameReader(stream)
  let response: StoreResponse
  try {
    // A peer that may not store here is answered before anything it sent is read.
    await ofService(() => service.acceptsFrom?.(connection.remotePeer), 'the store')
    const request = decodeFrame(
      StoreRequest,
      await reader.expect(
        MAX_STORE_REQUEST_BYTES,
        'the store request',
        requestFrameSignal(signal, opts.requestFrameTimeoutMs),
      ),
      'store request',
    )
    const header = decodeHeader(request.header)
    if (opts.exchange) opts.exchange.blobId = blobIdOf(request.header).toString()
    const intake = await ofService(
      () => service.admit(connection.remotePeer, header, request.header, request.shardCount),
      'the store',
    )
    let signature: Uint8Array
    try {
      signature = await receiveShards(reader, intake, request.shardCount, shardFrameLimit(header.shardSize), signal)
    } catch (err) {
      intake.abort()
      throw err
    }
    response = { errorCode: '', errorMessage: '', signature }
  } catch (err) {
    const failure = toWireError(err, 'store')
    if (opts.exchange) opts.exchange.reason = withDetail(failure)
    // A stream that broke cannot carry an answer; anything else is refused with its code.
    if (failure.code === P2pErrorCode.STREAM_ENDED || failure.code === P2pErrorCode.TIMEOUT) {
      reader.release()
      stream.abort(asError(failure))
      return failure.code
    }
    response = {
      errorCode: sanitizeCode(failure.code),
      errorMessage: truncateMessage(failure.message),
      signature: new Uint8Array(),
    }
  }
  reader.release()
  try {
    await writeFrame(stream, StoreResponse.encode(response), { signal })
    await stream.close({ signal })
  } catch (err) {
    stream.abort(asError(err))
    return toWireError(err, 'store').code
  }
  return response.errorCode === '' ? 'ok' : response.errorCode
}

/** Hands shards already in memory to an intake as one run and finishes it (a member storing its own share). */
export async function intakeAll(intake: StoreIntake, shards: ShardWithProof[]): Promise<Uint8Array> {
  try {
    intake.add(shards)
    return await intake.finish()
  } catch (err) {
    intake.abort()
    throw err
  }
}

/** The intake's `add`, its untyped throws typed as the service's (see ofService). */
function addRun(intake: StoreIntake, run: ShardWithProof[]): void {
  try {
    intake.add(run)
  } catch (err) {
    throw toServiceError(err, 'the store')
  }
}

/** A refusal's message, with the cause of a service failure for the local log (the peer is sent the message). */
function withDetail(failure: DacnetError): string {
  const detail = failure.meta['detail']
  return typeof detail === 'string' ? `${failure.message} (${detail})` : failure.message
}

function throwMalformed(message: string): never {
  throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, message)
}

/**
 * Reads the announced shards into the intake, run by run: the frames already buffered are taken without a promise
 * each, and handed over when the reader runs dry (or MAX_INTAKE_RUN are taken), before waiting for more.
 */
async function receiveShards(
  reader: FrameReader,
  intake: StoreIntake,
  count: number,
  limit: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  let run: ShardWithProof[] = []
  for (let i = 0; i < count; i++) {
    let frame = reader.nextBuffered(limit, signal)
    if (frame === undefined || run.length === MAX_INTAKE_RUN) {
      if (run.length > 0) addRun(intake, run)
      run = []
      // A sender that closes its side before the last announced shard broke the protocol, and the stream can still
      // carry the answer that says so; only a reset (thrown by the reader) goes unanswered.
      frame ??=
        (await reader.next(limit, signal)) ??
        throwMalformed(`the stream ended after ${i} of the ${count} announced shards`)
    }
    run.push(decodeShardFrame(frame))
  }
  if (run.length > 0) addRun(intake, run)
  // Any byte after the announced shards is a frame too many, whatever its length prefix says.
  await reader.expectEnd('more frames than the announced shard count', signal)
  return ofService(() => intake.finish(), 'the store')
}

export interface StoreClientOptions {
  signal?: AbortSignal
  /** Deadline for the whole exchange. Default DEFAULT_STORE_TIMEOUT_MS. */
  timeoutMs?: number
  /** Called once every shard is written and the stream closed for writing, before the answer arrives. */
  onSent?: () => void
  /**
   * Opens the store stream; absent: `libp2p.dialProtocol`. A caller that watches each step of reaching the member
   * (the dial, the handshakes, the protocol agreed) opens it itself.
   */
  openStream?: StreamOpener
}

/** Opens a stream for `protocol` to `peer`, as `libp2p.dialProtocol` does. */
export type StreamOpener = (
  peer: PeerId | Multiaddr | Multiaddr[],
  protocol: string,
  options: { signal: AbortSignal },
) => Promise<Stream>

/** How long a sender whose sending broke waits for the member's answer, which usually says why. */
const EARLY_ANSWER_GRACE_MS = 1_000

/**
 * Sends a member its shards of one blob and returns its 96-byte signature. A refusal comes back as a
 * DacnetError with the member's code (meta.remote = true); wire failures have P2P_* codes.
 */
export async function sendStore(
  libp2p: DacnetLibp2p,
  peer: PeerId | Multiaddr | Multiaddr[],
  headerBytes: Uint8Array,
  shards: readonly ShardWithProof[],
  opts: StoreClientOptions = {},
): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS)
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
  let stream: Stream
  try {
    stream = await (opts.openStream ?? libp2p.dialProtocol.bind(libp2p))(peer, STORE_PROTOCOL, { signal })
  } catch (err) {
    throw toWireError(err, `dialling ${String(peer)}`)
  }
  const reader = new FrameReader(stream)
  // The member may refuse before it has read everything (an unregistered sender, a stale epoch, a wrong count):
  // its answer is read while the shards go out, and a refusal stops the sending instead of waiting for a window
  // the member will never open again.
  const answer = reader.expect(MAX_STORE_RESPONSE_BYTES, 'the store response', signal)
  const answered = answer.then(
    () => 'answered' as const,
    () => 'answered' as const,
  )
  const sending = (async () => {
    // The request and the shards go in batches of frames: a share is about a thousand small shards (§2.3).
    const batch = new FrameBatch(stream, { signal })
    await batch.add(StoreRequest.encode({ header: headerBytes, shardCount: shards.length }))
    for (const shard of shards) await addShardFrame(batch, shard)
    await batch.flush()
    await stream.close({ signal })
    opts.onSent?.()
    return 'sent' as const
  })()
  try {
    const first = await Promise.race([sending.catch((err: unknown) => ({ failed: err })), answered])
    if (first !== 'sent') {
      // Answered early, or the sending broke — most often because the member refused and closed: either way its
      // answer, if one came, says why. A sending failure after an answer is the abort below.
      sending.catch(() => {})
      const grace = new AbortController()
      const settled = await Promise.race([
        answer.then(
          (frame) => frame,
          () => undefined,
        ),
        sleep(EARLY_ANSWER_GRACE_MS, undefined, { signal: grace.signal }).then(
          () => undefined,
          () => undefined,
        ),
      ])
      grace.abort()
      if (settled !== undefined) {
        const response = decodeFrame(StoreResponse, settled, 'store response')
        if (response.errorCode !== '') throw remoteError(response.errorCode, response.errorMessage, peerLabel(peer))
      }
      if (first !== 'answered') throw first.failed
      await sending
    }
    const response = decodeFrame(StoreResponse, await answer, 'store response')
    if (response.errorCode !== '') throw remoteError(response.errorCode, response.errorMessage, peerLabel(peer))
    return new Uint8Array(response.signature)
  } catch (err) {
    answer.catch(() => {})
    sending.catch(() => {})
    const failure = err instanceof DacnetError ? err : toWireError(err, 'store')
    stream.abort(asError(failure))
    throw failure
  } finally {
    reader.release()
  }
}

function peerLabel(peer: PeerId | Multiaddr | Multiaddr[]): string {
  return Array.isArray(peer) ? String(peer[0]) : String(peer)
}
