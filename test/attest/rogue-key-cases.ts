/**
 * The generated cases of test/attest/rogue-keys.test.ts that feed bad material to the committee layer and the
 * decoders: public keys that are not keys, signatures that are not signatures, valid keys with proofs that are not
 * their proofs of possession, and a key with its negation in one committee. Plus the helpers the other generators
 * (rogue-signer-cases.ts) share: loading a committee, directly or through a committee file.
 */
import { createHash } from 'node:crypto'
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
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { blsKeyVerifier, POP_TAG, popMessage } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import type { MemberInput } from '../../src/committee/member.ts'
import { peerIdFor } from '../committee/helpers.ts'
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
  randomStake,
  thresholdSet,
} from './rogue-fixtures.ts'
import {
  badFlags,
  COMPRESSED,
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

const NUL_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_'
const IETF_POP_DST = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
const G1_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_'
const DSTS = [NUL_DST, IETF_POP_DST, G1_DST]

/** Keys whose x + p still fits in 381 bits, each with that non-canonical encoding of itself. */
export const NON_CANONICAL_KEYS = (() => {
  const found: { key: PoolKey; bytes: Uint8Array }[] = []
  for (let i = 0; found.length < 4; i++) {
    const key = i < POOL.length ? POOL[i]! : poolKey(`rogue-x-${i}`)
    const bytes = nonCanonicalX(key.publicKey, 0)
    if (bytes) found.push({ key, bytes })
  }
  return found
})()

/** Valid signatures with an x component below 2^381 - p, and the non-canonical encodings of them. */
export const NON_CANONICAL_SIGNATURES = POOL.flatMap((k) =>
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

export function committeeFileText(epochs: MemberInput[][]): string {
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
export function loadCode(members: MemberInput[], viaFile: boolean): string {
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
export const keyVariants: Record<string, (r: Random) => { bytes: Uint8Array; keep?: PoolKey }> = {
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

export function keyCase(make: (r: Random) => { bytes: Uint8Array; keep?: PoolKey }) {
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
export const signatureVariants: Record<string, (r: Random) => Uint8Array> = {
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

export function signatureCase(make: (r: Random) => Uint8Array) {
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
export const proofVariants: Record<string, (r: Random, index: number) => ProofAttempt> = {
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

export function proofCase(make: (r: Random, index: number) => ProofAttempt) {
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
export function negationCase(where: 'constructor' | 'file' | 'file, second epoch') {
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

export function cases<T>(
  variants: Record<string, T>,
  wrap: (v: T) => (r: Random, i: number) => Check[] | Promise<Check[]>,
) {
  return Object.fromEntries(Object.entries(variants).map(([name, v]) => [name, wrap(v)]))
}
