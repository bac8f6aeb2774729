/**
 * The registry's member tree (PROTOCOL §4.3) and the multiproof of §4.5 that opens some of its leaves.
 *
 *   leaf_i     = keccak256(x_i ‖ y_i ‖ stake_i)      48 + 48 + 32 bytes
 *   node(l, r) = keccak256(l ‖ r)
 *   ZERO[0]    = 32 zero bytes, ZERO[d+1] = node(ZERO[d], ZERO[d])
 *
 * Leaves sit at positions 0..m−1 of a tree of depth D = ⌈log2 m⌉; a subtree lying wholly at or past m is
 * ZERO of its height. Leaf preimages are 128 bytes and node preimages 64, so no leaf is also a node.
 */
import { keccak256 } from 'viem/utils'
import { ChainErrorCode, chainError } from './errors.ts'
import { FP_SIZE, uintToBytes } from './points.ts'

export const HASH_SIZE = 32
/** x ‖ y ‖ stake: what a leaf hashes, and what the on-chain form carries for each non-signer. */
export const MEMBER_ENTRY_SIZE = 2 * FP_SIZE + 32
/** m ≤ 65,536 members (a u32 bitmap count bounded by MAX_MEMBERS), so D ≤ 16. */
const MAX_DEPTH = 16

/** ZERO[d]: the root of a subtree of height d with no member in it. */
export const ZERO_HASHES: readonly Uint8Array[] = (() => {
  const zeros: Uint8Array[] = [new Uint8Array(HASH_SIZE)]
  for (let d = 0; d < MAX_DEPTH; d++) zeros.push(node(zeros[d]!, zeros[d]!))
  return Object.freeze(zeros)
})()

/** A member's 128-byte tree entry: key coordinates x ‖ y (48 bytes each) and stake as a u256. */
export function memberEntry(x: Uint8Array, y: Uint8Array, stake: bigint): Uint8Array {
  if (x.length !== FP_SIZE || y.length !== FP_SIZE) {
    throw chainError(ChainErrorCode.INVALID_MEMBER_TREE, `key coordinates are ${FP_SIZE} bytes each`)
  }
  const entry = new Uint8Array(MEMBER_ENTRY_SIZE)
  entry.set(x, 0)
  entry.set(y, FP_SIZE)
  entry.set(uintToBytes(stake, 32), 2 * FP_SIZE)
  return entry
}

export function memberLeaf(x: Uint8Array, y: Uint8Array, stake: bigint): Uint8Array {
  return keccak256(memberEntry(x, y, stake), 'bytes')
}

export function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  const preimage = new Uint8Array(2 * HASH_SIZE)
  preimage.set(left, 0)
  preimage.set(right, HASH_SIZE)
  return keccak256(preimage, 'bytes')
}

/** D = ⌈log2 m⌉, 0 for one member. */
export function treeDepth(memberCount: number): number {
  let depth = 0
  while (2 ** depth < memberCount) depth++
  return depth
}

/** The members root over leaves 0..m−1. */
export function membersRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const levels = treeLevels(leaves)
  return levels[levels.length - 1]![0]!
}

/**
 * The proof hashes the §4.5 walk asks for when it opens `indices` (strictly increasing, in 0..m−1), in the
 * order it asks; siblings lying wholly at or past m are ZERO and not included. Empty for no index.
 */
export function multiproof(leaves: readonly Uint8Array[], indices: readonly number[]): Uint8Array[] {
  checkIndices(leaves.length, indices)
  const levels = treeLevels(leaves)
  const proof: Uint8Array[] = []
  walk(
    leaves.length,
    indices.map((i) => ({ position: i, hash: leaves[i]! })),
    (level, position) => {
      const hash = levels[level]![position]!
      proof.push(hash)
      return hash
    },
    node,
    (level) => ZERO_HASHES[level]!,
  )
  return proof
}

/** How many proof hashes the walk consumes for these indices: fixed by (m, indices), so a decoder checks lengths. */
export function multiproofSize(memberCount: number, indices: readonly number[]): number {
  checkIndices(memberCount, indices)
  let size = 0
  const nothing = () => 0
  walk(
    memberCount,
    indices.map((i) => ({ position: i, hash: 0 })),
    () => {
      size++
      return 0
    },
    nothing,
    nothing,
  )
  return size
}

/**
 * The §4.5 walk over `known` leaves (strictly increasing indices in 0..m−1, at least one): true when it
 * consumes every proof hash, no more, and ends at `root`.
 */
export function verifyMultiproof(
  root: Uint8Array,
  memberCount: number,
  known: readonly { index: number; leaf: Uint8Array }[],
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(memberCount) || memberCount < 1 || 2 ** MAX_DEPTH < memberCount || known.length === 0) {
    return false
  }
  if (
    !isIncreasing(
      memberCount,
      known.map((k) => k.index),
    )
  )
    return false
  let used = 0
  const top = walk(
    memberCount,
    known.map((k) => ({ position: k.index, hash: k.leaf })),
    () => proof[used++],
    node,
    (level) => ZERO_HASHES[level]!,
  )
  return top !== undefined && used === proof.length && bytesEqual(top, root)
}

/**
 * The walk of §4.5, generic over what a "hash" is so that one loop serves proving, verifying and sizing.
 * Per level, per known node in order: an even position pairs with the next known node when that is its
 * sibling, else with ZERO (sibling wholly at or past m) or the next proof hash; an odd position's left
 * sibling is always the next proof hash. Returns the last node, or undefined when a proof hash is missing.
 */
function walk<H>(
  memberCount: number,
  known: { position: number; hash: H }[],
  nextProofHash: (level: number, position: number) => H | undefined,
  parent: (left: H, right: H) => H,
  zero: (level: number) => H,
): H | undefined {
  let nodes = known
  const depth = treeDepth(memberCount)
  for (let level = 0; level < depth; level++) {
    const next: { position: number; hash: H }[] = []
    for (let i = 0; i < nodes.length; i++) {
      const { position, hash } = nodes[i]!
      let combined: H
      if (position % 2 === 1) {
        const sibling = nextProofHash(level, position - 1)
        if (sibling === undefined) return undefined
        combined = parent(sibling, hash)
      } else if (nodes[i + 1]?.position === position + 1) {
        combined = parent(hash, nodes[++i]!.hash)
      } else {
        const sibling = (position + 1) * 2 ** level >= memberCount ? zero(level) : nextProofHash(level, position + 1)
        if (sibling === undefined) return undefined
        combined = parent(hash, sibling)
      }
      next.push({ position: position >> 1, hash: combined })
    }
    nodes = next
  }
  return nodes[0]?.hash
}

/** Every level of the tree, leaves first; a level's missing right child is ZERO of that level. */
function treeLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0 || leaves.length > 2 ** MAX_DEPTH) {
    throw chainError(ChainErrorCode.INVALID_MEMBER_TREE, `a member tree has 1..${2 ** MAX_DEPTH} leaves`, {
      leaves: leaves.length,
    })
  }
  if (leaves.some((leaf) => !(leaf instanceof Uint8Array) || leaf.length !== HASH_SIZE)) {
    throw chainError(ChainErrorCode.INVALID_MEMBER_TREE, `member tree leaves are ${HASH_SIZE} bytes`)
  }
  const levels = [leaves.slice()]
  for (let level = 0; levels[level]!.length > 1; level++) {
    const below = levels[level]!
    const above: Uint8Array[] = []
    for (let i = 0; i < below.length; i += 2) above.push(node(below[i]!, below[i + 1] ?? ZERO_HASHES[level]!))
    levels.push(above)
  }
  return levels
}

function checkIndices(memberCount: number, indices: readonly number[]): void {
  if (!Number.isInteger(memberCount) || memberCount < 1 || memberCount > 2 ** MAX_DEPTH) {
    throw chainError(ChainErrorCode.INVALID_MEMBER_TREE, `a member tree has 1..${2 ** MAX_DEPTH} leaves`)
  }
  if (!isIncreasing(memberCount, indices)) {
    throw chainError(ChainErrorCode.INVALID_MEMBER_TREE, `indices must increase strictly within 0..${memberCount - 1}`)
  }
}

function isIncreasing(memberCount: number, indices: readonly number[]): boolean {
  return indices.every((i, j) => Number.isInteger(i) && i >= 0 && i < memberCount && (j === 0 || i > indices[j - 1]!))
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
