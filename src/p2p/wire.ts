import type { Codec } from 'protons-runtime'
import { P2pErrorCode, p2pError } from './errors.ts'
import { MAX_ERROR_MESSAGE_CHARS } from './limits.ts'

interface MessageCodec<T> {
  decode(buf: Uint8Array, opts?: { limits?: Record<string, unknown> }): T
  codec(): Codec<T>
}

/** Decodes one protobuf frame; anything protons refuses (or a limit it enforces) is P2P_MALFORMED_MESSAGE. */
export function decodeFrame<T>(
  message: MessageCodec<T>,
  frame: Uint8Array,
  what: string,
  limits?: Record<string, unknown>,
): T {
  try {
    return message.decode(frame, limits ? { limits } : undefined)
  } catch (err) {
    throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `malformed ${what}: ${(err as Error).message}`)
  }
}

/**
 * How an inbound exchange ended: 'ok', CANCELLED, or the code it was refused or failed with (for metrics and the
 * node's status).
 */
export type ServedOutcome = string

/**
 * The client stopped reading while the answer was going out: a retrieval that had k shards, a light client that
 * had its answer from another holder. Normal traffic, neither served in full nor a refusal.
 */
export const CANCELLED = 'cancelled'

/** What the server knows of an inbound exchange besides its outcome: who asked, and for which blob if known. */
export interface ServedExchange {
  /** The remote peer id. */
  readonly peer: string
  /** Set by the store handler once the request's header decoded. */
  blobId?: string
  /** Set by the store handler when the store fails: the refusal's message (what the peer is sent, untruncated). */
  reason?: string
}

export function truncateMessage(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_CHARS ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : message
}

/** Codes travel as text; refuse anything that does not look like one of ours. */
export function sanitizeCode(code: string): string {
  return /^[A-Z][A-Z0-9_]{2,63}$/.test(code) ? code : P2pErrorCode.REMOTE_ERROR
}
