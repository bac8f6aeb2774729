/**
 * Rogue keys, bad proofs of possession, off-curve / infinity / non-subgroup points as keys and signatures, and
 * duplicate signers: 1,000 generated cases, none accepted, each refused with its stable code. Every case draws
 * from its own seeded stream (rogue-fixtures.ts, SEED); a failure names its family, case and variant, and the
 * command that replays it.
 */
import { describe, expect, it } from 'vitest'
import { aggregatePublicKeys, decodePublicKey, negatePublicKey, publicKeyCoordinates } from '../../src/attest/bls.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { blsKeyVerifier, popMessage } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import { rng } from '../committee/helpers.ts'
import { hex } from './helpers.ts'
import {
  ACCEPTED,
  type Check,
  certificateOf,
  headerOf,
  memberOf,
  NEGATED_POOL,
  newCommittee,
  POOL,
  poolKey,
  REPLAY,
  RESULTS,
  runFamily,
  SEED,
  type Signed,
  scalarOf,
  secretKeyOfScalar,
  signatureOf,
} from './rogue-fixtures.ts'
import {
  cases,
  committeeFileText,
  keyCase,
  keyVariants,
  NON_CANONICAL_KEYS,
  NON_CANONICAL_SIGNATURES,
  negationCase,
  proofCase,
  proofVariants,
  signatureCase,
  signatureVariants,
} from './rogue-key-cases.ts'
import {
  g1OutsideSubgroup,
  g2OutsideSubgroup,
  nonSubgroupG1,
  nonSubgroupG2,
  type Random,
  signWithDst,
} from './rogue-points.ts'
import { certificateCase, certificateVariants, duplicateVariants } from './rogue-signer-cases.ts'

const A = AttestErrorCode
const C = CommitteeErrorCode
const CASES = { keys: 200, signatures: 150, proofs: 200, negations: 100, duplicates: 150, certificates: 200 }

describe('the generators make what they say', () => {
  it('points outside the subgroups are on their curves (noble), and noble signs as blst does under the dacnet DST', () => {
    const random = rng(SEED)
    for (let i = 0; i < 3; i++) {
      const g1 = nonSubgroupG1(random)
      expect(g1OutsideSubgroup(g1.x, g1.y)).toBe(true)
      const g2 = nonSubgroupG2(random)
      expect(g2OutsideSubgroup(g2.x, g2.y)).toBe(true)
    }
    // The noble path with dacnet's own DST gives blst's signature, byte for byte: the refusals below are the DST's.
    const key = POOL[0]!
    expect(
      hex(
        signWithDst(key.secretKey.toBytes(), popMessage(key.publicKey), 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'),
      ),
    ).toBe(hex(key.proof))
    for (const { key: k, bytes } of NON_CANONICAL_KEYS) expect(bytes).not.toEqual(k.publicKey)
    expect(NON_CANONICAL_SIGNATURES.length).toBeGreaterThan(0)
  })
})

describe(`generated cases (seed ${SEED}; replay: ${REPLAY})`, () => {
  const families: [keyof typeof CASES, Record<string, (r: Random, i: number) => Check[] | Promise<Check[]>>][] = [
    ['keys', cases(keyVariants, keyCase)],
    ['signatures', cases(signatureVariants, signatureCase)],
    ['proofs', cases(proofVariants, proofCase)],
    [
      'negations',
      {
        constructor: negationCase('constructor'),
        file: negationCase('file'),
        'file, 2nd epoch': negationCase('file, second epoch'),
      },
    ],
    ['duplicates', duplicateVariants],
    ['certificates', cases(certificateVariants, certificateCase)],
  ]
  for (const [family, variants] of families) {
    it(`${family}: ${CASES[family]} cases over ${Object.keys(variants).length} variants, each refused with its code`, async () => {
      const failures = await runFamily(family, CASES[family], variants)
      expect(failures, `replay: ${REPLAY}`).toEqual([])
    })
  }

  it('1,000 cases in all, none accepted', () => {
    expect(RESULTS.length).toBe(1000)
    const accepted = RESULTS.filter((c) => c.checks.some((k) => k.observed === ACCEPTED && k.expected !== ACCEPTED))
    expect(accepted.map((c) => `${c.family}#${c.index} ${c.variant}`)).toEqual([])
  })
})

describe('a key and its negation', () => {
  const [q, s, p] = [POOL[0]!, POOL[1]!, POOL[2]!]
  const minusP = NEGATED_POOL[2]!
  const members = [q, s, p, minusP].map((k) => memberOf(k, 10n))

  it('cancel: with the check bypassed, a certificate counts both without either signing', () => {
    // The committee as validation used to let it load: three members, and -P appended past the checks.
    const legit = newCommittee(members.slice(0, 3))
    const forged: Committee = Object.create(legit, {
      members: {
        value: Object.freeze([...legit.members, Object.freeze({ ...members[3]!, index: 3, multiaddrs: [] })]),
      },
      totalStake: { value: 40n },
    })
    const signed: Signed = { committee: forged, keys: [q, s, p, minusP] }
    const header = headerOf(signed, 'negation')
    // Q and S alone hold 20 of 40, below q = 2/3; listing P and -P as well makes 40, and their keys add nothing.
    const certificate = certificateOf(signed, header, [0, 1, 2, 3], signatureOf(signed, header, [0, 1]))
    expect(verifyCertificate(certificate, forged).signedStake).toBe(40n)
    expect(() =>
      verifyCertificate(certificateOf(signed, header, [0, 1], signatureOf(signed, header, [0, 1])), forged),
    ).toThrow(expect.objectContaining({ code: A.INSUFFICIENT_STAKE }))
  })

  it('is refused at load, though both proofs of possession verify', () => {
    expect(blsKeyVerifier.checkKeys(members)).toEqual([undefined, undefined, undefined, undefined])
    const refused = expect.objectContaining({ code: C.NEGATED_PUBLIC_KEY, meta: { epoch: 0, member: 3, other: 2 } })
    expect(() => newCommittee(members)).toThrow(refused)
    expect(() => parseCommitteeFile(committeeFileText([members]), { verifier: blsKeyVerifier })).toThrow(refused)
  })

  it('is an ordinary key on its own', () => {
    expect(newCommittee([q, s, minusP].map((k) => memberOf(k, 10n))).size).toBe(3)
  })

  it('larger cancelling sets load (see src/committee/key-negation.ts): only one party can make them', () => {
    // sk3 = -(sk1 + sk2): whoever made the three keys knows all three secrets, and could sign for all of them.
    const sk12 = aggregatePublicKeys([q, s].map((k) => decodePublicKey(k.publicKey)))
    const third = poolKey('rogue-third', secretKeyOfScalar(-(scalarOf(q.secretKey) + scalarOf(s.secretKey))))
    expect(hex(third.publicKey)).toBe(hex(negatePublicKey(sk12).toBytes(true)))
    const committee = newCommittee([q, s, third, p].map((k) => memberOf(k, 10n)))
    expect(publicKeyCoordinates(aggregatePublicKeys([q, s, third].map((k) => decodePublicKey(k.publicKey))))).toEqual(
      new Uint8Array(96),
    )
    expect(committee.size).toBe(4)
    // So a certificate may list them unsigned: P alone (10 of 40) is then counted with 40. The party that made the
    // three keys could have signed for them; an honest key cannot be part of such a set.
    const signed: Signed = { committee, keys: [q, s, third, p] }
    const header = headerOf(signed, 'triple')
    const certificate = certificateOf(signed, header, [0, 1, 2, 3], signatureOf(signed, header, [3]))
    expect(verifyCertificate(certificate, committee).signedStake).toBe(40n)
  })
})
