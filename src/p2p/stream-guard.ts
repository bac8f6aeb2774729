import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { RateLimiter } from '@libp2p/utils'
import { P2pErrorCode, p2pError } from './errors.ts'
import {
  DEFAULT_PEER_REFUSAL_MS,
  DEFAULT_STREAM_OVERFLOW_LIMIT,
  DEFAULT_STREAM_OVERFLOW_WINDOW_MS,
  MAX_REFUSED_PEERS,
} from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import type { ServedOutcome } from './wire.ts'

export interface StreamGuardOptions {
  /** Streams past a protocol's limit one peer may open within `streamOverflowWindowMs`. Default DEFAULT_STREAM_OVERFLOW_LIMIT. */
  streamOverflowLimit?: number
  /** Default DEFAULT_STREAM_OVERFLOW_WINDOW_MS. */
  streamOverflowWindowMs?: number
  /** How long a peer cut off for opening too many streams stays refused. Default DEFAULT_PEER_REFUSAL_MS. */
  peerRefusalMs?: number
  /** Hears each connection refused (P2P_PEER_REFUSED), with the protocol whose streams the peer overran. */
  onRefused?: (protocol: string, peer: string) => void
}

/**
 * The per-connection stream limit of the public protocols (sample, retrieve), kept by dacnet instead of libp2p so
 * that the streams past it are counted. libp2p resets such a stream once its protocol is negotiated and forgets it:
 * a peer opening streams in a loop costs the holder about 1 ms each (the muxer, multistream-select, the reset) for
 * as long as it likes. Here each is reset the same way (the client sees P2P_STREAM_ENDED) and counted against its
 * peer; past `streamOverflowLimit` in `streamOverflowWindowMs`, the peer's connections are closed and every new one
 * is closed as it opens, for `peerRefusalMs`. An honest client keeps to the limit (a light client opens one stream
 * per request and holder), and a burst now and then stays far below the threshold.
 */
export class StreamGuard {
  readonly #libp2p: DacnetLibp2p
  readonly #overflows: RateLimiter
  readonly #refusalMs: number
  readonly #onRefused: ((protocol: string, peer: string) => void) | undefined
  /** Peers refused until a time (performance.now()), with the protocol they overran; oldest first. */
  readonly #refused = new Map<string, { until: number; protocol: string }>()
  readonly #onConnection = (evt: CustomEvent<Connection>) => {
    const connection = evt.detail
    const refusal = this.#refusal(connection.remotePeer.toString())
    if (refusal === undefined) return
    connection.abort(refusedError(refusal.until))
    this.#onRefused?.(refusal.protocol, connection.remotePeer.toString())
  }

  constructor(libp2p: DacnetLibp2p, opts: StreamGuardOptions = {}) {
    const limit = opts.streamOverflowLimit ?? DEFAULT_STREAM_OVERFLOW_LIMIT
    const windowMs = opts.streamOverflowWindowMs ?? DEFAULT_STREAM_OVERFLOW_WINDOW_MS
    this.#libp2p = libp2p
    this.#overflows = new RateLimiter({ points: limit, duration: windowMs / 1000, keyPrefix: '' })
    this.#refusalMs = opts.peerRefusalMs ?? DEFAULT_PEER_REFUSAL_MS
    this.#onRefused = opts.onRefused
    libp2p.addEventListener('connection:open', this.#onConnection)
  }

  /** Stops closing refused peers' connections as they open. */
  stop(): void {
    this.#libp2p.removeEventListener('connection:open', this.#onConnection)
  }

  /**
   * Undefined when the stream may be served: its connection has at most `limit` inbound streams of `protocol`,
   * this one included, and its peer is not refused. Otherwise the stream is reset (and, past the peer's overflow
   * limit, the peer cut off) and the outcome to count is returned: P2P_TOO_MANY_STREAMS or P2P_PEER_REFUSED.
   */
  check(protocol: string, limit: number, stream: Stream, connection: Connection): ServedOutcome | undefined {
    const peer = connection.remotePeer.toString()
    const refusal = this.#refusal(peer)
    if (refusal !== undefined) {
      // A connection that opened before the refusal began, or slipped past the event: closed now.
      connection.abort(refusedError(refusal.until))
      return P2pErrorCode.PEER_REFUSED
    }
    let open = 0
    for (const s of connection.streams) if (s.direction === 'inbound' && s.protocol === protocol) open++
    if (open <= limit) return undefined
    stream.abort(
      p2pError(P2pErrorCode.TOO_MANY_STREAMS, `more than ${limit} inbound ${protocol} streams on one connection`),
    )
    try {
      this.#overflows.consume(peer)
    } catch {
      this.#refuse(peer, connection.remotePeer, protocol)
    }
    return P2pErrorCode.TOO_MANY_STREAMS
  }

  #refuse(peer: string, peerId: PeerId, protocol: string): void {
    const until = performance.now() + this.#refusalMs
    this.#refused.delete(peer)
    if (this.#refused.size >= MAX_REFUSED_PEERS) this.#forgetExpired()
    // Still full: the oldest refusal goes first (bounded memory, whatever the number of identities).
    if (this.#refused.size >= MAX_REFUSED_PEERS) this.#refused.delete(this.#refused.keys().next().value!)
    this.#refused.set(peer, { until, protocol })
    const error = refusedError(until)
    for (const connection of this.#libp2p.getConnections(peerId)) connection.abort(error)
    this.#onRefused?.(protocol, peer)
  }

  #refusal(peer: string): { until: number; protocol: string } | undefined {
    if (this.#refused.size === 0) return undefined
    const refusal = this.#refused.get(peer)
    if (refusal === undefined) return undefined
    if (refusal.until > performance.now()) return refusal
    this.#refused.delete(peer)
    return undefined
  }

  #forgetExpired(): void {
    const now = performance.now()
    for (const [peer, refusal] of this.#refused) if (refusal.until <= now) this.#refused.delete(peer)
  }
}

function refusedError(until: number): Error {
  const seconds = Math.max(1, Math.ceil((until - performance.now()) / 1000))
  return p2pError(
    P2pErrorCode.PEER_REFUSED,
    `this peer kept opening streams past the per-connection limit; refused for ${seconds} s`,
  )
}
