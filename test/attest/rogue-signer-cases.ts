/**
 * The generated cases of test/attest/rogue-keys.test.ts that count a signer wrongly: signers listed twice (in a
 * committee, in a certificate, or to the aggregator), and forged certificates whose signatures do not cover their
 * bitmap, stake or message.
 */
import { createHash } from 'node:crypto'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { signAttestation } from '../../src/attest/attestation.ts'
import { aggregateSignatures, decodeSignature } from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { decodeCertificate, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { peerIdFor } from '../committee/helpers.ts'
import {
  ACCEPTED,
  type Check,
  COMMITTEES,
  certificateOf,
  check,
  codeOf,
  drawKeys,
  headerOf,
  insertAt,
  memberOf,
  newCommittee,
  POOL,
  randomStake,
  type Signed,
  signatureOf,
  thresholdSet,
} from './rogue-fixtures.ts'
import { loadCode } from './rogue-key-cases.ts'
import {
  COMPRESSED,
  INFINITY,
  infinityVariant,
  negateEncoding,
  pick,
  type Random,
  randomInt,
  shuffle,
} from './rogue-points.ts'

const A = AttestErrorCode
const C = CommitteeErrorCode

/** Signers listed twice: in a committee, in a certificate, or to the aggregator. */
export const duplicateVariants: Record<string, (r: Random, index: number) => Check[] | Promise<Check[]>> = {
  'a member listed again under another peer id': (r, index) => {
    const keys = drawKeys(r, 1 + randomInt(r, 4))
    const again = { ...memberOf(pick(r, keys), randomStake(r)), peerId: peerIdFor(`again-${index}`) }
    const members = insertAt(
      r,
      keys.map((k) => memberOf(k, randomStake(r))),
      again,
    ).items
    return [check('committee', C.DUPLICATE_PUBLIC_KEY, loadCode(members, r() < 0.25))]
  },
  'a member listed twice': (r) => {
    const keys = drawKeys(r, 1 + randomInt(r, 4))
    const members = keys.map((k) => memberOf(k, randomStake(r)))
    return [check('committee', C.DUPLICATE_PEER_ID, loadCode(insertAt(r, members, pick(r, members)).items, r() < 0.25))]
  },
  'a sequencer key listed twice': (r) => {
    const sequencers = [{ publicKey: pick(r, POOL).publicKey }]
    const twice = insertAt(
      r,
      [...sequencers, ...drawKeys(r, randomInt(r, 3)).map((k) => ({ peerId: peerIdFor(k.label) }))],
      sequencers[0]!,
    ).items
    const verdict = codeOf(() => newCommittee([memberOf(POOL[0]!, 1n)], twice))
    return [check('committee (sequencers)', C.DUPLICATE_PUBLIC_KEY, verdict)]
  },
  'a signer counted twice in the claimed stake': (r, index) => {
    const signed = pick(r, COMMITTEES)
    const header = headerOf(signed, `duplicate-${index}`)
    const signers = thresholdSet(r, signed)
    const listed = [...signers, ...shuffle(r, signers).slice(0, 1 + randomInt(r, signers.length))]
    const claimed = listed.reduce((sum, i) => sum + signed.committee.members[i]!.stake, 0n)
    const certificate = certificateOf(signed, header, listed, signatureOf(signed, header, listed), claimed)
    return [check('verifyCertificate', A.SIGNED_STAKE_MISMATCH, verifyCode(r, certificate, signed.committee))]
  },
  "a signer's signature counted twice": (r, index) => {
    const signed = pick(r, COMMITTEES)
    const header = headerOf(signed, `duplicate-${index}`)
    const signers = thresholdSet(r, signed)
    const listed = [...signers, pick(r, signers)]
    const certificate = certificateOf(signed, header, listed, signatureOf(signed, header, listed))
    return [check('verifyCertificate', A.INVALID_SIGNATURE, verifyCode(r, certificate, signed.committee))]
  },
  'attestations repeated to the aggregator': async (r, index) => aggregatorCase(r, index, false),
  'attestations repeated with bad signatures': async (r, index) => aggregatorCase(r, index, true),
}

/**
 * Every member attests (some more than once; with `forged`, copies carry the negated signature), all in one tick
 * or one by one: each member counts once, forged copies never, and the certificate holds each member's stake once.
 */
async function aggregatorCase(r: Random, index: number, forged: boolean): Promise<Check[]> {
  const signed = pick(r, COMMITTEES)
  const header = headerOf(signed, `aggregator-${index}`)
  const context = attestationContextOf(header)
  const honest = signed.keys.map((k) => signAttestation(k.secretKey, context))
  const repeats = shuffle(r, honest).slice(0, 1 + randomInt(r, honest.length))
  const copies = repeats.map((a) => (forged ? { ...a, signature: negateEncoding(a.signature) } : { ...a }))
  const all = shuffle(r, [...honest, ...copies])
  const aggregator = new Aggregator({ committee: signed.committee, header }, { maxBatchSize: 1 + randomInt(r, 8) })
  const outcomes =
    r() < 0.5 ? await Promise.all(all.map((a) => aggregator.add(a))) : await sequential(all, (a) => aggregator.add(a))
  const accepted = outcomes.filter((o) => o.accepted).length
  const codes = [...new Set(outcomes.flatMap((o) => (o.accepted ? [] : [o.rejection.code])))].sort()
  const allowed = forged ? [A.DUPLICATE_SIGNER, A.INVALID_SIGNATURE] : [A.DUPLICATE_SIGNER]
  const total = signed.committee.totalStake
  const certificate = aggregator.certificate()
  const verified = codeOf(() => {
    const { signedStake } = verifyCertificate(certificate, signed.committee)
    if (signedStake !== total) throw new Error(`stake ${signedStake} is not ${total}`)
  })
  return [
    check('accepted once each', String(honest.length), String(accepted)),
    check('stake counted once', String(total), String(aggregator.signedStake)),
    check('repeats refused', 'yes', codes.every((c) => allowed.includes(c as never)) ? 'yes' : codes.join(',')),
    check('its certificate', ACCEPTED, verified),
  ]
}

async function sequential<T, U>(items: readonly T[], fn: (item: T) => Promise<U>): Promise<U[]> {
  const out: U[] = []
  for (const item of items) out.push(await fn(item))
  return out
}

/** verifyCertificate, on the object or (half the time) on its binary form decoded. */
function verifyCode(r: Random, certificate: Certificate, committee: Committee): string {
  const viaBytes = r() < 0.5
  return codeOf(() =>
    verifyCertificate(viaBytes ? decodeCertificate(encodeCertificate(certificate)) : certificate, committee),
  )
}

/** Members, in random order, whose stake stays below q (none may be possible only for a single member). */
function belowThreshold(r: Random, { committee }: Signed): number[] {
  const chosen: number[] = []
  let stake = 0n
  for (const i of shuffle(
    r,
    committee.members.map((m) => m.index),
  )) {
    const next = stake + committee.members[i]!.stake
    if (committee.reachesThreshold(next)) continue
    chosen.push(i)
    stake = next
  }
  return chosen.sort((a, b) => a - b)
}

/** A signer set reaching q with at least two members. */
function bitmapOf(r: Random, signed: Signed): number[] {
  const set = thresholdSet(r, signed)
  if (set.length === 1) set.push(signed.committee.members.find((m) => m.index !== set[0])!.index)
  return set.sort((a, b) => a - b)
}

/** Forged certificates: the right committee and a threshold bitmap, but signatures that do not cover it. */
export const certificateVariants: Record<
  string,
  (r: Random, s: Signed, header: Certificate['header']) => [string, Certificate]
> = {
  'a member counted without signing': (r, s, header) => {
    const bitmap = bitmapOf(r, s)
    const absent = pick(r, bitmap)
    const signature = signatureOf(
      s,
      header,
      bitmap.filter((i) => i !== absent),
    )
    return [A.INVALID_SIGNATURE, certificateOf(s, header, bitmap, signature)]
  },
  "a missing signature replaced by another signer's": (r, s, header) => {
    const bitmap = bitmapOf(r, s)
    const absent = pick(r, bitmap)
    const present = bitmap.filter((i) => i !== absent)
    const signature = signatureOf(s, header, [...present, pick(r, present)])
    return [A.INVALID_SIGNATURE, certificateOf(s, header, bitmap, signature)]
  },
  'one member signs for all': (r, s, header) => {
    const all = s.committee.members.map((m) => m.index)
    return [A.INVALID_SIGNATURE, certificateOf(s, header, all, signatureOf(s, header, [pick(r, all)]))]
  },
  "another blob's, epoch's or network's message": (r, s, header) => {
    const other = pick(r, [
      { ...header, root: createHash('sha256').update(header.root).digest() },
      { ...header, epoch: header.epoch + 1 },
      { ...header, networkId: header.networkId + 1 },
    ])
    const bitmap = bitmapOf(r, s)
    return [A.INVALID_SIGNATURE, certificateOf(s, header, bitmap, signatureOf(s, other, bitmap))]
  },
  'the aggregate negated': (r, s, header) => {
    const bitmap = bitmapOf(r, s)
    return [A.INVALID_SIGNATURE, certificateOf(s, header, bitmap, negateEncoding(signatureOf(s, header, bitmap)))]
  },
  'proofs of possession summed instead': (r, s, header) => {
    const bitmap = bitmapOf(r, s)
    const proofs = aggregateSignatures(bitmap.map((i) => decodeSignature(s.keys[i]!.proof))).toBytes(true)
    return [A.INVALID_SIGNATURE, certificateOf(s, header, bitmap, proofs)]
  },
  'signed stake inflated': (r, s, header) => {
    const bitmap = bitmapOf(r, s)
    const honest = certificateOf(s, header, bitmap, signatureOf(s, header, bitmap))
    const claimed = honest.signedStake + 1n + BigInt(randomInt(r, 1000))
    return [A.SIGNED_STAKE_MISMATCH, { ...honest, signedStake: claimed }]
  },
  'signers below q': (r, s, header) => {
    const bitmap = belowThreshold(r, s)
    const signature = bitmap.length > 0 ? signatureOf(s, header, bitmap) : infinityVariant(r, 96)
    return [A.INSUFFICIENT_STAKE, certificateOf(s, header, bitmap, signature)]
  },
  'nobody signs, infinity as the signature': (_r, s, header) => {
    const signature = new Uint8Array(96)
    signature[0] = COMPRESSED | INFINITY
    return [A.INSUFFICIENT_STAKE, certificateOf(s, header, [], signature, 0n)]
  },
  'a bitmap over another member count': (r, s, header) => {
    const bitmap = bitmapOf(r, s)
    const honest = certificateOf(s, header, bitmap, signatureOf(s, header, bitmap))
    const memberCount = s.committee.size + 1 + randomInt(r, 8)
    const signers = new Uint8Array(Math.ceil(memberCount / 8))
    signers.set(honest.signers)
    return [A.BITMAP_LENGTH_MISMATCH, { ...honest, memberCount, signers }]
  },
  'padding bits set': (r, s, header) => {
    const bitmap = bitmapOf(r, s)
    const honest = certificateOf(s, header, bitmap, signatureOf(s, header, bitmap))
    const signers = honest.signers.slice()
    const size = s.committee.size
    const bit = size + randomInt(r, 8 - (size % 8))
    signers[bit >> 3]! |= 1 << (bit & 7)
    return [A.MALFORMED_CERTIFICATE, { ...honest, signers }]
  },
}

export function certificateCase(make: (r: Random, s: Signed, header: Certificate['header']) => [string, Certificate]) {
  return (r: Random, index: number): Check[] => {
    const signed = pick(r, COMMITTEES)
    const [expected, certificate] = make(r, signed, headerOf(signed, `certificate-${index}`))
    return [check('verifyCertificate', expected, verifyCode(r, certificate, signed.committee))]
  }
}
