/**
 * Interoperability with a second, independent BLS12-381 implementation (@noble/curves, pure TypeScript)
 * using the standard Ethereum DST: what dacnet signs noble verifies, and what noble signs dacnet verifies.
 */
import { createHash } from 'node:crypto'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { signAttestation } from '../../src/attest/attestation.ts'
import { SIGNATURE_DST } from '../../src/attest/bls.ts'
import { certificateSigners } from '../../src/attest/certificate.ts'
import { decodeCertificate, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { attestationContextOf, attestationMessage } from '../../src/attest/message.ts'
import { blsKeyVerifier, popMessage, verifyProofOfPossession } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { Committee } from '../../src/committee/committee.ts'
import { peerIdFor } from '../committee/helpers.ts'
import { headerFor, memberSecretKey, realCommittee } from './helpers.ts'

const noble = bls12_381.longSignatures // min-pk: keys in G1, signatures in G2
const DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'

describe('interop with @noble/curves', () => {
  it('uses the standard Ethereum signature DST', () => {
    expect(SIGNATURE_DST).toBe(DST)
  })

  it('a dacnet certificate and proofs of possession verify with noble', async () => {
    const committee = realCommittee(Array.from({ length: 7 }, (_, i) => BigInt(10 + i)))
    const header = headerFor(committee, 'interop')
    const context = attestationContextOf(header)
    const aggregator = new Aggregator({ committee, header })
    await Promise.all([0, 2, 3, 4, 6].map((i) => aggregator.add(signAttestation(memberSecretKey(i), context))))
    const certificate = decodeCertificate(encodeCertificate(await aggregator.wait()))

    const signers = certificateSigners(certificate)
    const publicKey = noble.aggregatePublicKeys(signers.map((i) => committee.members[i]!.publicKey))
    const message = noble.hash(attestationMessage(context), DST)
    expect(noble.verify(certificate.signature, message, publicKey)).toBe(true)
    // Leaving a signer out (or using another message) fails, so the check is not vacuous.
    const fewer = noble.aggregatePublicKeys(signers.slice(1).map((i) => committee.members[i]!.publicKey))
    expect(noble.verify(certificate.signature, message, fewer)).toBe(false)
    for (const m of committee.members.slice(0, 3)) {
      expect(noble.verify(m.proofOfPossession, noble.hash(popMessage(m.publicKey), DST), m.publicKey)).toBe(true)
    }
  })

  it('a noble-made committee and certificate verify in dacnet', () => {
    const keys = [0, 1, 2, 3].map((i) =>
      noble.keygen(new Uint8Array(createHash('sha512').update(`noble member ${i}`).digest()).subarray(0, 48)),
    )
    const members = keys.map(({ secretKey, publicKey }, i) => {
      const pk = publicKey.toBytes(true)
      const pop = noble.Signature.toBytes(noble.sign(noble.hash(popMessage(pk), DST), secretKey))
      return { peerId: peerIdFor(`noble ${i}`), publicKey: pk, proofOfPossession: pop, stake: 25n }
    })
    // dacnet's production verifier accepts noble's proofs of possession.
    const committee = new Committee({ networkId: 1, epoch: 0, members }, { verifier: blsKeyVerifier })
    expect(members.every((m) => verifyProofOfPossession(m.publicKey, m.proofOfPossession))).toBe(true)

    const header = headerFor(committee, 'noble')
    const message = noble.hash(attestationMessage(attestationContextOf(header)), DST)
    const signers = [0, 1, 3]
    const signature = noble.aggregateSignatures(signers.map((i) => noble.sign(message, keys[i]!.secretKey)))
    const certificate = {
      version: 1,
      epoch: 0,
      header,
      memberCount: 4,
      signers: new Uint8Array([0b1011]),
      signature: noble.Signature.toBytes(signature),
      signedStake: 75n,
    }
    expect(verifyCertificate(certificate, committee).signers).toEqual(signers)
    expect(verifyCertificate(decodeCertificate(encodeCertificate(certificate)), committee).signedStake).toBe(75n)
  })
})
