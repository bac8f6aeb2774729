import { DacnetError, type ErrorMeta } from '../../errors.ts'

/**
 * Stable codes of the Alt-DA server (`dacnet da-server`, docs/DA-SERVER.md). They belong to the HTTP API
 * family (prefix `API_DA_`); every other code the server answers with is a node API or lower-layer code.
 */
export const DaServerErrorCode = {
  /** The commitment in GET /get/<hex> is not 0x-prefixed hex, or its bytes are not a dacnet commitment layout. */
  MALFORMED_COMMITMENT: 'API_DA_MALFORMED_COMMITMENT',
  /** A well-formed Alt-DA commitment of another kind: keccak256 (type 0), or another DA layer's byte. */
  UNSUPPORTED_COMMITMENT: 'API_DA_UNSUPPORTED_COMMITMENT',
  /** The commitment's certificate decodes but does not verify against the committee of its epoch. */
  CERTIFICATE_INVALID: 'API_DA_CERTIFICATE_INVALID',
  /** The certified blob is not there: fewer than k of its shards are held by the members that answered. */
  NOT_FOUND: 'API_DA_NOT_FOUND',
  /**
   * The certified blob could not be retrieved now: members holding enough of its shards to make k could not be
   * reached (down, timed out, busy). Retry: a 404 would tell op-node the data is gone, which past the challenge
   * window halts its derivation.
   */
  UNREACHABLE: 'API_DA_UNREACHABLE',
  /** The certified blob decodes to a provable BadEncoding verdict: there are no bytes to return. */
  BAD_ENCODING: 'API_DA_BAD_ENCODING',
  /** POST /put with an empty body: there is nothing to disperse. */
  EMPTY_BODY: 'API_DA_EMPTY_BODY',
  /** POST /put/<commitment>: this server makes its commitments itself (after dispersal), it takes none. */
  PRECOMPUTED_COMMITMENT: 'API_DA_PRECOMPUTED_COMMITMENT',
  /** Every dispersal slot is taken; retry after the Retry-After header's seconds. */
  BUSY: 'API_DA_BUSY',
  /** The server is not connected to any member of the committee in force. */
  UNHEALTHY: 'API_DA_UNHEALTHY',
} as const

export type DaServerErrorCode = (typeof DaServerErrorCode)[keyof typeof DaServerErrorCode]

export function daServerError(code: DaServerErrorCode, message: string, meta?: ErrorMeta): DacnetError {
  return new DacnetError(code, message, meta)
}

/**
 * HTTP status of each code. 503 is kept for "the DA layer is down" (op-batcher then falls back to Ethereum DA
 * when configured to), so a full server answers 429; 404 is op-node's "not found" (derivation waits for a
 * challenge); a certificate that does not verify is 422, never 418 (op-node reads 418 as EigenDA's "drop this
 * commitment", see docs/DA-SERVER.md).
 */
const DA_STATUS: Record<DaServerErrorCode, number> = {
  API_DA_MALFORMED_COMMITMENT: 400,
  API_DA_UNSUPPORTED_COMMITMENT: 400,
  API_DA_CERTIFICATE_INVALID: 422,
  API_DA_NOT_FOUND: 404,
  API_DA_UNREACHABLE: 503,
  API_DA_BAD_ENCODING: 422,
  API_DA_EMPTY_BODY: 400,
  API_DA_PRECOMPUTED_COMMITMENT: 400,
  API_DA_BUSY: 429,
  API_DA_UNHEALTHY: 503,
}

/** The status of a DA-server code; undefined for any other code. */
export function daServerStatusOf(code: string): number | undefined {
  return (DA_STATUS as Record<string, number>)[code]
}
