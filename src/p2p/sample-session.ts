import type { Connection, Stream } from '@libp2p/interface'
import type { DacnetError } from '../errors.ts'
import { P2pErrorCode, p2pError, toWireError } from './errors.ts'
import { FrameReader } from './framing.ts'
import {
  DEFAULT_REQUEST_FRAME_TIMEOUT_MS,
  DEFAULT_SAMPLE_SESSION_IDLE_MS,
  DEFAULT_SAMPLE_TIMEOUT_MS,
  deadlineIn,
  MAX_QUERY_REQUEST_BYTES,
} from './limits.ts'
import { endFailedExchange } from './reply.ts'
import { answerSampleRequest, readSampleRequest, type SampleService, sampleBatch } from './sample.ts'
import type { ServedOutcome } from './wire.ts'

/**
 * /dacnet/sample/2.0.0 — anyone -> holder: the sample protocol with a stream kept for several requests.
 *
 *   client: SampleRequest { blobId, indices }; after that request's END, the next request, and so on; it ends the
 *           session by closing its write side
 *   server: for each request, exactly what /dacnet/sample/1.0.0 answers (a reply per index, then END; or an ERROR,
 *           after which it closes: an ERROR ends the session)
 *
 * A light client checking blob after blob then opens one stream per holder, not one per request: a stream costs
 * both ends more CPU (muxer, protocol negotiation, peer store) than the request it carries. Every request counts
 * against the peer's sample rate and is timed on its own; a session's first request frame must come within the
 * request-frame deadline of the stream's opening, each later one within that deadline of its first byte, and a
 * session with no request begun for `idleMs` is reset, so an idle or dripping client holds nothing for long.
 */

export interface SampleSessionOptions {
  /** One request and its answers. Default DEFAULT_SAMPLE_TIMEOUT_MS. */
  timeoutMs?: number
  /** Default DEFAULT_REQUEST_FRAME_TIMEOUT_MS. */
  requestFrameTimeoutMs?: number
  /** Default DEFAULT_SAMPLE_SESSION_IDLE_MS. */
  idleMs?: number
  /**
   * Called for each request once its frame is read: undefined serves it; an error (P2P_RATE_LIMITED) refuses it
   * with an ERROR, which ends the session. It may wait before saying so (the rate limiter's window).
   */
  admit?: (stream: Stream) => Promise<DacnetError | undefined>
  /** Hears the duration and outcome of each request, and of a session that failed before its first. */
  onRequest?: (ms: number, outcome: ServedOutcome) => void
}

export async function handleSampleSession(
  service: SampleService,
  stream: Stream,
  connection: Connection,
  opts: SampleSessionOptions = {},
): Promise<void> {
  const idleMs = opts.idleMs ?? DEFAULT_SAMPLE_SESSION_IDLE_MS
  const requester = connection.remotePeer.toString()
  // Requests are small and come one at a time: past a few, the stream is paused and the muxer holds the sender back.
  const reader = new FrameReader(stream, { highWater: 4 * MAX_QUERY_REQUEST_BYTES })
  try {
    for (let served = 0; ; served++) {
      let since = performance.now()
      if (served > 0) {
        const idle = deadlineIn(idleMs)
        try {
          if (!(await reader.started(idle.signal))) {
            // The client closed its side: the session is over.
            await stream.close({ signal: AbortSignal.timeout(DEFAULT_REQUEST_FRAME_TIMEOUT_MS) }).catch(() => {})
            return
          }
        } catch (err) {
          const failure = idle.signal.aborted
            ? p2pError(P2pErrorCode.TIMEOUT, `no sample request for ${idleMs} ms`)
            : toWireError(err, 'sample session')
          stream.abort(failure)
          return
        } finally {
          idle.clear()
        }
        since = performance.now()
      }
      const outcome = await serveRequest(service, stream, reader, requester, opts)
      opts.onRequest?.(performance.now() - since, outcome)
      if (outcome !== 'ok') return
    }
  } finally {
    reader.release()
  }
}

/** Reads one request of the session and answers it; 'ok' leaves the stream open for the next. */
async function serveRequest(
  service: SampleService,
  stream: Stream,
  reader: FrameReader,
  requester: string,
  opts: SampleSessionOptions,
): Promise<ServedOutcome> {
  const exchange = deadlineIn(opts.timeoutMs ?? DEFAULT_SAMPLE_TIMEOUT_MS)
  const { signal } = exchange
  const batch = sampleBatch(stream, service, signal)
  let answering = false
  try {
    const { blobId, indices } = await readSampleRequest(reader, opts.requestFrameTimeoutMs, signal)
    const refusal = await opts.admit?.(stream)
    if (refusal) throw refusal
    answering = true
    await answerSampleRequest(service, batch, blobId, indices, requester, signal)
    return 'ok'
  } catch (err) {
    return endFailedExchange(stream, batch, err, 'sample', answering, signal)
  } finally {
    exchange.clear()
  }
}
