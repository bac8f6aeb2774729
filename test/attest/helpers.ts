import { createHash } from 'node:crypto'
import { secretKeyFromIkm } from '../../src/attest/bls.ts'
import { publicKeyOf } from '../../src/attest/keys.ts'
import { blsKeyVerifier, createProofOfPossession } from '../../src/attest/pop.ts'
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
