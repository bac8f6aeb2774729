import { describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { signAttestation } from '../../src/attest/attestation.ts'
import { aggregatePublicKeys } from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { aggregateSigners, committeeKeys } from '../../src/attest/committee-keys.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { type EncodingParams, isSafeEncoding, kMax } from '../../src/committee/params.ts'
import { rng } from '../committee/helpers.ts'
import { headerFor, memberSecretKey, realCommittee, realMember, referenceShape, signedCertificate } from './helpers.ts'

const code = (c: string) => expect.objectContaining({ code: c })

/** A certificate signed by exactly `signers` over a header for `encoding` (the committee's referenceShape unless given). */
function certificateBy(
  committee: Committee,
  signers: number[],
  seed = 'blob',
  encoding: EncodingParams = referenceShape(committee),
): Certificate {
  return signedCertificate(committee, signers, { seed, encoding })
}

describe('verifyCertificate', () => {
  // Stakes 3, 3, 3: q = 2/3 of 9 = 6 exactly.
  const committee = realCommittee([3n, 3n, 3n])

  it('accepts signed stake exactly at the threshold and refuses just below it', () => {
    expect(verifyCertificate(certificateBy(committee, [0, 1]), committee).signedStake).toBe(6n)
    const skewed = realCommittee([3n, 3n, 2n, 1n]) // q = 6: {0, 2, 3} holds exactly 6, {0, 2} holds 5
    expect(verifyCertificate(certificateBy(skewed, [0, 2, 3]), skewed).signers).toEqual([0, 2, 3])
    expect(() => verifyCertificate(certificateBy(skewed, [0, 2]), skewed)).toThrow(
      code(AttestErrorCode.INSUFFICIENT_STAKE),
    )
    const nobody = { ...certificateBy(skewed, [0]), signers: bitmapFromSigners(4, []), signedStake: 0n }
    expect(() => verifyCertificate(nobody, skewed)).toThrow(code(AttestErrorCode.INSUFFICIENT_STAKE))
  })

  it('refuses each kind of mismatch with its own code', () => {
    const good = certificateBy(committee, [0, 1])
    const otherNetwork = realCommittee([3n, 3n, 3n], { networkId: 2 })
    const otherEpoch = realCommittee([3n, 3n, 3n], { epoch: 1 })
    // Same members and q, but f = 1/2: q - f = 1/6 and kMax(128) = 21 - 2 = 19, below the header's k = 40.
    const stricter = realCommittee([3n, 3n, 3n], { adversary: { num: 1n, den: 2n } })
    const fourMembers = realCommittee([30n, 30n, 30n, 1n])
    expect(good.header).toMatchObject({ k: 40, n: 128 })
    expect(() => verifyCertificate(good, otherNetwork)).toThrow(code(AttestErrorCode.WRONG_NETWORK))
    expect(() => verifyCertificate(good, otherEpoch)).toThrow(code(AttestErrorCode.WRONG_EPOCH))
    expect(() => verifyCertificate(good, stricter)).toThrow(code(AttestErrorCode.ENCODING_MISMATCH))
    // The committee's own shape policy plays no part: with a fixed n of 64 (so the policy never gives 128) the
    // header is still safe.
    const fixedN = realCommittee([3n, 3n, 3n], { totalShards: 64 })
    expect(fixedN.shapeFor(good.header.dataSize)).toEqual({ k: 19, n: 64 })
    expect(verifyCertificate(good, fixedN).signers).toEqual([0, 1])
    // (39, 128) is safe for three members and for four: only the bitmap length differs.
    const safeForBoth = certificateBy(committee, [0, 1], 'blob', { k: 39, n: 128 })
    expect(isSafeEncoding(fourMembers, 39, 128)).toBe(true)
    expect(verifyCertificate(safeForBoth, committee).signers).toEqual([0, 1])
    expect(() => verifyCertificate(good, fourMembers)).toThrow(code(AttestErrorCode.ENCODING_MISMATCH))
    expect(() => verifyCertificate(safeForBoth, fourMembers)).toThrow(code(AttestErrorCode.BITMAP_LENGTH_MISMATCH))
    expect(() => verifyCertificate({ ...good, signedStake: 9n }, committee)).toThrow(
      code(AttestErrorCode.SIGNED_STAKE_MISMATCH),
    )
    // A signer bit without that member's signature, or a signature over another blob.
    expect(() =>
      verifyCertificate({ ...good, signers: bitmapFromSigners(3, [0, 1, 2]), signedStake: 9n }, committee),
    ).toThrow(code(AttestErrorCode.INVALID_SIGNATURE))
    const otherBlob = certificateBy(committee, [0, 1], 'other')
    expect(() => verifyCertificate({ ...good, signature: otherBlob.signature }, committee)).toThrow(
      code(AttestErrorCode.INVALID_SIGNATURE),
    )
    const infinity = new Uint8Array(96)
    infinity[0] = 0xc0
    expect(() => verifyCertificate({ ...good, signature: infinity }, committee)).toThrow(
      code(AttestErrorCode.MALFORMED_SIGNATURE),
    )
    expect(() => verifyCertificate({ ...good, signers: new Uint8Array([0x0b]) }, committee)).toThrow(
      code(AttestErrorCode.MALFORMED_CERTIFICATE),
    )
  })

  it('accepts every safe (k, n) and refuses k = kMax(n) + 1 or a shape the code lacks', () => {
    // The vector committee of epoch 0: four members, q - f = 1/3, the vector header's shape (39, 128), and the
    // policy's shapes for a small and a large blob.
    const four = realCommittee([32n, 32n, 16n, 8n])
    expect(referenceShape(four)).toEqual({ k: 39, n: 128 })
    for (const n of [128, 100, 1000, four.shapeFor(0).n, four.shapeFor(32 << 20).n]) {
      const max = kMax(four, n)
      for (const k of [max, Math.ceil(max / 2), 1]) {
        const certificate = certificateBy(four, [0, 1, 3], `k=${k} n=${n}`, { k, n })
        expect(verifyCertificate(certificate, four).signedStake, `k=${k} n=${n}`).toBe(72n)
      }
      const over = certificateBy(four, [0, 1, 3], `over ${n}`, { k: max + 1, n })
      expect(() => verifyCertificate(over, four)).toThrow(
        expect.objectContaining({
          code: AttestErrorCode.ENCODING_MISMATCH,
          message: expect.stringContaining(`k=${max + 1} exceeds kMax(${n}) = ${max}`),
        }),
      )
    }
    // kMax(65536) = 21842, but (20000, 45536) is not a shape of the code: 32768 + 45536 > 65536.
    const unsupported = certificateBy(four, [0, 1, 3], 'shape', { k: 20000, n: 65536 })
    expect(() => verifyCertificate(unsupported, four)).toThrow(
      expect.objectContaining({
        code: AttestErrorCode.ENCODING_MISMATCH,
        message: expect.stringContaining('not a shape'),
      }),
    )
  })

  it('fast path (all members minus non-signers) equals summing the signers', async () => {
    const members = Array.from({ length: 24 }, (_, i) => realMember(i, BigInt(1 + (i % 5))))
    const big = realCommittee([], { members })
    const keys = committeeKeys(big)
    expect(committeeKeys(big)).toBe(keys) // cached per committee
    const next = rng(24)
    for (let trial = 0; trial < 30; trial++) {
      const signers = Array.from({ length: 24 }, (_, i) => i).filter(() => next() < 0.3 + trial / 40)
      if (signers.length === 0) continue
      const direct = aggregatePublicKeys(signers.map((i) => keys.publicKeys[i]!)).toBytes(true)
      expect(Buffer.from(aggregateSigners(keys, signers).toBytes(true))).toEqual(Buffer.from(direct))
      if (big.reachesThreshold(signers.reduce((s, i) => s + big.members[i]!.stake, 0n))) {
        expect(verifyCertificate(certificateBy(big, signers), big).signers).toEqual(signers)
      }
    }
  })

  it('verifies what the aggregator produced for a 100-member committee', async () => {
    const big = realCommittee(Array.from({ length: 100 }, (_, i) => BigInt(1 + i)))
    const header = headerFor(big)
    const aggregator = new Aggregator({ committee: big, header })
    const context = attestationContextOf(header)
    await Promise.all(big.members.map((m) => aggregator.add(signAttestation(memberSecretKey(m.index), context))))
    const certificate = await aggregator.wait()
    expect(verifyCertificate(certificate, big).signedStake).toBe(big.totalStake)
  })
})
