/** Bytes in a compressed BLS12-381 G1 public key (min-pk: keys in G1). */
export const PUBLIC_KEY_SIZE = 48
/** Bytes in a compressed BLS12-381 G2 signature, which is what a proof of possession is. */
export const POP_SIZE = 96

/** One committee member in one epoch. Its index is its position in the file and in signer bitmaps. */
export interface Member {
  readonly index: number
  /** Canonical libp2p peer id (base58btc multihash). */
  readonly peerId: string
  /** Compressed G1 BLS public key, checked to be a valid subgroup point, not infinity. */
  readonly publicKey: Uint8Array
  /** Signature over the member's own public key; see attest/pop.ts. */
  readonly proofOfPossession: Uint8Array
  /** Positive integer stake, in the staking token's smallest unit. */
  readonly stake: bigint
  /** Where to dial the member; optional because the DHT can find it by peer id. */
  readonly multiaddrs: readonly string[]
}

/** A sequencer allowed to disperse blobs: known by its peer id, its public key, or both. */
export interface Sequencer {
  readonly peerId?: string | undefined
  readonly publicKey?: Uint8Array | undefined
}

/** What a member entry is made of before validation (from a file, or later an L1 contract). */
export interface MemberInput {
  peerId: string
  publicKey: Uint8Array
  proofOfPossession: Uint8Array
  stake: bigint
  multiaddrs?: readonly string[] | undefined
}

/** Why a key was refused by a MemberKeyVerifier. */
export interface KeyProblem {
  kind: 'malformed-key' | 'invalid-pop'
  detail: string
}

/**
 * Checks BLS keys and proofs of possession on behalf of the committee. The committee layer holds no
 * cryptography; `attest` supplies the implementation (`blsKeyVerifier`), which decodes every key with
 * subgroup and infinity checks and verifies each proof (batched, with a per-key fallback).
 */
export interface MemberKeyVerifier {
  /**
   * One result per entry, in order: undefined when the key is valid and, if a proof is given, the proof
   * verifies against it. Sequencer keys are checked without a proof.
   */
  checkKeys(entries: readonly { publicKey: Uint8Array; proofOfPossession?: Uint8Array }[]): (KeyProblem | undefined)[]
}
