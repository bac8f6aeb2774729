import { describe, expect, it } from 'vitest'
import { aggregatePublicKeys, decodePublicKey, decodeSignature, negatePublicKey, sign } from '../../src/attest/bls.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { publicKeyOf } from '../../src/attest/keys.ts'
import { blsKeyVerifier, createProofOfPossession, popMessage } from '../../src/attest/pop.ts'
import { Committee } from '../../src/committee/committee.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { peerIdFor } from '../committee/helpers.ts'
import { memberSecretKey, realMember } from './helpers.ts'

/** Compressed encodings with the compression flag and a tiny x: found by probing blst once (see below). */
function point(size: 48 | 96, x: number): Uint8Array {
  const bytes = new Uint8Array(size)
  bytes[0] = 0x80
  bytes[size - 1] = x
  return bytes
}
function infinity(size: 48 | 96): Uint8Array {
  const bytes = new Uint8Array(size)
  bytes[0] = 0xc0
  return bytes
}
// x = 1 is off both curves; x = 4 is on E1 outside G1; x = 2 (c0) is on E2 outside G2.
const G1_OFF_CURVE = point(48, 1)
const G1_NOT_SUBGROUP = point(48, 4)
const G2_OFF_CURVE = point(96, 1)
const G2_NOT_SUBGROUP = point(96, 2)

const code = (c: string) => expect.objectContaining({ code: c })

describe('untrusted points', () => {
  it('public keys: off-curve, infinity, non-subgroup, bad flags and lengths are refused', () => {
    for (const bytes of [G1_OFF_CURVE, G1_NOT_SUBGROUP, infinity(48), new Uint8Array(48), new Uint8Array(47)]) {
      expect(() => decodePublicKey(bytes)).toThrow(code(AttestErrorCode.MALFORMED_KEY))
    }
    expect(() => decodePublicKey(G1_NOT_SUBGROUP)).toThrow(/group/)
    expect(() => decodePublicKey(G1_OFF_CURVE)).toThrow(/curve/)
    expect(() => decodePublicKey(infinity(48))).toThrow(/infinity/)
  })

  it('signatures: off-curve, infinity, non-subgroup, bad lengths are refused', () => {
    for (const bytes of [G2_OFF_CURVE, G2_NOT_SUBGROUP, infinity(96), new Uint8Array(95)]) {
      expect(() => decodeSignature(bytes)).toThrow(code(AttestErrorCode.MALFORMED_SIGNATURE))
    }
    expect(() => decodeSignature(G2_NOT_SUBGROUP)).toThrow(/group/)
  })

  it('a committee refuses members whose key or proof is not a valid point', () => {
    const member = (patch: object) =>
      new Committee(
        { networkId: 1, epoch: 0, members: [realMember(0, 1n), { ...realMember(1, 1n), ...patch }] },
        { verifier: blsKeyVerifier },
      )
    for (const publicKey of [G1_OFF_CURVE, G1_NOT_SUBGROUP, infinity(48)]) {
      expect(() => member({ publicKey })).toThrow(
        expect.objectContaining({ code: CommitteeErrorCode.MALFORMED_KEY, meta: { epoch: 0, member: 1 } }),
      )
    }
    for (const proofOfPossession of [G2_OFF_CURVE, G2_NOT_SUBGROUP, infinity(96)]) {
      expect(() => member({ proofOfPossession })).toThrow(code(CommitteeErrorCode.INVALID_POP))
    }
    expect(
      () =>
        new Committee(
          { networkId: 1, epoch: 0, members: [realMember(0, 1n)], sequencers: [{ publicKey: G1_NOT_SUBGROUP }] },
          { verifier: blsKeyVerifier },
        ),
    ).toThrow(expect.objectContaining({ code: CommitteeErrorCode.MALFORMED_KEY, meta: { epoch: 0, sequencer: 0 } }))
  })
})

describe('rogue-key attack', () => {
  const honest = memberSecretKey('honest')
  const attacker = memberSecretKey('attacker')
  // pk' = pk_attacker - pk_honest: then pk_honest + pk' = pk_attacker, so the attacker alone could sign
  // "for both" — unless a proof of possession of pk' is required, which nobody can make.
  const rogue = aggregatePublicKeys([attacker.toPublicKey(), negatePublicKey(honest.toPublicKey())]).toBytes(true)

  it('builds a working rogue key (the attack is real without proofs of possession)', () => {
    const sum = aggregatePublicKeys([honest.toPublicKey(), decodePublicKey(rogue)])
    expect(Buffer.from(sum.toBytes(true))).toEqual(Buffer.from(publicKeyOf(attacker)))
  })

  it("is refused: the attacker cannot prove possession of pk'", () => {
    const members = (proofOfPossession: Uint8Array) => [
      realMember(0, 10n, 'honest'),
      { peerId: peerIdFor('rogue'), publicKey: rogue, proofOfPossession, stake: 10n },
    ]
    const attempts = [
      sign(attacker, popMessage(rogue)), // the attacker's key over the rogue key's message
      createProofOfPossession(attacker), // a valid proof, but of another key
      realMember(0, 10n, 'honest').proofOfPossession, // a replayed honest proof
    ]
    for (const pop of attempts) {
      expect(
        () => new Committee({ networkId: 1, epoch: 0, members: members(pop) }, { verifier: blsKeyVerifier }),
      ).toThrow(expect.objectContaining({ code: CommitteeErrorCode.INVALID_POP, meta: { epoch: 0, member: 1 } }))
    }
  })
})
