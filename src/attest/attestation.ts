import type { Committee } from '../committee/committee.ts'
import type { Member } from '../committee/member.ts'
import { BLOB_ID_SIZE } from '../erasure/blob-id.ts'
import { bytesEqual } from '../erasure/merkle.ts'
import { decodeSignature, PUBLIC_KEY_SIZE, type SecretKey, SIGNATURE_SIZE, sign, verify } from './bls.ts'
import { committeeKeys } from './committee-keys.ts'
import { AttestErrorCode, attestError } from './errors.ts'
import { publicKeyOf } from './keys.ts'
import { type AttestationContext, attestationMessage, checkContext } from './message.ts'

/** A member's signed statement that it durably stores its shards of one blob. */
export interface Attestation {
  readonly networkId: number
  readonly epoch: number
  /** The blob id's 36 CID bytes. */
  readonly blobId: Uint8Array
  /** The signer's 48-byte compressed key: it names the member. */
  readonly publicKey: Uint8Array
  /** 96-byte compressed signature over attestationMessage(networkId, epoch, blobId). */
  readonly signature: Uint8Array
}

export function signAttestation(secretKey: SecretKey, context: AttestationContext): Attestation {
  return {
    networkId: context.networkId,
    epoch: context.epoch,
    blobId: new Uint8Array(context.blobId),
    publicKey: publicKeyOf(secretKey),
    signature: attestationSignature(secretKey, context),
  }
}

/**
 * The 96-byte signature of an attestation alone: what a member that knows its own key returns for each store,
 * without deriving the public key from the secret one again (a G1 multiplication, ~0.15 ms).
 */
export function attestationSignature(secretKey: SecretKey, context: AttestationContext): Uint8Array {
  return sign(secretKey, attestationMessage(context))
}

/**
 * Checks a single attestation against a committee and the blob it should be about, returning the member.
 * The message is rebuilt from `expected`, never from the attestation's own fields, so a signature made
 * for another network, epoch or blob cannot pass. (The Aggregator does the same checks, batched.)
 */
export function verifyAttestation(
  attestation: Attestation,
  committee: Committee,
  expected: AttestationContext,
): Member {
  const member = checkAttestation(attestation, committee, expected)
  const signature = decodeSignature(attestation.signature)
  const publicKey = committeeKeys(committee).publicKeys[member.index]!
  if (!verify(attestationMessage(expected), publicKey, signature)) {
    throw attestError(AttestErrorCode.INVALID_SIGNATURE, `member ${member.index}'s attestation does not verify`, {
      member: member.index,
    })
  }
  return member
}

/** The cheap checks (shape, context, membership), without the pairing. Returns the signing member. */
export function checkAttestation(attestation: Attestation, committee: Committee, expected: AttestationContext): Member {
  checkShape(attestation)
  checkContext(expected)
  if (expected.networkId !== committee.networkId || attestation.networkId !== expected.networkId) {
    throw attestError(AttestErrorCode.WRONG_NETWORK, `attestation is for network ${attestation.networkId}`, {
      networkId: attestation.networkId,
      expected: committee.networkId,
    })
  }
  if (expected.epoch !== committee.epoch || attestation.epoch !== expected.epoch) {
    throw attestError(AttestErrorCode.WRONG_EPOCH, `attestation is for epoch ${attestation.epoch}`, {
      epoch: attestation.epoch,
      expected: committee.epoch,
    })
  }
  if (!bytesEqual(attestation.blobId, expected.blobId)) {
    throw attestError(AttestErrorCode.WRONG_BLOB, 'attestation is for another blob')
  }
  const member = committee.memberByPublicKey(attestation.publicKey)
  if (!member) throw attestError(AttestErrorCode.UNKNOWN_SIGNER, 'attestation signer is not a committee member')
  return member
}

function checkShape(a: Attestation): void {
  const ok =
    typeof a === 'object' &&
    a !== null &&
    Number.isInteger(a.networkId) &&
    Number.isSafeInteger(a.epoch) &&
    a.blobId instanceof Uint8Array &&
    a.blobId.length === BLOB_ID_SIZE &&
    a.publicKey instanceof Uint8Array &&
    a.publicKey.length === PUBLIC_KEY_SIZE &&
    a.signature instanceof Uint8Array &&
    a.signature.length === SIGNATURE_SIZE
  if (!ok) throw attestError(AttestErrorCode.MALFORMED_ATTESTATION, 'attestation fields have wrong types or lengths')
}
