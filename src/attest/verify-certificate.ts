import type { Committee } from '../committee/committee.ts'
import { kMax, unsafeEncoding } from '../committee/params.ts'
import type { BlobId } from '../erasure/blob-id.ts'
import { decodeSignature, verify } from './bls.ts'
import { type Certificate, certificateBlobId, certificateSigners, checkCertificateShape } from './certificate.ts'
import { aggregateSigners, committeeKeys } from './committee-keys.ts'
import { AttestErrorCode, attestError } from './errors.ts'
import { attestationMessage } from './message.ts'

/** What a valid certificate establishes. */
export interface VerifiedCertificate {
  readonly blobId: BlobId
  /** Member indices that signed, ascending. */
  readonly signers: readonly number[]
  readonly signedStake: bigint
}

/**
 * Checks a certificate against the committee of its epoch, cheapest checks first, and throws a typed
 * error for the first failure: layout (MALFORMED_CERTIFICATE), network (WRONG_NETWORK), epoch
 * (WRONG_EPOCH), (k, n) safe for the committee (ENCODING_MISMATCH), bitmap length (BITMAP_LENGTH_MISMATCH),
 * stake sum (SIGNED_STAKE_MISMATCH), threshold (INSUFFICIENT_STAKE), signature encoding (MALFORMED_SIGNATURE)
 * and finally the pairing (INVALID_SIGNATURE).
 *
 * The aggregate key comes from a per-committee cache: the sum of all members minus the non-signers, so a
 * certificate that nearly everyone signed costs a handful of point additions plus one pairing check.
 */
export function verifyCertificate(certificate: Certificate, committee: Committee): VerifiedCertificate {
  checkCertificateShape(certificate)
  const { header } = certificate
  if (header.networkId !== committee.networkId) {
    throw attestError(AttestErrorCode.WRONG_NETWORK, `certificate is for network ${header.networkId}`, {
      networkId: header.networkId,
      expected: committee.networkId,
    })
  }
  if (certificate.epoch !== committee.epoch) {
    throw attestError(AttestErrorCode.WRONG_EPOCH, `certificate is for epoch ${certificate.epoch}`, {
      epoch: certificate.epoch,
      expected: committee.epoch,
    })
  }
  // A certificate means "recoverable" only when the honest signers must hold k shards: (k, n) must be safe for
  // the committee (PROTOCOL.md §2.3), the rule the L1 verifier checks too. Which safe (k, n) the disperser chose
  // (today the shape per blob size, §2.3) is dispersal policy and no part of what a certificate means.
  const unsafe = unsafeEncoding(committee, header.k, header.n)
  if (unsafe !== undefined) {
    throw attestError(
      AttestErrorCode.ENCODING_MISMATCH,
      `blob encoding is not safe for epoch ${committee.epoch}: ${unsafe}`,
      {
        k: header.k,
        n: header.n,
        kMax: kMax(committee, header.n),
      },
    )
  }
  if (certificate.memberCount !== committee.size) {
    throw attestError(
      AttestErrorCode.BITMAP_LENGTH_MISMATCH,
      `bitmap covers ${certificate.memberCount} members, the committee has ${committee.size}`,
      { memberCount: certificate.memberCount, expected: committee.size },
    )
  }
  const signers = certificateSigners(certificate)
  const stake = signers.reduce((sum, i) => sum + committee.members[i]!.stake, 0n)
  if (stake !== certificate.signedStake) {
    throw attestError(
      AttestErrorCode.SIGNED_STAKE_MISMATCH,
      `signers hold ${stake}, certificate claims ${certificate.signedStake}`,
      {
        claimed: certificate.signedStake.toString(),
        actual: stake.toString(),
      },
    )
  }
  if (signers.length === 0 || !committee.reachesThreshold(stake)) {
    throw attestError(
      AttestErrorCode.INSUFFICIENT_STAKE,
      `signed stake ${stake} of ${committee.totalStake} is below the threshold`,
      {
        signedStake: stake.toString(),
        totalStake: committee.totalStake.toString(),
      },
    )
  }
  const signature = decodeSignature(certificate.signature)
  const blobId = certificateBlobId(certificate)
  const message = attestationMessage({ networkId: header.networkId, epoch: certificate.epoch, blobId: blobId.bytes })
  if (!verify(message, aggregateSigners(committeeKeys(committee), signers), signature)) {
    throw attestError(AttestErrorCode.INVALID_SIGNATURE, 'certificate aggregate signature does not verify', {
      signers: signers.length,
    })
  }
  return { blobId, signers, signedStake: stake }
}
