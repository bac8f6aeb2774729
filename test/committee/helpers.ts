import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { Committee, type CommitteeInput } from '../../src/committee/committee.ts'
import type { MemberInput, MemberKeyVerifier } from '../../src/committee/member.ts'

/**
 * Accepts every key: for tests of the committee's own rules, which must not depend on BLS. Tests of key
 * and proof checks use blsKeyVerifier from attest (test/attest).
 */
export const acceptAllKeys: MemberKeyVerifier = { checkKeys: (entries) => entries.map(() => undefined) }

/** A deterministic Ed25519-style peer id (identity multihash of a protobuf public key), as libp2p prints it. */
export function peerIdFor(seed: string): string {
  const key = createHash('sha256').update(`peer ${seed}`).digest()
  const multihash = new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...key])
  return base58btc.baseEncode(multihash)
}

/** Deterministic bytes standing in for a key (these tests never verify them). */
export function fakeBytes(seed: string, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let offset = 0, i = 0; offset < length; i++, offset += 32) {
    out.set(
      createHash('sha256')
        .update(`${seed}/${i}`)
        .digest()
        .subarray(0, length - offset),
      offset,
    )
  }
  return out
}

export function fakeMember(i: number, stake: bigint): MemberInput {
  return {
    peerId: peerIdFor(String(i)),
    publicKey: fakeBytes(`pk ${i}`, 48),
    proofOfPossession: fakeBytes(`pop ${i}`, 96),
    stake,
  }
}

export function fakeCommittee(stakes: readonly bigint[], extra: Partial<CommitteeInput> = {}): Committee {
  return new Committee(
    { networkId: 7, epoch: 3, members: stakes.map((s, i) => fakeMember(i, s)), ...extra },
    { verifier: acceptAllKeys },
  )
}

/** Small deterministic PRNG (mulberry32) so that property tests are reproducible from their seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 36-byte stand-in blob id (CIDv1 raw sha2-256 prefix + digest). */
export function blobIdFor(seed: string): Uint8Array {
  return new Uint8Array([0x01, 0x55, 0x12, 0x20, ...createHash('sha256').update(`blob ${seed}`).digest()])
}
