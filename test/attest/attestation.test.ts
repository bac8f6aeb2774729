import { describe, expect, it } from 'vitest'
import { attestationSignature, signAttestation, verifyAttestation } from '../../src/attest/attestation.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { headerFor, memberSecretKey, realCommittee } from './helpers.ts'

describe('a single attestation', () => {
  const committee = realCommittee([1n, 1n, 1n])
  const context = attestationContextOf(headerFor(committee))

  it('verifies for its member and context only', () => {
    const attestation = signAttestation(memberSecretKey(2), context)
    expect(verifyAttestation(attestation, committee, context).index).toBe(2)
    const code = (c: string) => expect.objectContaining({ code: c })
    const other = attestationContextOf(headerFor(committee, 'other'))
    expect(() => verifyAttestation(attestation, committee, other)).toThrow(code(AttestErrorCode.WRONG_BLOB))
    expect(() => verifyAttestation({ ...attestation, blobId: other.blobId }, committee, other)).toThrow(
      code(AttestErrorCode.INVALID_SIGNATURE),
    )
    expect(() => verifyAttestation(signAttestation(memberSecretKey(9), context), committee, context)).toThrow(
      code(AttestErrorCode.UNKNOWN_SIGNER),
    )
    expect(() => verifyAttestation(attestation, realCommittee([1n, 1n, 1n], { epoch: 5 }), context)).toThrow(
      code(AttestErrorCode.WRONG_EPOCH),
    )
  })

  it('the signature a member returns alone is the attestation’s, and verifies as one', () => {
    const signature = attestationSignature(memberSecretKey(1), context)
    const attestation = signAttestation(memberSecretKey(1), context)
    expect(signature).toEqual(attestation.signature)
    expect(verifyAttestation({ ...attestation, signature }, committee, context).index).toBe(1)
    expect(attestationSignature(memberSecretKey(1), attestationContextOf(headerFor(committee, 'other')))).not.toEqual(
      signature,
    )
  })
})
