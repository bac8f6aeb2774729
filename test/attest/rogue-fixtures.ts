/**
 * Shared material for test/attest/rogue-keys.test.ts: a pool of real keys with their proofs (and their negations,
 * each with a proof of its own), committees built from it by the production verifier, and the bookkeeping that
 * turns each generated case into observed codes.
 */
import { bls12_381_Fr } from '@noble/curves/bls12-381.js'
import { signAttestation } from '../../src/attest/attestation.ts'
import { aggregateSignatures, decodeSignature, type SecretKey, secretKeyFromBytes } from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { publicKeyOf } from '../../src/attest/keys.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { blsKeyVerifier, createProofOfPossession } from '../../src/attest/pop.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { Committee } from '../../src/committee/committee.ts'
import type { MemberInput, Sequencer } from '../../src/committee/member.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { DacnetError } from '../../src/errors.ts'
import { peerIdFor, rng } from '../committee/helpers.ts'
import { headerFor, memberSecretKey, referenceShape } from './helpers.ts'
import { type Random, randomInt, shuffle } from './rogue-points.ts'

/**
 * The suite's seed: set DACNET_ROGUE_SEED to replay another run (each failure names its family and case, and
 * every case draws from its own stream, so a failing case replays the same whatever the others do).
 */
export const SEED = Number.parseInt(process.env['DACNET_ROGUE_SEED'] ?? '20260501', 10) >>> 0
export const REPLAY = `DACNET_ROGUE_SEED=${SEED} npx vitest run test/attest/rogue-keys.test.ts`

/** The stream of case `index` of `family`: independent of every other case. */
export function caseRandom(family: string, index: number): Random {
  let h = SEED ^ 0x9e3779b9
  for (const ch of `${family}#${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0
  return rng(h)
}

export interface PoolKey {
  readonly label: string
  readonly secretKey: SecretKey
  readonly publicKey: Uint8Array
  readonly proof: Uint8Array
}

/** A pool key: by default the member key of that label (helpers.ts), with its proof of possession. */
export function poolKey(label: string, secretKey: SecretKey = memberSecretKey(label)): PoolKey {
  return { label, secretKey, publicKey: publicKeyOf(secretKey), proof: createProofOfPossession(secretKey) }
}

export function scalarOf(secretKey: SecretKey): bigint {
  return BigInt(`0x${Buffer.from(secretKey.toBytes()).toString('hex')}`)
}

/** The secret key of scalar x mod r (x mod r must not be 0). */
export function secretKeyOfScalar(x: bigint): SecretKey {
  let v = ((x % bls12_381_Fr.ORDER) + bls12_381_Fr.ORDER) % bls12_381_Fr.ORDER
  const bytes = new Uint8Array(32)
  for (let i = 31; i >= 0; i--, v >>= 8n) bytes[i] = Number(v & 0xffn)
  return secretKeyFromBytes(bytes)
}

/** sk' = r - sk: its key is the negation of sk's, and it has a valid proof of possession of its own. */
export function negatedSecretKey(secretKey: SecretKey): SecretKey {
  return secretKeyOfScalar(-scalarOf(secretKey))
}

export const POOL: readonly PoolKey[] = Array.from({ length: 10 }, (_, i) => poolKey(`rogue-${i}`))
export const NEGATED_POOL: readonly PoolKey[] = POOL.map((k) =>
  poolKey(`${k.label}-negated`, negatedSecretKey(k.secretKey)),
)

export function memberOf(key: PoolKey, stake: bigint, peerLabel = key.label): MemberInput {
  return { peerId: peerIdFor(peerLabel), publicKey: key.publicKey, proofOfPossession: key.proof, stake }
}

/** `count` distinct pool keys, none of `exclude`, in random order. */
export function drawKeys(random: Random, count: number, exclude: readonly PoolKey[] = []): PoolKey[] {
  const left = POOL.filter((k) => !exclude.includes(k))
  const out: PoolKey[] = []
  while (out.length < count && left.length > 0) out.push(left.splice(randomInt(random, left.length), 1)[0]!)
  return out
}

export function randomStake(random: Random): bigint {
  return BigInt(1 + randomInt(random, 100)) * 10n ** BigInt(randomInt(random, 19))
}

/** Inserts `item` at a random position. */
export function insertAt<T>(random: Random, items: readonly T[], item: T): { items: T[]; index: number } {
  const index = randomInt(random, items.length + 1)
  return { items: [...items.slice(0, index), item, ...items.slice(index)], index }
}

export function newCommittee(members: readonly MemberInput[], sequencers?: readonly Sequencer[]): Committee {
  return new Committee({ networkId: 1, epoch: 0, members, sequencers }, { verifier: blsKeyVerifier })
}

/** A committee built once from pool keys, with the secret key behind each member index. */
export interface Signed {
  readonly committee: Committee
  readonly keys: readonly PoolKey[]
}

/** Committees of 3 to 6 members with varied stakes, built by the production verifier. */
export const COMMITTEES: readonly Signed[] = [3, 4, 5, 6].map((size) => {
  const random = caseRandom('committees', size)
  const keys = drawKeys(random, size)
  return { committee: newCommittee(keys.map((k) => memberOf(k, randomStake(random)))), keys }
})

/** Members, in random order, until they hold q of the stake. */
export function thresholdSet(random: Random, { committee }: Signed): number[] {
  const order = shuffle(
    random,
    committee.members.map((m) => m.index),
  )
  const chosen: number[] = []
  let stake = 0n
  for (const i of order) {
    chosen.push(i)
    stake += committee.members[i]!.stake
    if (committee.reachesThreshold(stake)) break
  }
  return chosen.sort((a, b) => a - b)
}

export function headerOf(signed: Signed, seed: string): BlobHeader {
  const { committee } = signed
  return headerFor(
    { networkId: committee.networkId, epoch: committee.epoch, encoding: referenceShape(committee) },
    seed,
  )
}

/** Signatures of `signers` (repeats allowed) over the attestation message of `header`, summed. */
export function signatureOf(signed: Signed, header: BlobHeader, signers: readonly number[]): Uint8Array {
  const context = attestationContextOf(header)
  const parts = signers.map((i) => decodeSignature(signAttestation(signed.keys[i]!.secretKey, context).signature))
  return aggregateSignatures(parts).toBytes(true)
}

/** A certificate with the given bitmap signers, signature and claimed stake (by default: what the bitmap holds). */
export function certificateOf(
  signed: Signed,
  header: BlobHeader,
  bitmap: readonly number[],
  signature: Uint8Array,
  signedStake?: bigint,
): Certificate {
  const { committee } = signed
  const distinct = [...new Set(bitmap)]
  return {
    version: 1,
    epoch: committee.epoch,
    header,
    memberCount: committee.size,
    signers: bitmapFromSigners(committee.size, bitmap),
    signature,
    signedStake: signedStake ?? distinct.reduce((sum, i) => sum + committee.members[i]!.stake, 0n),
  }
}

/** What one layer did with an input: the code it refused it with, or ACCEPTED. */
export const ACCEPTED = 'ACCEPTED'

export function codeOf(fn: () => unknown): string {
  try {
    fn()
    return ACCEPTED
  } catch (err) {
    if (err instanceof DacnetError) return err.code
    return `UNTYPED ${(err as Error)?.message ?? String(err)}`
  }
}

/** One check of a case: the layer, the code it must give, and the code it gave. */
export interface Check {
  readonly layer: string
  readonly expected: string
  readonly observed: string
}

export interface CaseResult {
  readonly family: string
  readonly index: number
  readonly variant: string
  readonly checks: readonly Check[]
}

/** Results of every case, for the summary test. */
export const RESULTS: CaseResult[] = []

export function check(layer: string, expected: string, observed: string): Check {
  return { layer, expected, observed }
}

/** Runs `count` cases of a family, cycling through its variants, and returns the ones that went wrong. */
export async function runFamily(
  family: string,
  count: number,
  variants: Record<string, (random: Random, index: number) => Check[] | Promise<Check[]>>,
): Promise<string[]> {
  const names = Object.keys(variants)
  const failures: string[] = []
  for (let index = 0; index < count; index++) {
    const variant = names[index % names.length]!
    const checks = await variants[variant]!(caseRandom(family, index), index)
    RESULTS.push({ family, index, variant, checks })
    for (const c of checks) {
      if (c.observed !== c.expected) {
        failures.push(`${family}#${index} ${variant} at ${c.layer}: expected ${c.expected}, got ${c.observed}`)
      }
    }
  }
  return failures
}
