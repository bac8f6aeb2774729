/**
 * Rogue keys, bad proofs of possession, off-curve / infinity / non-subgroup points as keys and signatures, and
 * duplicate signers: 1,000 generated cases, none accepted, each refused with its stable code. Every case draws
 * from its own seeded stream (rogue-fixtures.ts, SEED); a failure names its family, case and variant, and the
 * command that replays it.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { type Attestation, signAttestation, verifyAttestation } from '../../src/attest/attestation.ts'
import {
  aggregatePublicKeys,
  aggregateSignatures,
  decodePublicKey,
  decodeSignature,
  negatePublicKey,
  publicKeyCoordinates,
  sign,
} from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { decodeCertificate, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { blsKeyVerifier, POP_TAG, popMessage } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import type { MemberInput } from '../../src/committee/member.ts'
import { peerIdFor, rng } from '../committee/helpers.ts'
import { hex } from './helpers.ts'
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
  NEGATED_POOL,
  newCommittee,
  POOL,
  type PoolKey,
  poolKey,
  REPLAY,
  RESULTS,
  randomStake,
  runFamily,
  SEED,
  type Signed,
  scalarOf,
  secretKeyOfScalar,
  signatureOf,
  thresholdSet,
} from './rogue-fixtures.ts'
import {
  badFlags,
  COMPRESSED,
  g1OutsideSubgroup,
  g2OutsideSubgroup,
  INFINITY,
  infinityVariant,
  negateEncoding,
  nonCanonicalX,
  nonSubgroupG1,
  nonSubgroupG2,
  offCurveG1,
  offCurveG2,
  pick,
  type Random,
  randomBytes,
  randomInt,
  shuffle,
  signWithDst,
  wrongLength,
} from './rogue-points.ts'

const A = AttestErrorCode
const C = CommitteeErrorCode
const CASES = { keys: 200, signatures: 150, proofs: 200, negations: 100, duplicates: 150, certificates: 200 }

const NUL_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_'
const IETF_POP_DST = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
const G1_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_'
const DSTS = [NUL_DST, IETF_POP_DST, G1_DST]

/** Keys whose x + p still fits in 381 bits, each with that non-canonical encoding of itself. */
const NON_CANONICAL_KEYS = (() => {
  const found: { key: PoolKey; bytes: Uint8Array }[] = []
  for (let i = 0; found.length < 4; i++) {
    const key = i < POOL.length ? POOL[i]! : poolKey(`rogue-x-${i}`)
    const bytes = nonCanonicalX(key.publicKey, 0)
    if (bytes) found.push({ key, bytes })
  }
  return found
})()

/** Valid signatures with an x component below 2^381 - p, and the non-canonical encodings of them. */
const NON_CANONICAL_SIGNATURES = POOL.flatMap((k) =>
  ([0, 48] as const).flatMap((offset) => nonCanonicalX(k.proof, offset) ?? []),
)

/** Noble signatures are slow (tens of ms): each (key, DST, message kind) is made once and reused. */
const dstCache = new Map<string, Uint8Array>()
function proofWithDst(key: PoolKey, dst: string, bareKey: boolean): Uint8Array {
  const id = `${key.label} ${dst} ${bareKey}`
  let proof = dstCache.get(id)
  if (!proof) {
    proof = signWithDst(key.secretKey.toBytes(), bareKey ? key.publicKey : popMessage(key.publicKey), dst)
    dstCache.set(id, proof)
  }
  return proof
}

function committeeFileText(epochs: MemberInput[][]): string {
  return JSON.stringify({
    version: 1,
    networkId: 1,
    epochs: epochs.map((members, epoch) => ({
      epoch,
      members: members.map((m) => ({
        peerId: m.peerId,
        publicKey: hex(m.publicKey),
        proofOfPossession: hex(m.proofOfPossession),
        stake: m.stake.toString(),
      })),
    })),
  })
}

/** The committee layer's verdict on members, through the constructor or (file) a committee file. */
function loadCode(members: MemberInput[], viaFile: boolean): string {
  return codeOf(() =>
    viaFile ? parseCommitteeFile(committeeFileText([members]), { verifier: blsKeyVerifier }) : newCommittee(members),
  )
}

function problemOf(publicKey: Uint8Array, proofOfPossession: Uint8Array): string {
  return blsKeyVerifier.checkKeys([{ publicKey, proofOfPossession }])[0]?.kind ?? ACCEPTED
}

function badMember(random: Random, publicKey: Uint8Array, proofOfPossession: Uint8Array, label: string): MemberInput {
  return { peerId: peerIdFor(label), publicKey, proofOfPossession, stake: randomStake(random) }
}

/** Public keys that are not keys. */
const keyVariants: Record<string, (r: Random) => { bytes: Uint8Array; keep?: PoolKey }> = {
  'off the curve': (r) => ({ bytes: offCurveG1(r) }),
  'on the curve, outside G1': (r) => ({ bytes: nonSubgroupG1(r).bytes }),
  'the point at infinity': (r) => ({ bytes: infinityVariant(r, 48) }),
  'a member key with x + p for x': (r) => {
    const { key, bytes } = pick(r, NON_CANONICAL_KEYS)
    return { bytes, keep: key } // the member itself stays: the non-canonical copy must not pass as another key
  },
  'bad compression flags': (r) => ({ bytes: badFlags(r, pick(r, POOL).publicKey) }),
  'wrong length': (r) => {
    const key = pick(r, POOL)
    return { bytes: wrongLength(r, key.publicKey, key.secretKey.toPublicKey().toBytes(false)) }
  },
  'random x': (r) => {
    const bytes = randomBytes(r, 48)
    bytes[0] = (bytes[0]! & 0x1f) | COMPRESSED | (r() < 0.5 ? 0x20 : 0)
    return { bytes }
  },
}

function keyCase(make: (r: Random) => { bytes: Uint8Array; keep?: PoolKey }) {
  return (r: Random, index: number): Check[] => {
    const { bytes, keep } = make(r)
    const others = drawKeys(r, 1 + randomInt(r, 3), keep ? [keep] : [])
    if (keep) others.push(keep)
    const members = others.map((k) => memberOf(k, randomStake(r)))
    const proof = pick(r, POOL).proof
    const asSequencer = r() < 0.25
    const committee = asSequencer
      ? codeOf(() => newCommittee(members, [{ publicKey: bytes }]))
      : loadCode(insertAt(r, members, badMember(r, bytes, proof, `bad-key-${index}`)).items, r() < 0.2)
    return [
      check(
        'decodePublicKey',
        A.MALFORMED_KEY,
        codeOf(() => decodePublicKey(bytes)),
      ),
      check('blsKeyVerifier', 'malformed-key', problemOf(bytes, proof)),
      check(asSequencer ? 'committee (sequencer)' : 'committee', C.MALFORMED_KEY, committee),
    ]
  }
}

/** Signatures that are not signatures. */
const signatureVariants: Record<string, (r: Random) => Uint8Array> = {
  'off the curve': offCurveG2,
  'on the curve, outside G2': (r) => nonSubgroupG2(r).bytes,
  'the point at infinity': (r) => infinityVariant(r, 96),
  'x.c0 or x.c1 + p': (r) => pick(r, NON_CANONICAL_SIGNATURES),
  'bad compression flags': (r) => badFlags(r, pick(r, POOL).proof),
  'wrong length': (r) => {
    const proof = pick(r, POOL).proof
    return wrongLength(r, proof, decodeSignature(proof).toBytes(false))
  },
  'random x': (r) => {
    const bytes = randomBytes(r, 96)
    bytes[0] = (bytes[0]! & 0x1f) | COMPRESSED
    return bytes
  },
}

function signatureCase(make: (r: Random) => Uint8Array) {
  return async (r: Random, index: number): Promise<Check[]> => {
    const bytes = make(r)
    const sized = bytes.length === 96
    const checks = [
      check(
        'decodeSignature',
        A.MALFORMED_SIGNATURE,
        codeOf(() => decodeSignature(bytes)),
      ),
    ]
    const signed = pick(r, COMMITTEES)
    const header = headerOf(signed, `signature-${index}`)
    const member = randomInt(r, signed.committee.size)
    const attestation: Attestation = {
      ...signAttestation(signed.keys[member]!.secretKey, attestationContextOf(header)),
      signature: bytes,
    }
    switch (index % 4) {
      case 0: {
        const others = drawKeys(r, 1 + randomInt(r, 3))
        const subject = { ...memberOf(others.pop()!, 1n), proofOfPossession: bytes }
        const members = insertAt(r, [...others.map((k) => memberOf(k, randomStake(r)))], subject).items
        checks.push(check('committee (as a proof)', C.INVALID_POP, loadCode(members, r() < 0.2)))
        break
      }
      case 1: {
        const certificate = certificateOf(signed, header, thresholdSet(r, signed), bytes)
        const verdict = codeOf(() => verifyCertificate(certificate, signed.committee))
        checks.push(check('verifyCertificate', sized ? A.MALFORMED_SIGNATURE : A.MALFORMED_CERTIFICATE, verdict))
        break
      }
      case 2: {
        const verdict = codeOf(() => verifyAttestation(attestation, signed.committee, attestationContextOf(header)))
        checks.push(check('verifyAttestation', sized ? A.MALFORMED_SIGNATURE : A.MALFORMED_ATTESTATION, verdict))
        break
      }
      default: {
        const outcome = await new Aggregator({ committee: signed.committee, header }).add(attestation)
        const verdict = outcome.accepted ? ACCEPTED : outcome.rejection.code
        checks.push(check('Aggregator', sized ? A.MALFORMED_SIGNATURE : A.MALFORMED_ATTESTATION, verdict))
      }
    }
    return checks
  }
}

interface ProofAttempt {
  publicKey: Uint8Array
  proof: Uint8Array
  /** Members that go with it (drawn at random when absent). */
  others?: PoolKey[]
  /** Keys that must not be among the others. */
  exclude?: PoolKey[]
  checks?: Check[]
}

/** Valid keys with proofs that are not their proofs of possession. */
const proofVariants: Record<string, (r: Random, index: number) => ProofAttempt> = {
  "another key's proof": (r) => {
    const [key, other] = drawKeys(r, 2)
    return { publicKey: key!.publicKey, proof: other!.proof, exclude: [key!] }
  },
  "the key's signature over another key's message": (r) => {
    const [key, other] = drawKeys(r, 2)
    return { publicKey: key!.publicKey, proof: sign(key!.secretKey, popMessage(other!.publicKey)), exclude: [key!] }
  },
  'an attestation signature (another type tag)': (r, index) => {
    const key = pick(r, POOL)
    const context = attestationContextOf(headerOf(pick(r, COMMITTEES), `proof-${index}`))
    return { publicKey: key.publicKey, proof: signAttestation(key.secretKey, context).signature, exclude: [key] }
  },
  'the bare key signed': (r) => {
    const key = pick(r, POOL)
    return { publicKey: key.publicKey, proof: sign(key.secretKey, key.publicKey), exclude: [key] }
  },
  'another tag, or the key uncompressed': (r) => {
    const key = pick(r, POOL)
    const preimages = [
      [new TextEncoder().encode('dacnet/attestation/v1'), key.publicKey],
      [new TextEncoder().encode('dacnet/proof-of-possession/v2'), key.publicKey],
      [new Uint8Array(), key.publicKey],
      [POP_TAG, key.secretKey.toPublicKey().toBytes(false)],
    ]
    const hash = createHash('sha256')
    for (const part of pick(r, preimages)) hash.update(part)
    return { publicKey: key.publicKey, proof: sign(key.secretKey, new Uint8Array(hash.digest())), exclude: [key] }
  },
  'another hash-to-curve DST': (r) => {
    const key = pick(r, POOL.slice(0, 3))
    return { publicKey: key.publicKey, proof: proofWithDst(key, pick(r, DSTS), false), exclude: [key] }
  },
  'an IETF PopProve proof (its DST, the bare key)': (r) => {
    const key = pick(r, POOL.slice(0, 3))
    return { publicKey: key.publicKey, proof: proofWithDst(key, IETF_POP_DST, true), exclude: [key] }
  },
  'the proof negated': (r) => {
    const key = pick(r, POOL)
    return { publicKey: key.publicKey, proof: negateEncoding(key.proof), exclude: [key] }
  },
  'the key negated, with its proof': (r) => {
    const key = pick(r, POOL)
    return { publicKey: negateEncoding(key.publicKey), proof: key.proof, exclude: [key] }
  },
  'a rogue key pk_attacker - sum(others)': (r) => {
    const others = drawKeys(r, 1 + randomInt(r, 3))
    const attacker = drawKeys(r, 1, others)[0]!
    const rogue = aggregatePublicKeys([
      decodePublicKey(attacker.publicKey),
      ...others.map((k) => negatePublicKey(decodePublicKey(k.publicKey))),
    ]).toBytes(true)
    // Without proofs the attack works: the committee's aggregate would be the attacker's key alone.
    const sum = aggregatePublicKeys([...others, { publicKey: rogue }].map((k) => decodePublicKey(k.publicKey)))
    const works = hex(sum.toBytes(true)) === hex(attacker.publicKey) ? 'aggregate = attacker' : 'no'
    const proof = pick(r, [
      attacker.proof,
      sign(attacker.secretKey, popMessage(rogue)),
      pick(r, others).proof,
      aggregateSignatures([attacker.proof, ...others.map((k) => k.proof)].map((p) => decodeSignature(p))).toBytes(true),
    ])
    return { publicKey: rogue, proof, others, checks: [check('rogue key sanity', 'aggregate = attacker', works)] }
  },
  'the sum of two keys with the sum of their proofs': (r) => {
    const pair = drawKeys(r, 2)
    const publicKey = aggregatePublicKeys(pair.map((k) => decodePublicKey(k.publicKey))).toBytes(true)
    const proof = aggregateSignatures(pair.map((k) => decodeSignature(k.proof))).toBytes(true)
    return { publicKey, proof }
  },
}

function proofCase(make: (r: Random, index: number) => ProofAttempt) {
  return (r: Random, index: number): Check[] => {
    const attempt = make(r, index)
    const others = attempt.others ?? drawKeys(r, randomInt(r, 4), attempt.exclude)
    const subject = badMember(r, attempt.publicKey, attempt.proof, `bad-proof-${index}`)
    const members = insertAt(
      r,
      others.map((k) => memberOf(k, randomStake(r))),
      subject,
    ).items
    return [
      ...(attempt.checks ?? []),
      check('blsKeyVerifier', 'invalid-pop', problemOf(attempt.publicKey, attempt.proof)),
      check('committee', C.INVALID_POP, loadCode(members, r() < 0.25)),
    ]
  }
}

/** A key and its negation (with a valid proof of its own) in one committee. */
function negationCase(where: 'constructor' | 'file' | 'file, second epoch') {
  return (r: Random): Check[] => {
    const i = randomInt(r, POOL.length)
    const [key, negated] = shuffle(r, [POOL[i]!, NEGATED_POOL[i]!])
    const others = drawKeys(r, randomInt(r, 4), [POOL[i]!]).map((k) => memberOf(k, randomStake(r)))
    const first = insertAt(r, others, memberOf(key!, randomStake(r))).items
    const members = insertAt(r, first, memberOf(negated!, randomStake(r))).items
    const sum = aggregatePublicKeys([key!, negated!].map((k) => decodePublicKey(k.publicKey)))
    const verdict =
      where === 'constructor'
        ? codeOf(() => newCommittee(members))
        : codeOf(() => {
            const epochs =
              where === 'file' ? [members] : [others.length > 0 ? others : [memberOf(POOL[i]!, 1n)], members]
            return parseCommitteeFile(committeeFileText(epochs), { verifier: blsKeyVerifier })
          })
    const proofs = blsKeyVerifier.checkKeys(
      [key!, negated!].map((k) => ({ publicKey: k.publicKey, proofOfPossession: k.proof })),
    )
    return [
      check('P + (-P)', 'infinity', publicKeyCoordinates(sum).every((b) => b === 0) ? 'infinity' : 'finite'),
      check('both proofs', 'valid', proofs.every((p) => p === undefined) ? 'valid' : 'refused'),
      check(`committee (${where})`, C.NEGATED_PUBLIC_KEY, verdict),
    ]
  }
}

/** Signers listed twice: in a committee, in a certificate, or to the aggregator. */
const duplicateVariants: Record<string, (r: Random, index: number) => Check[] | Promise<Check[]>> = {
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
const certificateVariants: Record<
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

function certificateCase(make: (r: Random, s: Signed, header: Certificate['header']) => [string, Certificate]) {
  return (r: Random, index: number): Check[] => {
    const signed = pick(r, COMMITTEES)
    const [expected, certificate] = make(r, signed, headerOf(signed, `certificate-${index}`))
    return [check('verifyCertificate', expected, verifyCode(r, certificate, signed.committee))]
  }
}

function cases<T>(variants: Record<string, T>, wrap: (v: T) => (r: Random, i: number) => Check[] | Promise<Check[]>) {
  return Object.fromEntries(Object.entries(variants).map(([name, v]) => [name, wrap(v)]))
}

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
