import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for everything the committee registry refuses. Tests and callers match on these. */
export const CommitteeErrorCode = {
  /** The committee file is not JSON of the documented shape (wrong type, unknown or missing field). */
  MALFORMED_FILE: 'COMMITTEE_MALFORMED_FILE',
  /** The committee file's `version` is not one this implementation reads. */
  UNSUPPORTED_VERSION: 'COMMITTEE_UNSUPPORTED_VERSION',
  /** The committee file could not be read (or, in the browser, fetched from the page's server). */
  READ_FAILED: 'COMMITTEE_READ_FAILED',
  /** Network id is not a u32, or a source returned a committee of another network. */
  INVALID_NETWORK_ID: 'COMMITTEE_INVALID_NETWORK_ID',
  /** Epoch is not a non-negative safe integer. */
  INVALID_EPOCH: 'COMMITTEE_INVALID_EPOCH',
  /** The same epoch appears twice in one file. */
  DUPLICATE_EPOCH: 'COMMITTEE_DUPLICATE_EPOCH',
  /** No committee is registered for the requested epoch. */
  UNKNOWN_EPOCH: 'COMMITTEE_UNKNOWN_EPOCH',
  /** An epoch has no members, or more than MAX_MEMBERS. */
  INVALID_MEMBER_COUNT: 'COMMITTEE_INVALID_MEMBER_COUNT',
  /** Two members (or two sequencers) share a peer id. */
  DUPLICATE_PEER_ID: 'COMMITTEE_DUPLICATE_PEER_ID',
  /** Two members (or two sequencers) share a BLS public key. */
  DUPLICATE_PUBLIC_KEY: 'COMMITTEE_DUPLICATE_PUBLIC_KEY',
  /**
   * One member's BLS public key is another's negation (same x, opposite y): the two keys sum to the point at
   * infinity, so a certificate could count both members without either signing.
   */
  NEGATED_PUBLIC_KEY: 'COMMITTEE_NEGATED_PUBLIC_KEY',
  /** A peer id is not a libp2p peer id (base58btc multihash or CIDv1 libp2p-key). */
  INVALID_PEER_ID: 'COMMITTEE_INVALID_PEER_ID',
  /** A multiaddr is not a textual multiaddr. */
  INVALID_MULTIADDR: 'COMMITTEE_INVALID_MULTIADDR',
  /** A public key is not 48 bytes of hex, not on the curve, infinity, or outside the G1 subgroup. */
  MALFORMED_KEY: 'COMMITTEE_MALFORMED_KEY',
  /** A proof of possession is malformed or does not verify against its public key. */
  INVALID_POP: 'COMMITTEE_INVALID_POP',
  /** A stake is not a positive integer, or the total stake does not fit in a u256. */
  INVALID_STAKE: 'COMMITTEE_INVALID_STAKE',
  /** A threshold or adversary bound is not a fraction in range. */
  INVALID_THRESHOLD: 'COMMITTEE_INVALID_THRESHOLD',
  /** The signing threshold q is not above the adversary bound f: a certificate would prove nothing. */
  THRESHOLD_NOT_ABOVE_ADVERSARY: 'COMMITTEE_THRESHOLD_NOT_ABOVE_ADVERSARY',
  /** A sequencer entry has neither peer id nor public key. */
  INVALID_SEQUENCER: 'COMMITTEE_INVALID_SEQUENCER',
  /** Retention is not a positive safe integer number of seconds. */
  INVALID_RETENTION: 'COMMITTEE_INVALID_RETENTION',
  /** The requested or derived shard count is out of range, or no n <= 65536 gives k >= 1. */
  ENCODING_UNSATISFIABLE: 'COMMITTEE_ENCODING_UNSATISFIABLE',
  /** A blob size handed to the shape policy is not a non-negative safe integer. */
  INVALID_DATA_SIZE: 'COMMITTEE_INVALID_DATA_SIZE',
  /** The n handed to the assignment is not an integer in 1..65536. */
  INVALID_SHARD_COUNT: 'COMMITTEE_INVALID_SHARD_COUNT',
  /** A blob id handed to the assignment is not 36 bytes. */
  INVALID_BLOB_ID: 'COMMITTEE_INVALID_BLOB_ID',
  /** A shard or member index is outside the assignment. */
  INDEX_OUT_OF_RANGE: 'COMMITTEE_INDEX_OUT_OF_RANGE',
} as const

export type CommitteeErrorCode = (typeof CommitteeErrorCode)[keyof typeof CommitteeErrorCode]

export function committeeError(
  code: CommitteeErrorCode,
  message: string,
  meta?: ErrorMeta,
  options?: ErrorOptions,
): DacnetError<CommitteeErrorCode> {
  return new DacnetError(code, message, meta, options)
}
