import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { RateLimiter } from '@libp2p/utils'
import type { DacnetError } from '../errors.ts'
import { settleWithin } from '../timing.ts'
import { P2pErrorCode, p2pError } from './errors.ts'
import {
  DEFAULT_RETRIEVE_RATE_PER_SECOND,
  DEFAULT_SAMPLE_RATE_PER_SECOND,
  DEFAULT_STORE_DRAIN_MS,
  MAX_INBOUND_RETRIEVE_STREAMS,
  MAX_INBOUND_SAMPLE_STREAMS,
  MAX_INBOUND_STORE_STREAMS,
  MAX_REFUSAL_DELAY_MS,
} from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import { RETRIEVE_PROTOCOL, SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL, STORE_PROTOCOL } from './protocols.ts'
import { replyError } from './reply.ts'
import { handleRetrieveStream, type RetrieveService } from './retrieve.ts'
import { handleSampleStream, type SampleService } from './sample.ts'
import { handleSampleSession } from './sample-session.ts'
import { handleStoreStream, type StoreService } from './store.ts'
import { StreamGuard, type StreamGuardOptions } from './stream-guard.ts'
import type { ServedExchange, ServedOutcome } from './wire.ts'

export interface ProtocolServices {
  store?: StoreService
  sample?: SampleService
  retrieve?: RetrieveService
}

export interface ProtocolOptions extends Omit<StreamGuardOptions, 'onRefused'> {
  /** Sample requests per peer per second. Default DEFAULT_SAMPLE_RATE_PER_SECOND. */
  sampleRatePerSecond?: number
  /** Retrieve requests per peer per second. Default DEFAULT_RETRIEVE_RATE_PER_SECOND. */
  retrieveRatePerSecond?: number
  storeTimeoutMs?: number
  sampleTimeoutMs?: number
  /** A sample session with no request begun for this long is reset. Default DEFAULT_SAMPLE_SESSION_IDLE_MS. */
  sampleSessionIdleMs?: number
  retrieveTimeoutMs?: number
  /** Deadline for the request frame of every inbound exchange. Default DEFAULT_REQUEST_FRAME_TIMEOUT_MS. */
  requestFrameTimeoutMs?: number
  /**
   * Called for every inbound exchange with its protocol, duration and outcome ('ok', CANCELLED or a code), and who
   * asked (and for stores, the blob once its header decoded): for metrics, the node's status and its log. Streams
   * past the per-connection limit of sample and retrieve count as P2P_TOO_MANY_STREAMS, and each connection of a
   * peer cut off for them as P2P_PEER_REFUSED (with the protocol it overran and 0 ms).
   */
  onServed?: (protocol: string, ms: number, outcome: ServedOutcome, exchange: ServedExchange) => void
}

type Handler = (stream: Stream, connection: Connection, exchange: ServedExchange) => Promise<ServedOutcome>

/**
 * libp2p's own limit on inbound sample and retrieve streams per connection, behind StreamGuard's (which counts the
 * streams past MAX_INBOUND_*_STREAMS): never reached while the guard runs; yamux allows 1,000 streams per
 * connection in all.
 */
const LIBP2P_PUBLIC_STREAM_LIMIT = 1_000

/** Stops serving: no new streams, then waits up to `drainMs` for store exchanges under way to finish. */
export type StopServing = (opts?: { drainMs?: number }) => Promise<void>

/**
 * Serves the protocols a node offers on `libp2p` and returns a function that stops serving them. Sample
 * and retrieve are public and rate limited per peer, their streams per connection limited by a StreamGuard (a peer
 * that keeps opening more is cut off for a while); store is authorised by the StoreService itself.
 * Stopping waits for store exchanges already admitted (a sequencer is owed its attestation), not for samples
 * or retrievals, which a client simply asks another holder for.
 */
export async function registerProtocols(
  libp2p: DacnetLibp2p,
  services: ProtocolServices,
  opts: ProtocolOptions = {},
): Promise<StopServing> {
  const timeouts = (timeoutMs: number | undefined) => ({
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(opts.requestFrameTimeoutMs === undefined ? {} : { requestFrameTimeoutMs: opts.requestFrameTimeoutMs }),
  })
  const registered: string[] = []
  const storesInFlight = new Set<Promise<ServedOutcome>>()
  const tracked =
    (handler: Handler): Handler =>
    (stream, connection, exchange) => {
      const serving = handler(stream, connection, exchange)
      storesInFlight.add(serving)
      return serving.finally(() => storesInFlight.delete(serving))
    }
  const timed =
    (protocol: string, handler: Handler): StreamHandler =>
    async (stream, connection) => {
      const start = performance.now()
      const exchange: ServedExchange = { peer: connection.remotePeer.toString() }
      let outcome: ServedOutcome = P2pErrorCode.STREAM_ENDED
      try {
        outcome = await handler(stream, connection, exchange)
      } finally {
        opts.onServed?.(protocol, performance.now() - start, outcome, exchange)
      }
    }
  const { store, sample, retrieve } = services
  const guard =
    sample || retrieve
      ? new StreamGuard(libp2p, {
          ...opts,
          onRefused: (protocol, peer) => opts.onServed?.(protocol, 0, P2pErrorCode.PEER_REFUSED, { peer }),
        })
      : undefined
  /** Streams past `limit` on their connection are reset and counted before anything else (the rate included). */
  const guarded =
    (protocol: string, limit: number, handler: Handler): Handler =>
    async (stream, connection, exchange) =>
      guard!.check(protocol, limit, stream, connection) ?? handler(stream, connection, exchange)
  if (store) {
    await libp2p.handle(
      STORE_PROTOCOL,
      timed(
        STORE_PROTOCOL,
        tracked((s, c, exchange) => handleStoreStream(store, s, c, { ...timeouts(opts.storeTimeoutMs), exchange })),
      ),
      { maxInboundStreams: MAX_INBOUND_STORE_STREAMS },
    )
    registered.push(STORE_PROTOCOL)
  }
  if (sample) {
    const limiter = new RateLimiter({ points: opts.sampleRatePerSecond ?? DEFAULT_SAMPLE_RATE_PER_SECOND, duration: 1 })
    await libp2p.handle(
      SAMPLE_PROTOCOL,
      timed(
        SAMPLE_PROTOCOL,
        guarded(
          SAMPLE_PROTOCOL,
          MAX_INBOUND_SAMPLE_STREAMS,
          rateLimited(limiter, (s, c) => handleSampleStream(sample, s, c, timeouts(opts.sampleTimeoutMs))),
        ),
      ),
      { maxInboundStreams: LIBP2P_PUBLIC_STREAM_LIMIT },
    )
    registered.push(SAMPLE_PROTOCOL)
    // Sessions report each request, not the stream: the guard's refusals and a session that failed before its
    // first request are reported as 1.0.0's exchanges are.
    await libp2p.handle(
      SAMPLE_SESSION_PROTOCOL,
      async (stream, connection) => {
        const exchange: ServedExchange = { peer: connection.remotePeer.toString() }
        const refused = guard!.check(SAMPLE_SESSION_PROTOCOL, MAX_INBOUND_SAMPLE_STREAMS, stream, connection)
        if (refused !== undefined) {
          opts.onServed?.(SAMPLE_SESSION_PROTOCOL, 0, refused, exchange)
          return
        }
        await handleSampleSession(sample, stream, connection, {
          ...timeouts(opts.sampleTimeoutMs),
          ...(opts.sampleSessionIdleMs === undefined ? {} : { idleMs: opts.sampleSessionIdleMs }),
          admit: (s) => overRate(limiter, exchange.peer, s),
          onRequest: (ms, outcome) => opts.onServed?.(SAMPLE_SESSION_PROTOCOL, ms, outcome, exchange),
        })
      },
      { maxInboundStreams: LIBP2P_PUBLIC_STREAM_LIMIT },
    )
    registered.push(SAMPLE_SESSION_PROTOCOL)
  }
  if (retrieve) {
    const limiter = new RateLimiter({
      points: opts.retrieveRatePerSecond ?? DEFAULT_RETRIEVE_RATE_PER_SECOND,
      duration: 1,
    })
    await libp2p.handle(
      RETRIEVE_PROTOCOL,
      timed(
        RETRIEVE_PROTOCOL,
        guarded(
          RETRIEVE_PROTOCOL,
          MAX_INBOUND_RETRIEVE_STREAMS,
          rateLimited(limiter, (s, c) => handleRetrieveStream(retrieve, s, c, timeouts(opts.retrieveTimeoutMs))),
        ),
      ),
      { maxInboundStreams: LIBP2P_PUBLIC_STREAM_LIMIT },
    )
    registered.push(RETRIEVE_PROTOCOL)
  }
  return async ({ drainMs = DEFAULT_STORE_DRAIN_MS } = {}) => {
    guard?.stop()
    for (const protocol of registered.splice(0)) await libp2p.unhandle(protocol)
    if (storesInFlight.size === 0) return
    await settleWithin(Promise.allSettled([...storesInFlight]), drainMs)
  }
}

/**
 * Refuses a peer above its rate with an ERROR reply (P2P_RATE_LIMITED) instead of serving it, sent when the peer's
 * window ends (at most MAX_REFUSAL_DELAY_MS later) or at once if the stream closes first.
 */
function rateLimited(limiter: RateLimiter, handler: Handler): Handler {
  return async (stream, connection, exchange) => {
    const refusal = await overRate(limiter, connection.remotePeer.toString(), stream)
    if (refusal === undefined) return handler(stream, connection, exchange)
    await replyError(stream, refusal, AbortSignal.timeout(1_000))
    return refusal.code
  }
}

/**
 * Counts one request of `peer` against its rate: undefined when within it; otherwise P2P_RATE_LIMITED, once the
 * peer's window ends (at most MAX_REFUSAL_DELAY_MS later) or the stream closes, whichever comes first.
 */
async function overRate(limiter: RateLimiter, peer: string, stream: Stream): Promise<DacnetError | undefined> {
  try {
    limiter.consume(peer)
    return undefined
  } catch (err) {
    const waitMs = Math.min(MAX_REFUSAL_DELAY_MS, Math.max(0, (err as { msBeforeNext?: number }).msBeforeNext ?? 0))
    await untilClosedOr(stream, waitMs)
    return p2pError(P2pErrorCode.RATE_LIMITED, 'too many requests; slow down')
  }
}

/** Resolves after `ms`, or sooner when the stream closes (a client that gave up). */
function untilClosedOr(stream: Stream, ms: number): Promise<void> {
  if (ms <= 0 || stream.status !== 'open') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      stream.removeEventListener('close', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    stream.addEventListener('close', done)
  })
}
