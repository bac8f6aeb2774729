import type { BlobHeader } from '../erasure/header.ts'
import {
  bytesEqual,
  HASH_SIZE,
  leafHash,
  leafHashInto,
  type ProofItem,
  proofLength,
  rootFromProof,
  verifyMerkleProof,
  verifyProofBatch,
  verifyProofRun,
} from '../erasure/merkle.ts'
import type { ShardWithProof } from '../erasure/shard.ts'

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
 * The first of `shards` whose proof does not hold against the header's root, or undefined when all hold. The proofs
 * are checked together: the paths of a member's run of shards share their upper nodes, so its ~1,000 shards of a
 * 16 MiB blob cost about 1,000 node hashes instead of 14,000; only when that fails are they checked one by one to
 * name the bad one.
 */
export function failingShard(header: BlobHeader, shards: readonly ShardWithProof[]): number | undefined {
  if (isRun(shards)) {
    // The usual store, a run in index order: leaf hashes written into one buffer, no object per shard.
    const m = shards.length
    const indices = new Int32Array(m)
    const leaves = new Uint8Array(m * HASH_SIZE)
    const proofs = new Array<Uint8Array>(m)
    for (let t = 0; t < m; t++) {
      const { index, data, proof } = shards[t]!
      indices[t] = index
      leafHashInto(data, leaves, t * HASH_SIZE)
      proofs[t] = proof
    }
    if (verifyProofRun(header.root, header.n, indices, leaves, proofs)) return undefined
  }
  const items: ProofItem[] = shards.map(({ index, data, proof }) => ({ index, leaf: leafHash(data), proof }))
  if (verifyProofBatch(header.root, header.n, items)) return undefined
  const bad = items.find((item) => {
    const root = rootFromProof(item.leaf, item.index, header.n, item.proof)
    return root === null || !bytesEqual(root, header.root)
  })
  // The batch and the single checks agree by construction; were a batch refused with every item holding alone,
  // the whole store would still be refused rather than written unverified.
  return bad?.index ?? shards[0]?.index
}

/** Whether the shards' indices are integers that strictly increase, as verifyProofRun takes them. */
function isRun(shards: readonly ShardWithProof[]): boolean {
  for (let t = 0; t < shards.length; t++) {
    const index = shards[t]!.index
    if (!Number.isInteger(index) || index < 0 || index > 0x7fffffff) return false
    if (t > 0 && index <= shards[t - 1]!.index) return false
  }
  return true
}

/**
 * Proof verification of stored and read shards, remembering the proofs it has seen hold. A blob id commits to its header and so to
 * the root, and under SHA-256 a (root, index) pair has exactly one valid (leaf, proof): once a value verified, a
 * later read of the same shard is re-checked by hashing its data into the leaf and comparing leaf and proof bytes
 * with the remembered ones, which skips the path of node hashes (log2 n of them: 14 for a 16 MiB blob at 16
 * members, n = 16384). The data is still hashed on every read, so a flipped byte anywhere in the value is caught as
 * before; a value that does not match (or a header with another root) falls back to the full check. Stores verify
 * their shards together (`failingShard`), and so do reads of many shards at once (`verifyRun`); both leave the
 * memory to single reads: a member's share is a thousand small shards, and remembering each would cost more than
 * it saves the samples that come back to a few of them. Bounded LRU
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
    const key = entryKey(blobKey, index)
    return this.#known(key, header.root, leaf, proof) || this.#check(key, header, index, leaf, proof)
  }

  /**
   * Verifies shards of one blob read together (the runs a retriever streams, a whole share): proofs not remembered
   * are checked as one batch (`verifyProofBatch`), whose paths share their upper nodes, so a run of shards costs
   * about one node hash each instead of log2 n (14 at n = 16384). Only a batch that fails is checked shard by shard,
   * to name the bad ones. A batch that holds is not remembered: runs are read by retrievers, seldom twice, and would
   * push out the proofs that single reads (samples) come back to. Returns the positions in `shards` that fail.
   */
  verifyRun(blobKey: string, header: BlobHeader, shards: readonly ShardWithProof[]): number[] {
    const items: ProofItem[] = []
    const positions: number[] = []
    shards.forEach(({ index, data, proof }, at) => {
      const leaf = leafHash(data)
      if (this.#known(entryKey(blobKey, index), header.root, leaf, proof)) return
      items.push({ index, leaf, proof })
      positions.push(at)
    })
    if (items.length === 0 || (items.length > 1 && verifyProofBatch(header.root, header.n, items))) return []
    return positions.filter((_, j) => {
      const { index, leaf, proof } = items[j]!
      return !this.#check(entryKey(blobKey, index), header, index, leaf, proof)
    })
  }

  get size(): number {
    return this.#verified.size
  }

  /** True when this very (root, leaf, proof) held before; a hit becomes the most recently used entry. */
  #known(key: string, root: Uint8Array, leaf: Uint8Array, proof: Uint8Array): boolean {
    const known = this.#verified.get(key)
    if (known === undefined || !matches(known, root, leaf, proof)) return false
    this.#verified.delete(key)
    this.#verified.set(key, known)
    return true
  }

  /** The full check of one proof, remembered when it holds. */
  #check(key: string, header: BlobHeader, index: number, leaf: Uint8Array, proof: Uint8Array): boolean {
    const root = rootFromProof(leaf, index, header.n, proof)
    if (root === null || !bytesEqual(root, header.root)) return false
    if (this.#capacity > 0) this.#remember(key, header.root, leaf, proof)
    return true
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

/** The verifier's key of shard `index` of the blob named `blobKey`. */
function entryKey(blobKey: string, index: number): string {
  return blobKey + String.fromCharCode(index >>> 16, index & 0xffff)
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
