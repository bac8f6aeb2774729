import { describe, expect, it } from 'vitest'
import { secretKeyFromBytes, sign } from '../../src/attest/bls.ts'
import { publicKeyOf } from '../../src/attest/keys.ts'
import { attestationMessage } from '../../src/attest/message.ts'
import {
  blsKeyVerifier,
  createProofOfPossession,
  POP_TAG,
  popMessage,
  verifyProofOfPossession,
} from '../../src/attest/pop.ts'
import { Committee } from '../../src/committee/committee.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import vectors from './fixtures/vectors.json' with { type: 'json' }
import { hex, memberSecretKey, realMember } from './helpers.ts'

const bytes = (h: string) => new Uint8Array(Buffer.from(h.slice(2), 'hex'))

describe('proof of possession', () => {
  it('verifies for its own key only', () => {
    const [a, b] = [memberSecretKey('a'), memberSecretKey('b')]
    const pop = createProofOfPossession(a)
    expect(verifyProofOfPossession(publicKeyOf(a), pop)).toBe(true)
    expect(verifyProofOfPossession(publicKeyOf(b), pop)).toBe(false)
    expect(verifyProofOfPossession(publicKeyOf(a), new Uint8Array(96))).toBe(false)
  })

  it('is domain-separated from attestations: an attestation signature is never a proof', () => {
    const sk = memberSecretKey('a')
    const pk = publicKeyOf(sk)
    // Even an attestation whose blob id bytes start with the key cannot collide: tags and lengths differ.
    const message = attestationMessage({ networkId: 0, epoch: 0, blobId: new Uint8Array([...pk.subarray(0, 36)]) })
    expect(hex(message)).not.toBe(hex(popMessage(pk)))
    expect(verifyProofOfPossession(pk, sign(sk, message))).toBe(false)
    expect(verifyProofOfPossession(pk, sign(sk, pk))).toBe(false) // a bare signature over the key is not one either
  })

  it('batch-checks a committee and names the one bad proof', () => {
    const members = Array.from({ length: 70 }, (_, i) => realMember(i, 1n))
    members[66] = { ...members[66]!, proofOfPossession: members[65]!.proofOfPossession }
    expect(() => new Committee({ networkId: 1, epoch: 0, members }, { verifier: blsKeyVerifier })).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.INVALID_POP, meta: { epoch: 0, member: 66 } }),
    )
    const problems = blsKeyVerifier.checkKeys(members)
    expect(problems.flatMap((p, i) => (p ? [i] : []))).toEqual([66])
  })

  it('matches the protocol vectors', () => {
    expect(Buffer.from(POP_TAG).toString()).toBe('dacnet/proof-of-possession/v1')
    for (const v of vectors.proofsOfPossession) {
      const sk = secretKeyFromBytes(bytes(v.secretKey))
      const pk = publicKeyOf(sk)
      expect(hex(pk)).toBe(v.publicKey)
      expect(hex(new Uint8Array([...POP_TAG, ...pk]))).toBe(v.preimage)
      expect(hex(popMessage(pk))).toBe(v.message)
      expect(hex(createProofOfPossession(sk))).toBe(v.proofOfPossession)
      expect(verifyProofOfPossession(pk, bytes(v.proofOfPossession))).toBe(true)
    }
  })
})
