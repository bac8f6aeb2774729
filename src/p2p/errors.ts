import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for failures of the wire layer itself (the remote's own refusals keep their codes). */
export const P2pErrorCode = {
  /** A frame's length prefix is above the limit for that frame: refused before the body is read. */
  FRAME_TOO_LARGE: 'P2P_FRAME_TOO_LARGE',
  /** A frame is not valid protobuf of the expected message, or a field breaks the protocol's rules. */
  MALFORMED_MESSAGE: 'P2P_MALFORMED_MESSAGE',
  /** The stream ended (or was reset) before the protocol's sequence of frames was complete. */
  STREAM_ENDED: 'P2P_STREAM_ENDED',
  /** The request or a frame took longer than its timeout, or the caller aborted it. */
  TIMEOUT: 'P2P_TIMEOUT',
  /** The caller stopped the exchange (its abort signal fired). */
  ABORTED: 'P2P_ABORTED',
  /** Dialling the peer or negotiating the protocol failed. */
  DIAL_FAILED: 'P2P_DIAL_FAILED',
  /** The peer is asking faster than its rate limit allows. */
  RATE_LIMITED: 'P2P_RATE_LIMITED',
  /** (holder, local) A stream past its protocol's per-connection limit: reset without a reply, counted against its peer. */
  TOO_MANY_STREAMS: 'P2P_TOO_MANY_STREAMS',
  /**
   * (holder, local) A peer that kept opening streams past the per-connection limit: its connections are closed,
   * and new ones as they open, for a while.
   */
  PEER_REFUSED: 'P2P_PEER_REFUSED',
  /** The holder has no shard of the requested blob. */
  BLOB_NOT_HELD: 'P2P_BLOB_NOT_HELD',
  /** A peer sent an error code that breaks the code syntax (PROTOCOL.md §3.8): it is surfaced as this. */
  REMOTE_ERROR: 'P2P_REMOTE_ERROR',
  /**
   * libp2p could not listen on a configured address: the port is taken by another process, or the address is not
   * one of this machine's. The message names each address and its reason.
   */
  LISTEN_FAILED: 'P2P_LISTEN_FAILED',
  /** A key file exists but is not a valid libp2p private key. */
  INVALID_KEY_FILE: 'P2P_INVALID_KEY_FILE',
  /**
   * The serving node failed for a reason of its own, not the request's or the stream's (a fault in its handling,
   * an error its storage or chain client threw untyped): the exchange is answered with this code and a generic
   * message, and the cause is logged where it happened. Worth a retry later or elsewhere.
   */
  SERVICE_FAILED: 'P2P_SERVICE_FAILED',
  /** (local) Certificate gossip was asked of a libp2p node created without it (`gossip: false`). */
  NO_GOSSIP: 'P2P_NO_GOSSIP',
} as const

export type P2pErrorCode = (typeof P2pErrorCode)[keyof typeof P2pErrorCode]

export function p2pError(code: P2pErrorCode, message: string, meta?: ErrorMeta): DacnetError<P2pErrorCode> {
  return new DacnetError(code, message, meta)
}

/**
 * Any failure in a stream operation as a DacnetError: ours pass through; aborts and timeouts get their
 * codes; libp2p's stream errors (some of which arrive as Event objects) become STREAM_ENDED.
 */
export function toWireError(err: unknown, what: string): DacnetError {
  if (err instanceof DacnetError) return err
  const inner = err instanceof Error ? err : ((err as { error?: unknown })?.error ?? err)
  const name = (inner as { name?: string })?.name ?? ''
  const message = (inner as { message?: string })?.message ?? String((err as Event)?.type ?? err)
  if (name === 'TimeoutError') return p2pError(P2pErrorCode.TIMEOUT, `${what}: timed out`)
  if (name === 'AbortError') return p2pError(P2pErrorCode.ABORTED, `${what}: aborted`)
  if (
    /Dial|dials failed|NoValidAddresses|UnsupportedProtocol|ECONNREFUSED|EncryptionFailed/.test(`${name} ${message}`)
  ) {
    return p2pError(P2pErrorCode.DIAL_FAILED, `${what}: ${message}`, { cause: name })
  }
  return p2pError(P2pErrorCode.STREAM_ENDED, `${what}: ${message}`, { cause: name })
}

/**
 * What a serving node's own step (its service: admission, storage) threw, typed: a DacnetError passes through, a
 * timeout or abort is the wire's (toWireError); anything else is this node's fault, P2P_SERVICE_FAILED, with the
 * cause's text in `meta.detail` for the local log only (the peer gets the generic message).
 */
export function toServiceError(err: unknown, what: string): DacnetError {
  if (err instanceof DacnetError) return err
  // The exchange's own deadline or abort, reached inside the service's step (a signal it was handed): the wire's.
  const name = (err as { name?: string })?.name
  if (name === 'TimeoutError' || name === 'AbortError') return toWireError(err, what)
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  return p2pError(P2pErrorCode.SERVICE_FAILED, `the node failed to handle ${what}`, { detail })
}

/**
 * Runs a step of the serving node's own (its service: admission, storage reads, the intake): what it throws untyped
 * is this node's fault, not the stream's, so the exchange is answered P2P_SERVICE_FAILED (toServiceError) instead
 * of being taken for a broken stream and reset, or counted as a client that stopped reading.
 */
export async function ofService<T>(step: () => T | Promise<T>, what: string): Promise<T> {
  try {
    return await step()
  } catch (err) {
    throw toServiceError(err, what)
  }
}

/** An Error for stream.abort(), which wants a real Error. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
