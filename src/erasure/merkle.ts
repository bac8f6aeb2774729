import { createHash, hash } from 'node:crypto'
import { ErasureErrorCode, erasureError } from './errors.ts'

/** SHA-256 output size, and the size of every node and proof entry. */
export const HASH_SIZE = 32
const LEAF_PREFIX = new Uint8Array([0x00])
const NODE_PREFIX = 0x01

/**
 * Binary SHA-256 Merkle tree over the n shards (RFC 9162 §2.1.1 shape and domain separation):
 *
 *   leaf(i)       = SHA-256(0x00 || shard_i)
 *   node(l, r)    = SHA-256(0x01 || l || r)
 *
 * Built level by level: nodes 2j and 2j+1 of a level are hashed into node j of the next; when a level has
 * an odd count, its last node moves up unchanged (no duplication, no padding leaves). The root is the single
 * node of the top level; for n = 1 it is leaf(0). This is exactly RFC 9162's MTH with its split at the
 * largest power of two below n.
 *
 * A proof is the concatenation of the sibling hashes met on the way from the leaf to the root, bottom
 * first; levels where the node moves up unchanged contribute nothing, so its length is fixed by (index, n).
 */
export interface MerkleTree {
  /** levels[0] holds the n leaf hashes, the last level the root; each level is one flat buffer. */
  levels: Uint8Array[]
  root: Uint8Array
  leafCount: number
}

export function leafHash(shard: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(shard).digest())
}

function nodeHashInto(left: Uint8Array, right: Uint8Array, scratch: Uint8Array): Buffer {
  scratch[0] = NODE_PREFIX
  scratch.set(left, 1)
  scratch.set(right, 1 + HASH_SIZE)
  // One-shot hashing: a third cheaper than createHash for a 65-byte input, and nodes are hashed often.
  return hash('sha256', scratch, 'buffer')
}

/** Builds the tree from precomputed leaf hashes (n * 32 bytes, leaf i at offset 32 i). */
export function buildTreeFromLeaves(leaves: Uint8Array): MerkleTree {
  const leafCount = leaves.length / HASH_SIZE
  if (!Number.isInteger(leafCount) || leafCount < 1) {
    throw erasureError(ErasureErrorCode.INVALID_SHARD, 'a Merkle tree needs at least one leaf')
  }
  const levels: Uint8Array[] = [leaves]
  const scratch = new Uint8Array(1 + 2 * HASH_SIZE)
  let level = leaves
  let count = leafCount
  while (count > 1) {
    const nextCount = Math.ceil(count / 2)
    const next = new Uint8Array(nextCount * HASH_SIZE)
    for (let j = 0; j < count >> 1; j++) {
      const left = level.subarray(2 * j * HASH_SIZE, (2 * j + 1) * HASH_SIZE)
      const right = level.subarray((2 * j + 1) * HASH_SIZE, (2 * j + 2) * HASH_SIZE)
      next.set(nodeHashInto(left, right, scratch), j * HASH_SIZE)
    }
    if (count % 2 === 1) next.set(level.subarray((count - 1) * HASH_SIZE), (nextCount - 1) * HASH_SIZE)
    levels.push(next)
    level = next
    count = nextCount
  }
  return { levels, root: level.slice(0, HASH_SIZE), leafCount }
}

export function buildMerkleTree(shards: readonly Uint8Array[]): MerkleTree {
  const leaves = new Uint8Array(shards.length * HASH_SIZE)
  shards.forEach((shard, i) => {
    leaves.set(leafHash(shard), i * HASH_SIZE)
  })
  return buildTreeFromLeaves(leaves)
}

/** The proof for leaf `index`: its siblings bottom-up, concatenated. */
export function merkleProof(tree: MerkleTree, index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= tree.leafCount) {
    throw erasureError(ErasureErrorCode.INVALID_SHARD, `no leaf ${index} in a tree of ${tree.leafCount}`, { index })
  }
  const siblings: Uint8Array[] = []
  let i = index
  let count = tree.leafCount
  for (let depth = 0; count > 1; depth++) {
    const level = tree.levels[depth]!
    const sibling = i % 2 === 1 ? i - 1 : i + 1 < count ? i + 1 : -1
    if (sibling >= 0) siblings.push(level.subarray(sibling * HASH_SIZE, (sibling + 1) * HASH_SIZE))
    i >>= 1
    count = Math.ceil(count / 2)
  }
  const proof = new Uint8Array(siblings.length * HASH_SIZE)
  siblings.forEach((s, j) => {
    proof.set(s, j * HASH_SIZE)
  })
  return proof
}

/** How many sibling hashes the proof of leaf `index` in a tree of `leafCount` leaves holds. */
export function proofLength(index: number, leafCount: number): number {
  let length = 0
  let i = index
  for (let count = leafCount; count > 1; count = Math.ceil(count / 2)) {
    if (i % 2 === 1 || i + 1 < count) length++
    i >>= 1
  }
  return length
}

/** Recomputes the root from a leaf hash and its proof; null if the proof has the wrong length. */
export function rootFromProof(
  leaf: Uint8Array,
  index: number,
  leafCount: number,
  proof: Uint8Array,
): Uint8Array | null {
  if (!Number.isInteger(index) || index < 0 || index >= leafCount) return null
  if (proof.length !== proofLength(index, leafCount) * HASH_SIZE) return null
  const scratch = new Uint8Array(1 + 2 * HASH_SIZE)
  let hash: Uint8Array = leaf
  let i = index
  let used = 0
  for (let count = leafCount; count > 1; count = Math.ceil(count / 2)) {
    if (i % 2 === 1 || i + 1 < count) {
      const sibling = proof.subarray(used * HASH_SIZE, (used + 1) * HASH_SIZE)
      hash = i % 2 === 1 ? nodeHashInto(sibling, hash, scratch) : nodeHashInto(hash, sibling, scratch)
      used++
    }
    i >>= 1
  }
  return hash
}

/** True iff `proof` shows that `shard` is leaf `index` of the tree of `leafCount` leaves with root `root`. */
export function verifyMerkleProof(
  root: Uint8Array,
  index: number,
  leafCount: number,
  shard: Uint8Array,
  proof: Uint8Array,
): boolean {
  const computed = rootFromProof(leafHash(shard), index, leafCount, proof)
  return computed !== null && bytesEqual(computed, root)
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
