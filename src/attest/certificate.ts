import { MAX_MEMBERS } from '../committee/validate.ts'
import { type BlobId, blobIdOf } from '../erasure/blob-id.ts'
import { type BlobHeader, encodeHeader } from '../erasure/header.ts'
import { SIGNATURE_SIZE } from './bls.ts'
import { AttestErrorCode, attestError } from './errors.ts'
import { bitmapSize, checkBitmap, signersOf } from './signer-bitmap.ts'

/** The only certificate layout so far; a new layout gets a new version. */
export const CERTIFICATE_VERSION = 1
/** Signed stake is written as a u256, the width an L1 staking contract uses. */
export const MAX_SIGNED_STAKE = 2n ** 256n - 1n

/**
 * Proof that members holding at least q of an epoch's stake attest to storing their shards of a blob: the
 * blob header, the signers (bitmap over the committee's member order), their aggregate BLS signature over
 * the attestation message, and the stake they hold. Checked with `verifyCertificate`.
 */
export interface Certificate {
  readonly version: number
  /** Committee epoch; equals header.epoch in version 1. */
  readonly epoch: number
  readonly header: BlobHeader
  /** Members in the committee: the bitmap's bit length. */
  readonly memberCount: number
  /** ceil(memberCount / 8) bytes, member i at bit (i mod 8) of byte floor(i / 8). */
  readonly signers: Uint8Array
  /** 96-byte compressed G2 aggregate signature. */
  readonly signature: Uint8Array
  readonly signedStake: bigint
}

export function certificateBlobId(certificate: Certificate): BlobId {
  return blobIdOf(encodeHeader(certificate.header))
}

export function certificateSigners(certificate: Certificate): number[] {
  return signersOf(certificate.signers, certificate.memberCount)
}

/** Structural checks shared by both decoders and by verifyCertificate (which may get hand-built objects). */
export function checkCertificateShape(c: Certificate): void {
  const bad = (why: string) => attestError(AttestErrorCode.MALFORMED_CERTIFICATE, `certificate ${why}`)
  if (c.version !== CERTIFICATE_VERSION) throw bad(`version ${c.version} is not ${CERTIFICATE_VERSION}`)
  if (!Number.isSafeInteger(c.epoch) || c.epoch < 0) throw bad(`epoch ${c.epoch} is not a u64`)
  try {
    encodeHeader(c.header) // validates every header field
  } catch (err) {
    throw attestError(
      AttestErrorCode.MALFORMED_CERTIFICATE,
      `certificate header: ${(err as Error).message}`,
      {},
      { cause: err },
    )
  }
  if (c.header.epoch !== c.epoch) throw bad(`epoch ${c.epoch} differs from its header's epoch ${c.header.epoch}`)
  if (!Number.isInteger(c.memberCount) || c.memberCount < 1 || c.memberCount > MAX_MEMBERS) {
    throw bad(`member count ${c.memberCount} is outside 1..${MAX_MEMBERS}`)
  }
  if (!(c.signers instanceof Uint8Array) || c.signers.length !== bitmapSize(c.memberCount)) {
    throw bad(`bitmap must be ${bitmapSize(c.memberCount)} bytes for ${c.memberCount} members`)
  }
  checkBitmap(c.signers, c.memberCount)
  if (!(c.signature instanceof Uint8Array) || c.signature.length !== SIGNATURE_SIZE) {
    throw bad(`signature must be ${SIGNATURE_SIZE} bytes`)
  }
  if (typeof c.signedStake !== 'bigint' || c.signedStake < 0n || c.signedStake > MAX_SIGNED_STAKE) {
    throw bad('signed stake must be a u256')
  }
}
