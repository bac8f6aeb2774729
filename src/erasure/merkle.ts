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

/**
 * Shards up to this size are hashed as one SHA-256 call over `0x00 || shard` copied into a scratch buffer kept
 * for the purpose: a 3 KiB shard's copy costs less than the hash object that feeding the prefix and the shard
 * separately needs (16,384 leaves of 3 KiB: 75-100 -> 52-62 ms). Larger shards are fed in two updates.
 */
const SCRATCH_LEAF_MAX_BYTES = 256 * 1024
let leafScratch = new Uint8Array(1 + 4096)
/** `0x00 || shard` in leafScratch for the last shard size hashed: kept, as shards of one blob are all one size. */
let leafInput = leafScratch.subarray(0, 1)

/**
 * Writes leaf(shard) at `out[offset .. offset + 32)`. The digest comes back from OpenSSL as a 32-character
 * 'binary' (latin1) string, one character a byte: a small object of V8's heap, rather than as a Buffer, whose
 * backing store outside the heap costs more to make and to free than the bytes are worth (1,024 leaves of 3 KiB:
 * 2.63 -> 1.94 ms).
 */
export function leafHashInto(shard: Uint8Array, out: Uint8Array, offset: number): void {
  if (shard.length > SCRATCH_LEAF_MAX_BYTES) {
    putDigest(createHash('sha256').update(LEAF_PREFIX).update(shard).digest('binary'), out, offset)
    return
  }
  if (leafInput.length !== 1 + shard.length) {
    if (leafScratch.length < 1 + shard.length) leafScratch = new Uint8Array(1 + shard.length)
    leafScratch[0] = LEAF_PREFIX[0]!
    leafInput = leafScratch.subarray(0, 1 + shard.length)
  }
  leafInput.set(shard, 1)
  putDigest(hash('sha256', leafInput, 'binary'), out, offset)
}

/** leaf(shard) as a fresh 32-byte array. */
export function leafHash(shard: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_SIZE)
  leafHashInto(shard, out, 0)
  return out
}

/** The bytes of a digest given as a 'binary' (latin1) string, at `out[offset ..]`. */
function putDigest(latin1: string, out: Uint8Array, offset: number): void {
  for (let b = 0; b < HASH_SIZE; b++) out[offset + b] = latin1.charCodeAt(b)
}

function nodeHashInto(left: Uint8Array, right: Uint8Array, scratch: Uint8Array): Uint8Array {
  scratch[0] = NODE_PREFIX
  scratch.set(left, 1)
  scratch.set(right, 1 + HASH_SIZE)
  const node = new Uint8Array(HASH_SIZE)
  hashNodeInput(scratch, node, 0)
  return node
}

/**
 * Writes SHA-256 of `input` (`0x01 || left || right`, 65 bytes) at `out[offset ..]`: OpenSSL's one-shot hash with
 * its digest as a 'binary' string, as for leaves. 3,355 node hashes (a member's run of a 16 MiB blob) take 1.2 ms
 * here against 2.9 ms through @chainsafe/as-sha256's WebAssembly `digest`, whose per-call copies in and out of its
 * memory and fresh output array cost more than the two SHA-256 blocks.
 */
function hashNodeInput(input: Uint8Array, out: Uint8Array, offset: number): void {
  putDigest(hash('sha256', input, 'binary'), out, offset)
}

/** Builds the tree from precomputed leaf hashes (n * 32 bytes, leaf i at offset 32 i). */
export function buildTreeFromLeaves(leaves: Uint8Array): MerkleTree {
  const leafCount = leaves.length / HASH_SIZE
  if (!Number.isInteger(leafCount) || leafCount < 1) {
    throw erasureError(ErasureErrorCode.INVALID_SHARD, 'a Merkle tree needs at least one leaf')
  }
  const levels: Uint8Array[] = [leaves]
  const scratch = new Uint8Array(1 + 2 * HASH_SIZE)
  scratch[0] = NODE_PREFIX
  let level = leaves
  let count = leafCount
  while (count > 1) {
    const nextCount = Math.ceil(count / 2)
    const next = new Uint8Array(nextCount * HASH_SIZE)
    for (let j = 0; j < count >> 1; j++) {
      copyBytes(scratch, 1, level, 2 * j * HASH_SIZE, 2 * HASH_SIZE)
      hashNodeInput(scratch, next, j * HASH_SIZE)
    }
    if (count % 2 === 1) next.set(level.subarray((count - 1) * HASH_SIZE), (nextCount - 1) * HASH_SIZE)
    levels.push(next)
    level = next
    count = nextCount
  }
  return { levels, root: level.slice(0, HASH_SIZE), leafCount }
}

/**
 * The tree over `shards`. `knownLeaves` (index -> leaf hash) spares hashing shards whose leaf hash the caller
 * already computed from the same bytes (a decoder's checked shards): the caller vouches that they are.
 */
export function buildMerkleTree(
  shards: readonly Uint8Array[],
  knownLeaves?: ReadonlyMap<number, Uint8Array>,
): MerkleTree {
  const leaves = new Uint8Array(shards.length * HASH_SIZE)
  shards.forEach((shard, i) => {
    const known = knownLeaves?.get(i)
    if (known === undefined) leafHashInto(shard, leaves, i * HASH_SIZE)
    else leaves.set(known, i * HASH_SIZE)
  })
  return buildTreeFromLeaves(leaves)
}

/** The proof for leaf `index`: its siblings bottom-up, concatenated. */
export function merkleProof(tree: MerkleTree, index: number): Uint8Array {
  checkLeafIndex(tree, index)
  const proof = new Uint8Array(proofLength(index, tree.leafCount) * HASH_SIZE)
  writeProof(tree, index, proof, 0)
  return proof
}

/**
 * Every leaf's proof, in one buffer (leaf 0's first): `proofs[i]` is a view of it. An encoder hands the buffer
 * over as one piece, and writing the siblings straight into it spares a small array per proof. `into`, when at least
 * as large as the proofs, is that buffer (its bytes past them are left as they are); otherwise a new one is made.
 */
export function allProofs(tree: MerkleTree, into?: ArrayBuffer): Uint8Array[] {
  const n = tree.leafCount
  const lengths = new Array<number>(n)
  let total = 0
  for (let i = 0; i < n; i++) {
    lengths[i] = proofLength(i, n) * HASH_SIZE
    total += lengths[i]!
  }
  const arena = into !== undefined && into.byteLength >= total ? new Uint8Array(into, 0, total) : new Uint8Array(total)
  const proofs = new Array<Uint8Array>(n)
  let offset = 0
  for (let i = 0; i < n; i++) {
    writeProof(tree, i, arena, offset)
    proofs[i] = arena.subarray(offset, offset + lengths[i]!)
    offset += lengths[i]!
  }
  return proofs
}

function checkLeafIndex(tree: MerkleTree, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= tree.leafCount) {
    throw erasureError(ErasureErrorCode.INVALID_SHARD, `no leaf ${index} in a tree of ${tree.leafCount}`, { index })
  }
}

/** Writes leaf `index`'s siblings, bottom-up, into `out` from `offset`. */
function writeProof(tree: MerkleTree, index: number, out: Uint8Array, offset: number): void {
  let i = index
  let count = tree.leafCount
  let at = offset
  for (let depth = 0; count > 1; depth++) {
    const sibling = i % 2 === 1 ? i - 1 : i + 1 < count ? i + 1 : -1
    if (sibling >= 0) {
      out.set(tree.levels[depth]!.subarray(sibling * HASH_SIZE, (sibling + 1) * HASH_SIZE), at)
      at += HASH_SIZE
    }
    i >>= 1
    count = Math.ceil(count / 2)
  }
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

/** One leaf of a batch to verify: its index, its leaf hash and its proof. */
export interface ProofItem {
  readonly index: number
  readonly leaf: Uint8Array
  readonly proof: Uint8Array
}

/**
 * True iff every item's proof shows its leaf at its index under `root`: the same verdict as `rootFromProof` for
 * each item, with far fewer hashes when the items are many. Items in any order; see verifyProofRun.
 */
export function verifyProofBatch(root: Uint8Array, leafCount: number, items: readonly ProofItem[]): boolean {
  const m = items.length
  const sorted = isSortedByIndex(items) ? items : [...items].sort((a, b) => a.index - b.index)
  const indices = new Int32Array(m)
  const leaves = new Uint8Array(m * HASH_SIZE)
  const proofs = new Array<Uint8Array>(m)
  for (let t = 0; t < m; t++) {
    const { index, leaf, proof } = sorted[t]!
    if (!Number.isInteger(index) || index < 0 || index >= leafCount || leaf.length !== HASH_SIZE) return false
    indices[t] = index
    leaves.set(leaf, t * HASH_SIZE)
    proofs[t] = proof
  }
  return verifyProofRun(root, leafCount, indices, leaves, proofs)
}

/**
 * True iff every proof shows its leaf at its index under `root`, for shards given as parallel arrays in strictly
 * increasing index order (leaf t at `leaves[32 t ..]`, e.g. a member's run of shards): the same verdict as
 * `rootFromProof` for each, with far fewer hashes when they are many. The paths of a member's shards share their
 * upper nodes, so the union of the paths is computed once, level by level, and each node of it is hashed once.
 * Indices out of order or repeated are false.
 *
 * Why it is the same verdict: at every level, every item whose path passes through a node claims the same sibling
 * for it (its proof's entry for that level); those claims must be byte-equal to each other and, where the sibling
 * is itself on the union of paths, to the node computed here. So each item's own fold meets exactly the values
 * used here at every level and reaches the root computed here. A false result says only that some item fails;
 * callers find which one by checking each alone.
 */
export function verifyProofRun(
  root: Uint8Array,
  leafCount: number,
  indices: Int32Array,
  leaves: Uint8Array,
  proofs: readonly Uint8Array[],
): boolean {
  const m = indices.length
  if (m === 0 || root.length !== HASH_SIZE || leaves.length !== m * HASH_SIZE || proofs.length !== m) return false
  // The frontier: the distinct path nodes of the current level, ascending, `size` of them. Entry j stands for the
  // items starts[j] .. starts[j + 1] - 1, whose paths pass through it. Two buffers of each, swapped level by level.
  let positions = new Int32Array(m)
  let nextPositions = new Int32Array(m)
  let starts = new Int32Array(m + 1)
  let nextStarts = new Int32Array(m + 1)
  let nodes = leaves.slice()
  let nextNodes = new Uint8Array(m * HASH_SIZE)
  const used = new Int32Array(m) // sibling entries consumed so far, per item
  for (let t = 0; t < m; t++) {
    const index = indices[t]!
    if (index < 0 || index >= leafCount || (t > 0 && index <= indices[t - 1]!)) return false
    if (proofs[t]!.length !== proofLength(index, leafCount) * HASH_SIZE) return false
    positions[t] = index
    starts[t] = t
  }
  starts[m] = m
  let size = m
  const scratch = new Uint8Array(1 + 2 * HASH_SIZE)
  scratch[0] = NODE_PREFIX
  for (let count = leafCount; count > 1; count = Math.ceil(count / 2)) {
    let next = 0
    let j = 0
    while (j < size) {
      const pos = positions[j]!
      const out = next * HASH_SIZE
      nextStarts[next] = starts[j]!
      nextPositions[next] = pos >> 1
      if (pos % 2 === 0 && pos + 1 >= count) {
        // The last node of an odd level moves up unchanged; no proof has an entry for this level.
        copyBytes(nextNodes, out, nodes, j * HASH_SIZE, HASH_SIZE)
        j++
      } else if (pos % 2 === 0 && j + 1 < size && positions[j + 1] === pos + 1) {
        // Both children are on the union of paths: each side's claims must equal the other's computed node.
        if (!claimsEqual(proofs, used, starts[j]!, starts[j + 1]!, nodes, (j + 1) * HASH_SIZE)) return false
        if (!claimsEqual(proofs, used, starts[j + 1]!, starts[j + 2]!, nodes, j * HASH_SIZE)) return false
        copyBytes(scratch, 1, nodes, j * HASH_SIZE, 2 * HASH_SIZE)
        hashNodeInput(scratch, nextNodes, out)
        j += 2
      } else {
        // The sibling is off the union: every item below claims it, and all claims must agree.
        const first = starts[j]!
        const proof = proofs[first]!
        const at = used[first]! * HASH_SIZE
        if (!claimsEqual(proofs, used, first + 1, starts[j + 1]!, proof, at)) return false
        used[first]!++
        copyBytes(scratch, pos % 2 === 1 ? 1 : 1 + HASH_SIZE, proof, at, HASH_SIZE)
        copyBytes(scratch, pos % 2 === 1 ? 1 + HASH_SIZE : 1, nodes, j * HASH_SIZE, HASH_SIZE)
        hashNodeInput(scratch, nextNodes, out)
        j++
      }
      next++
    }
    nextStarts[next] = m
    ;[positions, nextPositions] = [nextPositions, positions]
    ;[starts, nextStarts] = [nextStarts, starts]
    ;[nodes, nextNodes] = [nextNodes, nodes]
    size = next
  }
  return bytesEqual(nodes.subarray(0, HASH_SIZE), root)
}

function isSortedByIndex(items: readonly ProofItem[]): boolean {
  for (let t = 1; t < items.length; t++) if (items[t]!.index < items[t - 1]!.index) return false
  return true
}

/** `length` bytes of `src` from `from` into `dst` at `at`: for a few dozen bytes, cheaper than a view to `set`. */
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, length: number): void {
  for (let b = 0; b < length; b++) dst[at + b] = src[from + b]!
}

/**
 * True iff the next unconsumed proof entry of each of proofs[from..to) equals the 32 bytes of `ref` at `refAt`;
 * consumes those entries.
 */
function claimsEqual(
  proofs: readonly Uint8Array[],
  used: Int32Array,
  from: number,
  to: number,
  ref: Uint8Array,
  refAt: number,
): boolean {
  for (let t = from; t < to; t++) {
    const proof = proofs[t]!
    const at = used[t]! * HASH_SIZE
    for (let b = 0; b < HASH_SIZE; b++) if (proof[at + b] !== ref[refAt + b]) return false
    used[t]!++
  }
  return true
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
