import { HEADER_SIZE } from '../erasure/header.ts'
import { HASH_SIZE } from '../erasure/merkle.ts'

/**
 * Sizes and times on the wire. Every frame has a maximum checked from its length prefix before its body is
 * read; every request has a deadline.
 */

/** Deepest Merkle proof: n <= 65536 leaves means at most 16 siblings. */
export const MAX_PROOF_BYTES = 16 * HASH_SIZE
/** Protobuf overhead of a Shard or Reply frame around its shard bytes and proof (tags, varint lengths, index). */
export const FRAME_OVERHEAD_BYTES = 64
/** StoreRequest: a 65-byte header plus a shard count, with protobuf tags. */
export const MAX_STORE_REQUEST_BYTES = HEADER_SIZE + 32
/** Indices per sample request: enough for one round of sampling at high confidence, small enough to serve fast. */
export const MAX_SAMPLE_INDICES = 64
/** SampleRequest / RetrieveRequest: a 36-byte blob id and up to MAX_SAMPLE_INDICES varints. */
export const MAX_QUERY_REQUEST_BYTES = 64 + 5 * MAX_SAMPLE_INDICES
/** Error messages sent to a peer are cut to this many characters (UTF-16 code units). */
export const MAX_ERROR_MESSAGE_CHARS = 512
/** Longest error code on the wire: codes match /^[A-Z][A-Z0-9_]{2,63}$/ (sanitizeCode in wire.ts). */
export const MAX_ERROR_CODE_CHARS = 64

/**
 * The largest ERROR a compliant peer sends (a Reply or StoreResponse frame), from the message limits:
 *
 *   kind / tags    2 bytes
 *   error_code     tag 1 + length 1 + at most 64 ASCII bytes                         =   66
 *   error_message  tag 1 + length 2 + at most 512 UTF-16 code units of at most 3 UTF-8
 *                  bytes each (a surrogate pair is 2 units and 4 bytes)              = 1539
 *                                                                            total     1607
 *
 * rounded up to whole KiB: 2048. (1 KiB would do only for ASCII: 512 characters of 3-byte text are 1536 bytes.)
 * An ERROR may come in place of any reply frame, so every reply limit is at least this.
 */
export const MAX_ERROR_REPLY_BYTES =
  Math.ceil((2 + (2 + MAX_ERROR_CODE_CHARS) + (3 + 3 * MAX_ERROR_MESSAGE_CHARS)) / 1024) * 1024
/** StoreResponse: a 96-byte signature, or an error code and message (MAX_ERROR_REPLY_BYTES covers both). */
export const MAX_STORE_RESPONSE_BYTES = MAX_ERROR_REPLY_BYTES

/** The largest frame that may carry one shard of `shardSize` bytes. */
export function shardFrameLimit(shardSize: number): number {
  return shardSize + MAX_PROOF_BYTES + FRAME_OVERHEAD_BYTES
}

/** The largest reply frame a client accepts while shards of `shardSize` bytes are expected: a shard or an ERROR. */
export function replyFrameLimit(shardSize: number): number {
  return Math.max(shardFrameLimit(shardSize), MAX_ERROR_REPLY_BYTES)
}

/** A whole store exchange, sending every shard of a member's share: generous for large shares on slow links. */
export const DEFAULT_STORE_TIMEOUT_MS = 120_000
/**
 * On shutdown, how long a node waits for store exchanges under way (shards still arriving, or being stored and
 * signed) before it stops anyway: long enough for a share of a large blob on a slow link, short enough for
 * service managers' stop timeouts (systemd's default is 90 s).
 */
export const DEFAULT_STORE_DRAIN_MS = 30_000
/**
 * The first frame of every inbound exchange — the request, at most a few hundred bytes — must arrive within this
 * of the stream opening. A client sends it at once; a peer that drips it byte by byte is holding a stream slot,
 * and gets reset long before the exchange's own deadline.
 */
export const DEFAULT_REQUEST_FRAME_TIMEOUT_MS = 5_000

/**
 * A deadline that, unlike AbortSignal.timeout, is cleared when the work it bounds ends: a server answering
 * hundreds of requests a second would otherwise keep a live timer and signal per request for the whole timeout,
 * thousands of objects the garbage collector marks again and again. The signal aborts with the same TimeoutError.
 */
export interface Deadline {
  readonly signal: AbortSignal
  clear(): void
}

export function deadlineIn(ms: number, within?: AbortSignal): Deadline {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException('the deadline passed', 'TimeoutError')), ms)
  return {
    signal: within ? AbortSignal.any([within, controller.signal]) : controller.signal,
    clear: () => clearTimeout(timer),
  }
}

/** A deadline for the request frame: the exchange's own, cut to `requestFrameTimeoutMs`. */
export function requestFrameSignal(exchange: AbortSignal, requestFrameTimeoutMs?: number): AbortSignal {
  return AbortSignal.any([exchange, AbortSignal.timeout(requestFrameTimeoutMs ?? DEFAULT_REQUEST_FRAME_TIMEOUT_MS)])
}

/** One sample request and its replies. */
export const DEFAULT_SAMPLE_TIMEOUT_MS = 10_000
/** A holder resets a sample session (`/dacnet/sample/2.0.0`) in which no next request has begun for this long. */
export const DEFAULT_SAMPLE_SESSION_IDLE_MS = 30_000
/** A client closes a sample session unused this long: a check every 12 s slot keeps it; the holder resets at 30 s. */
export const DEFAULT_SAMPLE_STREAM_IDLE_MS = 20_000
/** Idle sample sessions a client keeps open per holder (more run at once when it asks in parallel; they close). */
export const MAX_IDLE_SAMPLE_STREAMS_PER_PEER = 2
/** One retrieve exchange, streaming all shards a holder has for one blob. */
export const DEFAULT_RETRIEVE_TIMEOUT_MS = 120_000
/**
 * From the request to the holder's HEADER (or ERROR): a holder answers that from its index at once, so one that
 * stays silent this long is stalling, and the client moves on instead of holding a stream for the whole exchange.
 */
export const DEFAULT_RETRIEVE_HEADER_TIMEOUT_MS = 10_000

/** Concurrent inbound streams per connection for each protocol. */
export const MAX_INBOUND_STORE_STREAMS = 8
export const MAX_INBOUND_SAMPLE_STREAMS = 16
export const MAX_INBOUND_RETRIEVE_STREAMS = 4

/**
 * Streams past a public protocol's per-connection limit (sample, retrieve) one peer may open within
 * DEFAULT_STREAM_OVERFLOW_WINDOW_MS before it is cut off (StreamGuard). Each costs the holder about 1 ms (the
 * muxer, multistream-select, the reset), so a peer at the threshold costs it under 1% of a core; an honest client
 * keeps to the limit, and one that bursts past it now and then stays well below.
 */
export const DEFAULT_STREAM_OVERFLOW_LIMIT = 64
export const DEFAULT_STREAM_OVERFLOW_WINDOW_MS = 10_000
/** How long a peer cut off for opening too many streams stays refused: its connections are closed as they open. */
export const DEFAULT_PEER_REFUSAL_MS = 60_000
/** Peers remembered as refused at most (the oldest refusal is forgotten first): bounded memory under many identities. */
export const MAX_REFUSED_PEERS = 10_000

/** Requests per peer per second for the public protocols; a light client needs a few per blob. */
export const DEFAULT_SAMPLE_RATE_PER_SECOND = 50
export const DEFAULT_RETRIEVE_RATE_PER_SECOND = 10
/**
 * A request beyond its peer's rate is answered P2P_RATE_LIMITED when the peer's one-second window ends, at most
 * this long after it came, not at once. Every stream costs the holder its opening (the muxer, multistream-select)
 * whatever the answer, so a peer refused at once and asking again at once made the holder refuse ten times as
 * often as it served; held until its window ends, a refused stream keeps one of the peer's few streams per
 * connection (MAX_INBOUND_*_STREAMS) instead, and a peer that waits for its answers is refused about once per
 * stream per second. Measured at 10x the sample quota over 16 streams: 382 refusals/s became 16, and the holder's
 * CPU 66% of a core 28%.
 */
export const MAX_REFUSAL_DELAY_MS = 1_000
