import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for keys, attestations, aggregation and certificates. Tests and callers match on these. */
export const AttestErrorCode = {
  /** Secret key bytes, seed or derivation path are unusable. */
  INVALID_SECRET_KEY: 'ATTEST_INVALID_SECRET_KEY',
  /** A keystore is not EIP-2335 JSON, or its public key does not match its secret. */
  MALFORMED_KEYSTORE: 'ATTEST_MALFORMED_KEYSTORE',
  /** The keystore password is wrong (checksum mismatch). */
  WRONG_PASSWORD: 'ATTEST_WRONG_PASSWORD',
  /** Public key bytes are not a compressed G1 point in the subgroup, or are the point at infinity. */
  MALFORMED_KEY: 'ATTEST_MALFORMED_KEY',
  /** Signature bytes are not a compressed G2 point in the subgroup, or are the point at infinity. */
  MALFORMED_SIGNATURE: 'ATTEST_MALFORMED_SIGNATURE',
  /** A well-formed signature does not verify. */
  INVALID_SIGNATURE: 'ATTEST_INVALID_SIGNATURE',
  /** An attestation or certificate names another network than the committee's. */
  WRONG_NETWORK: 'ATTEST_WRONG_NETWORK',
  /** An attestation or certificate names another epoch than the committee's. */
  WRONG_EPOCH: 'ATTEST_WRONG_EPOCH',
  /** An attestation names another blob than the one being aggregated. */
  WRONG_BLOB: 'ATTEST_WRONG_BLOB',
  /** The signer is not a member of the committee. */
  UNKNOWN_SIGNER: 'ATTEST_UNKNOWN_SIGNER',
  /** The member's attestation was already counted. */
  DUPLICATE_SIGNER: 'ATTEST_DUPLICATE_SIGNER',
  /** An attestation's fields have the wrong types or lengths. */
  MALFORMED_ATTESTATION: 'ATTEST_MALFORMED_ATTESTATION',
  /** Certificate bytes or JSON do not follow the layout (length, version, padding bits, header). */
  MALFORMED_CERTIFICATE: 'ATTEST_MALFORMED_CERTIFICATE',
  /** The signer bitmap does not cover exactly the committee's members. */
  BITMAP_LENGTH_MISMATCH: 'ATTEST_BITMAP_LENGTH_MISMATCH',
  /** The certificate's signed stake is not the sum of its signers' stakes. */
  SIGNED_STAKE_MISMATCH: 'ATTEST_SIGNED_STAKE_MISMATCH',
  /** Signed stake is below the committee's threshold q. */
  INSUFFICIENT_STAKE: 'ATTEST_INSUFFICIENT_STAKE',
  /** The blob header's (k, n) are not safe for the committee: k above kMax(n), or a shape the code lacks. */
  ENCODING_MISMATCH: 'ATTEST_ENCODING_MISMATCH',
  /** An option passed to an attest constructor is out of range. */
  INVALID_OPTIONS: 'ATTEST_INVALID_OPTIONS',
  /** Waiting for the threshold was aborted by the caller's signal. */
  ABORTED: 'ATTEST_ABORTED',
} as const

export type AttestErrorCode = (typeof AttestErrorCode)[keyof typeof AttestErrorCode]

export function attestError(
  code: AttestErrorCode,
  message: string,
  meta?: ErrorMeta,
  options?: ErrorOptions,
): DacnetError<AttestErrorCode> {
  return new DacnetError(code, message, meta, options)
}
