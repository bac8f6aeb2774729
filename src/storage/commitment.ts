import type { BlobHeader } from '../erasure/header.ts'
import { HASH_SIZE, proofLength, verifyMerkleProof } from '../erasure/merkle.ts'

/**
 * The one place where storage meets the commitment scheme (a SHA-256 Merkle tree today, DESIGN decision 1).
 * Storage needs two facts from it: the proof length of a shard, fixed by header and index (which keeps stored
 * values free of length fields), and whether a proof holds. A second scheme (KZG cells) would be chosen here
 * by header version, and nothing else in src/storage would change.
 */
export function proofBytes(header: Pick<BlobHeader, 'n'>, index: number): number {
  return proofLength(index, header.n) * HASH_SIZE
}

export function verifyShardProof(header: BlobHeader, index: number, data: Uint8Array, proof: Uint8Array): boolean {
  return verifyMerkleProof(header.root, index, header.n, data, proof)
}
