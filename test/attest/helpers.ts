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

/** A valid version-1 header for a committee's epoch and encoding; `seed` varies the root (and so the blob id). */
export function headerFor(
  committee: { networkId: number; epoch: number; encoding: { k: number; n: number } },
  seed = 'blob',
  dataSize = 1000,
): BlobHeader {
  const { k, n } = committee.encoding
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
 * (memberSecretKey(i) by default), over a header for `encoding` (the committee's default shape unless given).
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
  const encoding = opts.encoding ?? committee.encoding
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
