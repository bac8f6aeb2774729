import { readFileSync } from 'node:fs'
import { bls12_381, bls12_381_Fr } from '@noble/curves/bls12-381.js'
import { describe, expect, it } from 'vitest'
import {
  aggregatePublicKeys,
  publicKeyCoordinates,
  publicKeyFromCoordinates,
  secretKeyFromBytes,
} from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { aggregateSigners, committeeKeys } from '../../src/attest/committee-keys.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { publicKeyOf } from '../../src/attest/keys.ts'
import { blsKeyVerifier, createProofOfPossession } from '../../src/attest/pop.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { ChainErrorCode } from '../../src/chain/errors.ts'
import { multiproof } from '../../src/chain/member-tree.ts'
import {
  checkOnchainCertificate,
  decodeOnchainCertificate,
  encodeOnchainCertificate,
  OnchainCheckReason,
  WITNESS_FIXED_SIZE,
} from '../../src/chain/onchain-certificate.ts'
import { negateG1Coordinates, signatureY, uintFromBytes, uintToBytes } from '../../src/chain/points.ts'
import {
  committeeSummary,
  committeeTree,
  decodeCommitteeSummary,
  SUMMARY_SIZE,
  summaryHash,
} from '../../src/chain/summary.ts'
import { Committee } from '../../src/committee/committee.ts'
import { isSafeEncoding, kMax } from '../../src/committee/params.ts'
import { memberSecretKey, realCommittee, realMember } from '../attest/helpers.ts'
import { peerIdFor, rng } from '../committee/helpers.ts'
import { certificateBy, onchainVector, protocolBlock, safeEncoding, vectorCommittee } from './fixtures/generate.ts'

const code = (c: string) => expect.objectContaining({ code: c })
const R = OnchainCheckReason

const small = vectorCommittee() // 4 members: 32, 32, 16, 8 (·10^18)
const smallEncoding = safeEncoding(small)
const one = realCommittee([5n])
const hundred = realCommittee(Array.from({ length: 100 }, (_, i) => BigInt(1 + ((i * 7919) % 50))))
const random = rng(2025)
const hundredAbsent = new Set<number>()
while (hundredAbsent.size < 30) hundredAbsent.add(Math.floor(random() * 100))
const hundredSigners = Array.from({ length: 100 }, (_, i) => i).filter((i) => !hundredAbsent.has(i))

function form(committee: Committee, signers: number[], seed = 'onchain', recordIndex = 0) {
  const certificate = certificateBy(committee, signers, safeEncoding(committee), seed)
  return { certificate, bytes: encodeOnchainCertificate(certificate, committee, { recordIndex }) }
}

function flipped(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice()
  out[bit >> 3]! ^= 1 << (bit & 7)
  return out
}

const valid: { name: string; committee: Committee; signers: number[] }[] = [
  { name: 'all of 4 signing', committee: small, signers: [0, 1, 2, 3] },
  { name: '3 of 4 signing', committee: small, signers: [0, 1, 3] },
  { name: 'one member', committee: one, signers: [0] },
  { name: '100 members, 30 absent', committee: hundred, signers: hundredSigners },
]

describe('committee summary', () => {
  it('lays out m, S, the members root, the aggregate of all keys and the reduced thresholds', () => {
    const summary = committeeSummary(small)
    expect(summary).toHaveLength(SUMMARY_SIZE)
    const view = new DataView(summary.buffer)
    expect(view.getUint32(0)).toBe(4)
    expect(uintFromBytes(summary.subarray(4, 36))).toBe(88n * 10n ** 18n)
    const noble = bls12_381.G1.Point
    const sum = small.members.map((m) => noble.fromBytes(m.publicKey)).reduce((a, b) => a.add(b))
    const { x, y } = sum.toAffine()
    expect(summary.subarray(68, 164)).toEqual(new Uint8Array([...uintToBytes(x, 48), ...uintToBytes(y, 48)]))
    expect([0, 1, 2, 3].map((i) => view.getBigUint64(164 + 8 * i))).toEqual([2n, 3n, 1n, 3n])
    expect(decodeCommitteeSummary(summary).membersRoot).toEqual(committeeTree(small).summary.membersRoot)
    expect(summaryHash(summary)).toEqual(committeeTree(small).summaryHash)

    const reduced = realCommittee([1n, 2n], { threshold: { num: 4n, den: 6n }, adversary: { num: 0n, den: 5n } })
    const thresholds = new DataView(committeeSummary(reduced).buffer, 164)
    expect([0, 1, 2, 3].map((i) => thresholds.getBigUint64(8 * i))).toEqual([2n, 3n, 0n, 1n])
  })

  it('is computed once per committee object', () => {
    expect(committeeTree(hundred)).toBe(committeeTree(hundred))
    const first = committeeSummary(hundred)
    first.fill(0)
    expect(committeeSummary(hundred)).toEqual(committeeTree(hundred).summaryBytes)
    expect(committeeSummary(hundred)).not.toEqual(first)
  })

  it('refuses thresholds that a u64 cannot hold', () => {
    const big = realCommittee([1n], { threshold: { num: 2n ** 64n, den: 2n ** 64n + 1n } })
    expect(() => committeeSummary(big)).toThrow(code(ChainErrorCode.UNREPRESENTABLE_COMMITTEE))
  })

  it('writes an aggregate at infinity as 96 zero bytes, and certificates of such a committee still check', () => {
    // Member 2's secret key is r − (member 0's + member 1's): the three keys sum to infinity, each with a proof of
    // its own. (A key and its negation alone are refused at load: COMMITTEE_NEGATED_PUBLIC_KEY.)
    const scalar = (i: number) => uintFromBytes(memberSecretKey(i).toBytes())
    const third = secretKeyFromBytes(
      uintToBytes(bls12_381_Fr.ORDER - ((scalar(0) + scalar(1)) % bls12_381_Fr.ORDER), 32),
    )
    const member2 = {
      peerId: peerIdFor('cancelling'),
      publicKey: publicKeyOf(third),
      proofOfPossession: createProofOfPossession(third),
      stake: 1n,
    }
    const committee = new Committee(
      { networkId: 1, epoch: 0, members: [realMember(0, 10n), realMember(1, 1n), member2] },
      { verifier: blsKeyVerifier },
    )
    expect(committeeTree(committee).summary.aggregateKey).toEqual(new Uint8Array(96))
    const { bytes } = form(committee, [0])
    expect(checkOnchainCertificate(bytes, committee, { recordIndex: 0 })).toBe(R.VALID)
  })
})

describe('safety rule (§2.3)', () => {
  it("the reference check applies the committee layer's rule to the summary: kMax(128) = 39 for 4 members at g = 1/3", () => {
    const q = { num: 2n, den: 3n }
    const f = { num: 1n, den: 3n }
    const summary = { memberCount: 4, threshold: q, adversary: f }
    expect(kMax(summary, 128)).toBe(39)
    expect(isSafeEncoding(summary, 39, 128)).toBe(true)
    expect(isSafeEncoding(summary, 40, 128)).toBe(false)
  })
})

describe('on-chain certificate form', () => {
  it('round-trips, and the reference check accepts valid forms', () => {
    for (const { name, committee, signers } of valid) {
      const { certificate, bytes } = form(committee, signers, name, 7)
      const tree = committeeTree(committee)
      const absent = committee.members.map((m) => m.index).filter((i) => !signers.includes(i))
      const proof = multiproof(tree.leaves, absent)
      const certificateSize = encodeCertificate(certificate).length
      expect(bytes.length, name).toBe(certificateSize + WITNESS_FIXED_SIZE + 128 * absent.length + 32 * proof.length)

      const decoded = decodeOnchainCertificate(bytes)
      expect(decoded.certificate, name).toEqual(certificate)
      expect(decoded.witness.version).toBe(1)
      expect(decoded.witness.recordIndex).toBe(7)
      expect(decoded.witness.signatureY).toEqual(signatureY(certificate.signature))
      expect(decoded.witness.summary, name).toEqual(tree.summary)
      expect(decoded.witness.nonSigners.map((n) => n.index)).toEqual(absent)
      for (const n of decoded.witness.nonSigners) {
        expect(new Uint8Array([...n.x, ...n.y, ...uintToBytes(n.stake, 32)])).toEqual(tree.entries[n.index])
      }
      expect(decoded.witness.proof).toEqual(proof)
      // What the contract computes from the witness alone, the summary's aggregate plus each non-signer's
      // (x, p − y), is the signers' aggregate key.
      const terms = decoded.witness.nonSigners.map((n) =>
        publicKeyFromCoordinates(negateG1Coordinates(new Uint8Array([...n.x, ...n.y]))),
      )
      terms.push(publicKeyFromCoordinates(decoded.witness.summary.aggregateKey))
      expect(publicKeyCoordinates(aggregatePublicKeys(terms))).toEqual(
        publicKeyCoordinates(aggregateSigners(committeeKeys(committee), signers)),
      )

      expect(checkOnchainCertificate(bytes, committee, { recordIndex: 7 }), name).toBe(R.VALID)
      expect(checkOnchainCertificate(bytes, committee, { recordIndex: 7, summaryHash: tree.summaryHash })).toBe(R.VALID)
      // What the form accepts, verifyCertificate accepts too.
      expect(verifyCertificate(certificate, committee).signedStake, name).toBe(certificate.signedStake)
    }
  })

  it('refuses every single-bit flip of a small valid form, with the reason of the step that catches it', () => {
    const { bytes } = form(small, [0, 1, 3])
    const c = 206 + 1 // certificate size for 4 members
    // Byte ranges of the form and the reasons a flip there may give (several where the header changes
    // meaning but may stay valid: a k, n or dataSize that still has the same canonical shard size).
    const regions: [number, number, number[]][] = [
      [0, 9, [R.MALFORMED]], // version, epoch (then unequal to the header's)
      [9, 10, [R.MALFORMED]], // header version
      [10, 14, [R.WRONG_NETWORK]],
      [14, 22, [R.MALFORMED]], // header epoch
      [22, 30, [R.MALFORMED, R.SIGNATURE]], // dataSize
      [30, 38, [R.MALFORMED, R.MEMBER_COUNT_OR_ENCODING, R.SIGNATURE]], // k, n
      [38, 42, [R.MALFORMED]], // shardSize
      [42, 74, [R.SIGNATURE]], // root: another blob id, another message
      [74, 106, [R.STAKE]],
      [106, 202, [R.SIGNATURE]],
      [202, c, [R.MALFORMED]], // member count, bitmap (lengths no longer match)
      [c, c + 1, [R.MALFORMED]], // witness version
      [c + 1, c + 5, [R.UNKNOWN_EPOCH]], // record index
      [c + 5, c + 101, [R.SIGNATURE]], // signature y
      [c + 101, c + 297, [R.SUMMARY_MISMATCH]],
      [c + 297, bytes.length, [R.MEMBERS_ROOT]], // the non-signer's entry, the proof
    ]
    expect(bytes.length).toBe(c + 297 + 128 + 64)
    const seen = new Map<number, number>()
    for (const [from, to, reasons] of regions) {
      for (let bit = 8 * from; bit < 8 * to; bit++) {
        const reason = checkOnchainCertificate(flipped(bytes, bit), small, { recordIndex: 0 })
        expect(reasons, `bit ${bit} (byte ${bit >> 3}) gave ${reason}`).toContain(reason)
        seen.set(reason, (seen.get(reason) ?? 0) + 1)
      }
    }
    // Every other step catches some flip here; step 4 does only for a (k, n) with a one-bit change that keeps
    // the header valid and makes it unsafe (k = 7, n = 32 has none), so it is tested on its own below.
    expect([...seen.keys()]).toEqual(expect.arrayContaining([1, 2, 3, 4, 6, 7, 8]))
  })

  it('refuses sampled single-bit flips of a 100-member form with 30 absent', () => {
    const { bytes } = form(hundred, hundredSigners)
    const pick = rng(7)
    for (let i = 0; i < 400; i++) {
      const bit = Math.floor(pick() * 8 * bytes.length)
      expect(checkOnchainCertificate(flipped(bytes, bit), hundred, { recordIndex: 0 }), `bit ${bit}`).not.toBe(R.VALID)
    }
  })

  it('refuses truncation and padding: malformed, or a walk failure for whole proof hashes too few or too many', () => {
    for (const { committee, signers } of valid.slice(1, 3)) {
      const { bytes } = form(committee, signers)
      const proofStart = bytes.length - 32 * decodeOnchainCertificate(bytes).witness.proof.length
      const wholeHashes = (length: number) => length >= proofStart && (bytes.length - length) % 32 === 0
      for (let length = 0; length < bytes.length; length++) {
        const cut = bytes.subarray(0, length)
        const expected = wholeHashes(length) ? R.MEMBERS_ROOT : R.MALFORMED
        expect(checkOnchainCertificate(cut, committee, { recordIndex: 0 }), `length ${length}`).toBe(expected)
        expect(() => decodeOnchainCertificate(cut)).toThrow(code(ChainErrorCode.MALFORMED_ONCHAIN_CERTIFICATE))
      }
      const everyoneSigned = signers.length === committee.size
      for (const extra of [1, 31, 32, 64, 129]) {
        const padded = new Uint8Array(bytes.length + extra)
        padded.set(bytes)
        const expected = extra % 32 === 0 && !everyoneSigned ? R.MEMBERS_ROOT : R.MALFORMED
        expect(checkOnchainCertificate(padded, committee, { recordIndex: 0 }), `${extra} more`).toBe(expected)
        expect(() => decodeOnchainCertificate(padded)).toThrow(code(ChainErrorCode.MALFORMED_ONCHAIN_CERTIFICATE))
      }
    }
    const { bytes } = form(hundred, hundredSigners)
    for (const cut of [1, 32, 127, 160, bytes.length - 206]) {
      const shorter = bytes.subarray(0, bytes.length - cut)
      expect(checkOnchainCertificate(shorter, hundred, { recordIndex: 0 })).toBe(
        cut % 32 === 0 ? R.MEMBERS_ROOT : R.MALFORMED,
      )
    }
    const version2 = bytes.slice()
    version2[206 + 13]! = 2
    expect(checkOnchainCertificate(version2, hundred, { recordIndex: 0 })).toBe(R.MALFORMED)
    expect(() => decodeOnchainCertificate(version2)).toThrow(code(ChainErrorCode.MALFORMED_ONCHAIN_CERTIFICATE))
    expect(() => decodeOnchainCertificate('0x00' as unknown as Uint8Array)).toThrow(
      code(ChainErrorCode.MALFORMED_ONCHAIN_CERTIFICATE),
    )
  })

  it('gives each context failure its reason: network, epoch, record, summary, member count', () => {
    const { bytes } = form(small, [0, 1, 3])
    const members = small.members.map((m) => ({ ...m }))
    const sameMembers = (extra: object) =>
      new Committee({ networkId: 1, epoch: 0, members, ...extra }, { verifier: blsKeyVerifier })
    expect(checkOnchainCertificate(bytes, sameMembers({ networkId: 2 }), { recordIndex: 0 })).toBe(R.WRONG_NETWORK)
    expect(checkOnchainCertificate(bytes, sameMembers({ epoch: 1 }), { recordIndex: 0 })).toBe(R.UNKNOWN_EPOCH)
    expect(checkOnchainCertificate(bytes, small, { recordIndex: 1 })).toBe(R.UNKNOWN_EPOCH)
    expect(checkOnchainCertificate(bytes, sameMembers({}), { recordIndex: 0 })).toBe(R.VALID)
    const otherStakes = new Committee(
      { networkId: 1, epoch: 0, members: members.map((m) => ({ ...m, stake: m.stake + 1n })) },
      { verifier: blsKeyVerifier },
    )
    expect(checkOnchainCertificate(bytes, otherStakes, { recordIndex: 0 })).toBe(R.SUMMARY_MISMATCH)

    const later = realCommittee([3n, 3n, 3n], { epoch: 5 })
    const laterForm = form(later, [0, 1]).bytes
    expect(checkOnchainCertificate(laterForm, later, { recordIndex: 0, currentEpoch: 4 })).toBe(R.UNKNOWN_EPOCH)
    expect(checkOnchainCertificate(laterForm, later, { recordIndex: 0, currentEpoch: 5 })).toBe(R.VALID)

    // A certificate over 5 members with the 4-member committee's witness: the summary is right, m is not.
    const five = certificateBy(realCommittee([1n, 1n, 1n, 1n, 1n]), [0, 1, 2, 3, 4], smallEncoding)
    const head = encodeCertificate(five)
    const witness = bytes.subarray(207, 207 + WITNESS_FIXED_SIZE)
    expect(checkOnchainCertificate(new Uint8Array([...head, ...witness]), small, { recordIndex: 0 })).toBe(
      R.MEMBER_COUNT_OR_ENCODING,
    )
  })

  it('refuses a (k, n) that is not safe for the committee, whatever the committee object derived', () => {
    const tree = committeeTree(small)
    const { n } = smallEncoding
    const k = kMax(small, n) + 1
    expect(isSafeEncoding(tree.summary, k, n)).toBe(false)
    const unsafe = certificateBy(small, [0, 1, 3], { k, n })
    const bytes = encodeOnchainCertificate(unsafe, small, { recordIndex: 0 })
    expect(checkOnchainCertificate(bytes, small, { recordIndex: 0 })).toBe(R.MEMBER_COUNT_OR_ENCODING)
  })

  it('refuses no signer and too little stake (stake), and a signature over another blob', () => {
    const nobody: Certificate = {
      ...certificateBy(small, [0], smallEncoding),
      signers: bitmapFromSigners(4, []),
      signedStake: 0n,
    }
    const nobodyForm = encodeOnchainCertificate(nobody, small, { recordIndex: 0 })
    expect(checkOnchainCertificate(nobodyForm, small, { recordIndex: 0 })).toBe(R.STAKE)
    expect(checkOnchainCertificate(form(small, [2, 3]).bytes, small, { recordIndex: 0 })).toBe(R.STAKE)
    const good = certificateBy(small, [0, 1, 3], smallEncoding)
    const other = certificateBy(small, [0, 1, 3], smallEncoding, 'another blob')
    const swapped = encodeOnchainCertificate({ ...good, signature: other.signature }, small, { recordIndex: 0 })
    expect(checkOnchainCertificate(swapped, small, { recordIndex: 0 })).toBe(R.SIGNATURE)
    // The witness y of another point, and the same y negated (which fails the sign rule), both fail.
    const goodForm = encodeOnchainCertificate(good, small, { recordIndex: 0 })
    const y = 207 + 5
    const otherY = goodForm.slice()
    otherY.set(signatureY(other.signature), y)
    expect(checkOnchainCertificate(otherY, small, { recordIndex: 0 })).toBe(R.SIGNATURE)
  })

  it('encodes only certificates over the committee, with a valid signature point and a u32 record index', () => {
    const good = certificateBy(small, [0, 1, 3], smallEncoding)
    const five = certificateBy(realCommittee([1n, 1n, 1n, 1n, 1n]), [0, 1, 2], smallEncoding)
    expect(() => encodeOnchainCertificate(five, small, { recordIndex: 0 })).toThrow(
      code(ChainErrorCode.COMMITTEE_MISMATCH),
    )
    for (const recordIndex of [-1, 2 ** 32, 0.5]) {
      expect(() => encodeOnchainCertificate(good, small, { recordIndex })).toThrow(code(ChainErrorCode.INVALID_OPTIONS))
      expect(() => checkOnchainCertificate(new Uint8Array(0), small, { recordIndex })).toThrow(
        code(ChainErrorCode.INVALID_OPTIONS),
      )
    }
    const infinity = new Uint8Array(96)
    infinity[0] = 0xc0
    expect(() => encodeOnchainCertificate({ ...good, signature: infinity }, small, { recordIndex: 0 })).toThrow(
      code(AttestErrorCode.MALFORMED_SIGNATURE),
    )
    expect(encodeOnchainCertificate(good, small, { recordIndex: 2 ** 32 - 1 })).toBeInstanceOf(Uint8Array)
    // A summary hash that is not the committee's is the caller's mistake, not a verdict on the form.
    const bytes = encodeOnchainCertificate(good, small, { recordIndex: 0 })
    expect(() =>
      checkOnchainCertificate(bytes, small, { recordIndex: 0, summaryHash: committeeTree(one).summaryHash }),
    ).toThrow(code(ChainErrorCode.COMMITTEE_MISMATCH))
  })
})

describe('PROTOCOL §4.5 vector', () => {
  const vector = JSON.parse(readFileSync(new URL('./fixtures/onchain-vector.json', import.meta.url), 'utf8'))

  it('is recomputed exactly from the committee fixture', () => {
    expect(onchainVector()).toEqual(vector)
  })

  it('is printed in PROTOCOL.md as the generator prints it', () => {
    const protocol = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')
    expect(protocol).toContain(`\n\`\`\`\n${protocolBlock(vector)}\n\`\`\`\n`)
  })

  it('checks valid, with a (k, n) safe for its committee', () => {
    const bytes = new Uint8Array(Buffer.from(vector.onchain.slice(2), 'hex'))
    expect(isSafeEncoding(committeeTree(small).summary, vector.k, vector.n)).toBe(true)
    expect(checkOnchainCertificate(bytes, small, { recordIndex: vector.recordIndex })).toBe(R.VALID)
  })
})
