import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for what the HTTP API itself refuses. Errors from the layers below keep their own codes. */
export const ApiErrorCode = {
  /** The request is malformed in a way no other code describes (e.g. a bad Content-Length). */
  BAD_REQUEST: 'API_BAD_REQUEST',
  /** A shard index is not an integer in 0..n-1. */
  INVALID_SHARD_INDEX: 'API_INVALID_SHARD_INDEX',
  /** POST /v1/blobs without the right bearer token. */
  UNAUTHORIZED: 'API_UNAUTHORIZED',
  /** POST /v1/blobs on a server started without a disperser and a token. */
  DISPERSE_DISABLED: 'API_DISPERSE_DISABLED',
  /** This node holds no shard of the blob (it may never have, or it was pruned). */
  BLOB_NOT_FOUND: 'API_BLOB_NOT_FOUND',
  /** This node holds the blob but not that shard: ask another holder. */
  SHARD_NOT_HELD: 'API_SHARD_NOT_HELD',
  /** No route for this method and path. */
  ROUTE_NOT_FOUND: 'API_ROUTE_NOT_FOUND',
  /**
   * The Host header names no host this API answers to (a DNS rebinding defence): refused before any route runs.
   * Reach the node by a listed name, or add the name to the node's `api.allowedHosts`.
   */
  HOST_NOT_ALLOWED: 'API_HOST_NOT_ALLOWED',
  /** The request body is larger than the server's upload limit. */
  PAYLOAD_TOO_LARGE: 'API_PAYLOAD_TOO_LARGE',
  /** The request body has a content type this route does not take. */
  UNSUPPORTED_MEDIA_TYPE: 'API_UNSUPPORTED_MEDIA_TYPE',
  /** Too many dispersals are under way; retry after the Retry-After header's seconds. */
  BUSY: 'API_BUSY',
  /** The committee node is not running (starting or stopping). */
  NODE_NOT_RUNNING: 'API_NODE_NOT_RUNNING',
  /** The API is closing (the node is stopping): a request that arrived on an open connection is not served. */
  CLOSING: 'API_CLOSING',
  /** The request took longer than its route's time limit. */
  TIMEOUT: 'API_TIMEOUT',
  /** Server options are out of range. */
  INVALID_OPTIONS: 'API_INVALID_OPTIONS',
  /** The server could not bind its host and port (in use, or not an address of this machine). */
  LISTEN_FAILED: 'API_LISTEN_FAILED',
  /** An unexpected failure; details are in the node's log, not in the response. */
  INTERNAL: 'API_INTERNAL',
} as const

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode]

export function apiError(code: ApiErrorCode, message: string, meta?: ErrorMeta): DacnetError<ApiErrorCode> {
  return new DacnetError(code, message, meta)
}

/** Codes thrown by `startApiServer` itself, never answered over HTTP. */
export type ApiStartupErrorCode = typeof ApiErrorCode.INVALID_OPTIONS | typeof ApiErrorCode.LISTEN_FAILED

/** HTTP status for each code the API answers with; codes of other layers go through `httpStatusOf`. */
const API_STATUS: Record<Exclude<ApiErrorCode, ApiStartupErrorCode>, number> = {
  API_BAD_REQUEST: 400,
  API_INVALID_SHARD_INDEX: 400,
  API_UNAUTHORIZED: 401,
  API_DISPERSE_DISABLED: 403,
  API_BLOB_NOT_FOUND: 404,
  API_SHARD_NOT_HELD: 404,
  API_ROUTE_NOT_FOUND: 404,
  // 421 Misdirected Request: this server does not answer for that authority (RFC 9110 §15.5.20).
  API_HOST_NOT_ALLOWED: 421,
  API_PAYLOAD_TOO_LARGE: 413,
  API_UNSUPPORTED_MEDIA_TYPE: 415,
  API_BUSY: 503,
  API_NODE_NOT_RUNNING: 503,
  API_CLOSING: 503,
  API_TIMEOUT: 504,
  API_INTERNAL: 500,
}

/** Codes of the lower layers with a status of their own; the rest fall back by prefix. */
const LAYER_STATUS: Record<string, number> = {
  ERASURE_INVALID_BLOB_ID: 400,
  ERASURE_BLOB_TOO_LARGE: 413,
  // The committee stake that is offline or refusing: the same request may succeed later.
  NODE_THRESHOLD_UNREACHABLE: 503,
  NODE_ABORTED: 503,
  // No committee epoch is known yet (e.g. the committee file is still being fetched).
  COMMITTEE_UNKNOWN_EPOCH: 503,
  // The client is over its read rate (Retry-After: when its window ends), or every read slot stayed taken.
  NODE_RATE_LIMITED: 429,
  NODE_BUSY: 503,
  STORAGE_CLOSED: 503,
  STORAGE_BUSY: 503,
  // A stored entry failed its re-check on read; the store quarantined it.
  STORAGE_CORRUPT_ENTRY: 500,
}

/**
 * The status an error code is answered with. The rule for codes without an entry: the committee members'
 * answers (NODE_*, P2P_*) are an upstream's failure (502); anything else is ours (500).
 */
export function httpStatusOf(code: string): number {
  const own = (API_STATUS as Record<string, number>)[code] ?? LAYER_STATUS[code]
  if (own !== undefined) return own
  if (code.startsWith('NODE_') || code.startsWith('P2P_')) return 502
  return 500
}

/** Every code with a status of its own, and that status: what the OpenAPI document lists. */
export function documentedStatuses(): Record<string, number> {
  return { ...API_STATUS, ...LAYER_STATUS }
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string }
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } }
}

/** The DA server's codes belong to the API's table. */
export { DaServerErrorCode } from './da-server/errors.ts'
