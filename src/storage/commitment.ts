import type { BlobHeader } from '../erasure/header.ts'
import { bytesEqual, HASH_SIZE, leafHash, proofLength, rootFromProof, verifyMerkleProof } from '../erasure/merkle.ts'

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

/**
 * Proof verification of stored and read shards, remembering the proofs it has seen hold. A blob id commits to its header and so to
 * the root, and under SHA-256 a (root, index) pair has exactly one valid (leaf, proof): once a value verified, a
 * later read of the same shard is re-checked by hashing its data into the leaf and comparing leaf and proof bytes
 * with the remembered ones, which skips the path of node hashes (log2 n of them: 14 for a 16 MiB blob at 16
 * members, n = 16384). The data is still hashed on every read, so a flipped byte anywhere in the value is caught as
 * before; a value that does not match (or a header with another root) falls back to the full check. Stores verify
 * through it too, so reads of a blob just stored (what light clients sample) find their proofs known. Bounded LRU
 * of `capacity` entries (0 turns it off); an entry holds 64 + proof bytes (512 bytes at n = 16384, at most 576),
 * so the default 16,384 entries hold at most 9 MiB.
 */
export class ShardVerifier {
  readonly #verified = new Map<string, Uint8Array>()
  readonly #capacity: number

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  /** `blobKey` names the blob (its id as a latin1 string); the header must be the one that id commits to. */
  verify(blobKey: string, header: BlobHeader, index: number, data: Uint8Array, proof: Uint8Array): boolean {
    const leaf = leafHash(data)
    const key = blobKey + String.fromCharCode(index >>> 16, index & 0xffff)
    const known = this.#verified.get(key)
    if (known !== undefined && matches(known, header.root, leaf, proof)) {
      this.#verified.delete(key)
      this.#verified.set(key, known)
      return true
    }
    const root = rootFromProof(leaf, index, header.n, proof)
    if (root === null || !bytesEqual(root, header.root)) return false
    if (this.#capacity > 0) this.#remember(key, header.root, leaf, proof)
    return true
  }

  get size(): number {
    return this.#verified.size
  }

  #remember(key: string, root: Uint8Array, leaf: Uint8Array, proof: Uint8Array): void {
    const entry = new Uint8Array(2 * HASH_SIZE + proof.length)
    entry.set(root)
    entry.set(leaf, HASH_SIZE)
    entry.set(proof, 2 * HASH_SIZE)
    this.#verified.delete(key)
    this.#verified.set(key, entry)
    if (this.#verified.size > this.#capacity) {
      const oldest = this.#verified.keys().next().value
      if (oldest !== undefined) this.#verified.delete(oldest)
    }
  }
}

/** An entry is root || leaf || proof: a hit needs all three equal, so a caller pairing a blob key with another
 * header (a root the entry was not verified against) falls back to the full check. */
function matches(known: Uint8Array, root: Uint8Array, leaf: Uint8Array, proof: Uint8Array): boolean {
  if (known.length !== 2 * HASH_SIZE + proof.length) return false
  return (
    Buffer.compare(known.subarray(0, HASH_SIZE), root) === 0 &&
    Buffer.compare(known.subarray(HASH_SIZE, 2 * HASH_SIZE), leaf) === 0 &&
    Buffer.compare(known.subarray(2 * HASH_SIZE), proof) === 0
  )
}
