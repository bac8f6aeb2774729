import { createHash } from 'node:crypto'
import { signAttestation } from '../../src/attest/attestation.ts'
import { aggregateSignatures, decodeSignature, type SecretKey, secretKeyFromIkm } from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { publicKeyOf } from '../../src/attest/keys.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { blsKeyVerifier, createProofOfPossession } from '../../src/attest/pop.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { Committee, type CommitteeInput } from '../../src/committee/committee.ts'
import type { MemberInput } from '../../src/committee/member.ts'
import { type EncodingParams, largestSafeK } from '../../src/committee/params.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { peerIdFor } from '../committee/helpers.ts'

/** A deterministic member key: IETF KeyGen over SHA-256("dacnet-test-vector-member-<i>"). */
export function memberSecretKey(label: string | number) {
  return secretKeyFromIkm(new Uint8Array(createHash('sha256').update(`dacnet-test-vector-member-${label}`).digest()))
}

export function realMember(i: number, stake: bigint, label: string | number = i): MemberInput {
  const sk = memberSecretKey(label)
  return {
    peerId: peerIdFor(String(label)),
    publicKey: publicKeyOf(sk),
    proofOfPossession: createProofOfPossession(sk),
    stake,
  }
}

/** A committee of real BLS keys with valid proofs, checked by the production verifier. */
export function realCommittee(stakes: readonly bigint[], extra: Partial<CommitteeInput> = {}): Committee {
  return new Committee(
    { networkId: 1, epoch: 0, members: stakes.map((s, i) => realMember(i, s)), ...extra },
    { verifier: blsKeyVerifier },
  )
}

/** The canonical shard size for (dataSize, k): the erasure layer's rule, restated to keep tests self-contained. */
function shardSizeFor(dataSize: number, k: number): number {
  return Math.max(64, Math.ceil(Math.ceil(dataSize / k) / 64) * 64)
}

/**
 * A safe (k, n) for certificate tests, fixed by the committee alone: the largest safe k at n = the power of two
 * >= 32 shards a member (at least 16, doubled while no k is safe), or at the file's fixed totalShards. (39, 128)
 * for the 4-member vector committee. Certificates are checked against the safety rule (PROTOCOL.md §2.3), not
 * the dispersal policy, so any safe shape serves them; this one, every blob's shape before n was chosen per blob,
 * keeps the certificate vectors of §2.5, §2.7 and §4.5 as they were.
 */
export function referenceShape(committee: Committee): EncodingParams {
  if (committee.totalShards !== undefined) return committee.shapeFor(0)
  for (let n = 2 ** Math.ceil(Math.log2(Math.max(16, 32 * committee.size))); n <= 65536; n *= 2) {
    const k = largestSafeK(committee, n)
    if (k >= 1) return { k, n }
  }
  throw new Error(`no safe shape for ${committee.size} members`)
}

/**
 * A valid version-1 header for a committee's epoch, with the shape given as `encoding` or else the committee's
 * referenceShape; `seed` varies the root (and so the blob id).
 */
export function headerFor(
  committee: Committee | { networkId: number; epoch: number; encoding: EncodingParams },
  seed = 'blob',
  dataSize = 1000,
): BlobHeader {
  const { k, n } = 'encoding' in committee ? committee.encoding : referenceShape(committee)
  return {
    version: 1,
    networkId: committee.networkId,
    epoch: committee.epoch,
    dataSize,
    k,
    n,
    shardSize: shardSizeFor(dataSize, k),
    root: new Uint8Array(createHash('sha256').update(`dacnet vector root ${seed}`).digest()),
  }
}

export function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`
}

/**
 * A certificate of `committee` signed by the members at `signers`, each with the key `secretKeyOf(index)` gives
 * (memberSecretKey(i) by default), over a header for `encoding` (the committee's referenceShape unless given).
 */
export function signedCertificate(
  committee: Committee,
  signers: readonly number[],
  opts: {
    encoding?: { k: number; n: number }
    seed?: string
    secretKeyOf?: (index: number) => SecretKey
  } = {},
): Certificate {
  const encoding = opts.encoding ?? referenceShape(committee)
  const header = headerFor({ networkId: committee.networkId, epoch: committee.epoch, encoding }, opts.seed)
  const context = attestationContextOf(header)
  const keyOf = opts.secretKeyOf ?? memberSecretKey
  const signatures = signers.map((i) => decodeSignature(signAttestation(keyOf(i), context).signature))
  return {
    version: 1,
    epoch: committee.epoch,
    header,
    memberCount: committee.size,
    signers: bitmapFromSigners(committee.size, signers),
    signature: aggregateSignatures(signatures).toBytes(true),
    signedStake: signers.reduce((sum, i) => sum + committee.members[i]!.stake, 0n),
  }
}
