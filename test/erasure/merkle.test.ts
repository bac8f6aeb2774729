import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  allProofs,
  buildMerkleTree,
  HASH_SIZE,
  leafHash,
  merkleProof,
  proofLength,
  verifyMerkleProof,
  verifyProofBatch,
  verifyProofRun,
} from '../../src/erasure/merkle.ts'

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** RFC 9162 §2.1.1 MTH, written from the RFC's recursive definition: an independent reference. */
function rfcRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return sha256(new Uint8Array([0]), leaves[0]!)
  let split = 1
  while (split * 2 < leaves.length) split *= 2
  return sha256(new Uint8Array([1]), rfcRoot(leaves.slice(0, split)), rfcRoot(leaves.slice(split)))
}

const shardsOf = (n: number, size = 64) => Array.from({ length: n }, () => new Uint8Array(randomBytes(size)))

describe('Merkle commitment', () => {
  it('equals RFC 9162 MTH for every n from 1 to 70 and some large n', () => {
    for (const n of [...Array.from({ length: 70 }, (_, i) => i + 1), 127, 128, 129, 1000, 4096]) {
      const shards = shardsOf(n, 8)
      expect(Buffer.from(buildMerkleTree(shards).root).toString('hex'), `n=${n}`).toBe(
        Buffer.from(rfcRoot(shards)).toString('hex'),
      )
    }
  })

  it('proves every leaf, with the documented proof length', () => {
    for (const n of [1, 2, 3, 5, 6, 7, 8, 9, 13, 31, 33, 100]) {
      const shards = shardsOf(n)
      const tree = buildMerkleTree(shards)
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(tree, i)
        expect(proof.length).toBe(proofLength(i, n) * HASH_SIZE)
        expect(verifyMerkleProof(tree.root, i, n, shards[i]!, proof), `n=${n} i=${i}`).toBe(true)
      }
      expect(allProofs(tree), `n=${n}`).toEqual(Array.from({ length: n }, (_, i) => merkleProof(tree, i)))
    }
  })

  it('hashes a leaf as SHA-256(0x00 || shard) whatever its size, and in any order of sizes', () => {
    for (const size of [0, 1, 3080, 70_000, 256 * 1024, 256 * 1024 + 1, 5, 600_000, 64]) {
      const shard = new Uint8Array(randomBytes(size))
      expect(leafHash(shard), `size ${size}`).toEqual(sha256(new Uint8Array([0]), shard))
    }
  })

  it('refuses a proof for the wrong index, shard, root, leaf count, or a tampered proof', () => {
    const n = 13
    const shards = shardsOf(n)
    const tree = buildMerkleTree(shards)
    const proof = merkleProof(tree, 6)
    const shard = shards[6]!
    expect(verifyMerkleProof(tree.root, 6, n, shard, proof)).toBe(true)
    expect(verifyMerkleProof(tree.root, 7, n, shard, proof)).toBe(false)
    expect(verifyMerkleProof(tree.root, 6, n, shards[7]!, proof)).toBe(false)
    const flipped = shard.slice()
    flipped[10]! ^= 1
    expect(verifyMerkleProof(tree.root, 6, n, flipped, proof)).toBe(false)
    const otherRoot = tree.root.slice()
    otherRoot[0]! ^= 0x80
    expect(verifyMerkleProof(otherRoot, 6, n, shard, proof)).toBe(false)
    // In a tree of 7 leaves, leaf 6 has no sibling at the bottom: the proof shape differs.
    expect(verifyMerkleProof(tree.root, 6, 7, shard, proof)).toBe(false)
    const tampered = proof.slice()
    tampered[proof.length - 1]! ^= 1
    expect(verifyMerkleProof(tree.root, 6, n, shard, tampered)).toBe(false)
    expect(verifyMerkleProof(tree.root, 6, n, shard, proof.subarray(0, proof.length - HASH_SIZE))).toBe(false)
    expect(verifyMerkleProof(tree.root, -1, n, shard, proof)).toBe(false)
    expect(verifyMerkleProof(tree.root, n, n, shard, proof)).toBe(false)
  })

  it('separates leaves from nodes: an interior node is not accepted as a leaf', () => {
    const shards = shardsOf(4)
    const tree = buildMerkleTree(shards)
    // The concatenation of two leaf hashes, offered as a one-level-up "shard", must not verify.
    const fakeShard = tree.levels[0]!.slice(0, 2 * HASH_SIZE)
    const proof = merkleProof(tree, 2).subarray(HASH_SIZE)
    expect(verifyMerkleProof(tree.root, 0, 2, fakeShard, proof)).toBe(false)
  })
})

describe('verifyProofBatch', () => {
  const itemsOf = (shards: Uint8Array[], tree: ReturnType<typeof buildMerkleTree>, indices: number[]) =>
    indices.map((index) => ({ index, leaf: leafHash(shards[index]!), proof: merkleProof(tree, index) }))

  it('accepts exactly when every item verifies alone, for many tree sizes and subsets', () => {
    for (const n of [1, 2, 3, 5, 7, 8, 13, 33, 100, 128, 1000]) {
      const shards = shardsOf(n, 16)
      const tree = buildMerkleTree(shards)
      const subsets = [[0], [n - 1], Array.from({ length: n }, (_, i) => i), [...new Set([0, n >> 1, n - 1])]]
      for (const indices of subsets) {
        expect(verifyProofBatch(tree.root, n, itemsOf(shards, tree, indices)), `n=${n} ${indices.length}`).toBe(true)
      }
    }
  })

  it('refuses a batch with one tampered leaf, sibling, index, duplicate, or under another root', () => {
    const n = 100
    const shards = shardsOf(n, 16)
    const tree = buildMerkleTree(shards)
    const indices = [3, 4, 5, 40, 41, 97, 98, 99]
    const good = itemsOf(shards, tree, indices)
    expect(verifyProofBatch(tree.root, n, good)).toBe(true)
    for (let item = 0; item < good.length; item++) {
      // A flipped bit in any sibling of any item's proof, even a sibling whose node the batch also computes.
      for (let byte = 0; byte < good[item]!.proof.length; byte += HASH_SIZE) {
        const proof = good[item]!.proof.slice()
        proof[byte]! ^= 1
        const batch = good.map((g, i) => (i === item ? { ...g, proof } : g))
        expect(verifyProofBatch(tree.root, n, batch), `item ${item} sibling ${byte / HASH_SIZE}`).toBe(false)
      }
      const leaf = good[item]!.leaf.slice()
      leaf[31]! ^= 1
      expect(
        verifyProofBatch(
          tree.root,
          n,
          good.map((g, i) => (i === item ? { ...g, leaf } : g)),
        ),
      ).toBe(false)
    }
    // Two leaves that swap places, a repeated index, an index out of range, a short proof, an empty batch.
    const swapped = good.map((g, i) =>
      i === 0 ? { ...g, leaf: good[1]!.leaf } : i === 1 ? { ...g, leaf: good[0]!.leaf } : g,
    )
    expect(verifyProofBatch(tree.root, n, swapped)).toBe(false)
    expect(verifyProofBatch(tree.root, n, [...good, good[2]!])).toBe(false)
    expect(verifyProofBatch(tree.root, n, [...good, { ...good[0]!, index: n }])).toBe(false)
    expect(verifyProofBatch(tree.root, n, [{ ...good[0]!, proof: good[0]!.proof.subarray(HASH_SIZE) }])).toBe(false)
    expect(verifyProofBatch(tree.root, n, [])).toBe(false)
    const otherRoot = tree.root.slice()
    otherRoot[5]! ^= 1
    expect(verifyProofBatch(otherRoot, n, good)).toBe(false)
    // The same proofs under another leaf count have another shape.
    expect(verifyProofBatch(tree.root, n + 1, good)).toBe(false)
  })

  it('takes its items in any order: a shuffled batch has the verdict of the sorted one', () => {
    const n = 1000
    const shards = shardsOf(n, 16)
    const tree = buildMerkleTree(shards)
    const indices = [999, 3, 500, 4, 250, 998, 0, 501]
    expect(verifyProofBatch(tree.root, n, itemsOf(shards, tree, indices))).toBe(true)
    const bad = itemsOf(shards, tree, indices)
    bad[2] = { ...bad[2]!, leaf: bad[3]!.leaf }
    expect(verifyProofBatch(tree.root, n, bad)).toBe(false)
  })
})

describe('verifyProofRun', () => {
  const runOf = (shards: Uint8Array[], tree: ReturnType<typeof buildMerkleTree>, indices: number[]) => {
    const leaves = new Uint8Array(indices.length * HASH_SIZE)
    indices.forEach((index, t) => {
      leaves.set(leafHash(shards[index]!), t * HASH_SIZE)
    })
    return {
      indices: Int32Array.from(indices),
      leaves,
      proofs: indices.map((index) => merkleProof(tree, index)),
    }
  }

  it('accepts a member-sized run and every contiguous or scattered run, as each shard alone would', () => {
    for (const n of [1, 2, 7, 100, 4096]) {
      const shards = shardsOf(n, 16)
      const tree = buildMerkleTree(shards)
      const runs = [[0], [n - 1], Array.from({ length: Math.min(n, 1300) }, (_, i) => i + (n > 1300 ? 1000 : 0))]
      if (n > 3) runs.push([1, 2, n - 2])
      for (const indices of runs) {
        const { indices: at, leaves, proofs } = runOf(shards, tree, indices)
        expect(verifyProofRun(tree.root, n, at, leaves, proofs), `n=${n} ${indices.length}`).toBe(true)
      }
    }
  })

  it('refuses indices out of order or repeated, a leaf buffer of another length, and leaves the given ones as they were', () => {
    const n = 100
    const shards = shardsOf(n, 16)
    const tree = buildMerkleTree(shards)
    const run = runOf(shards, tree, [10, 11, 12, 60])
    const leavesBefore = run.leaves.slice()
    expect(verifyProofRun(tree.root, n, run.indices, run.leaves, run.proofs)).toBe(true)
    expect(run.leaves).toEqual(leavesBefore)
    const outOfOrder = runOf(shards, tree, [11, 10, 12, 60])
    expect(verifyProofRun(tree.root, n, outOfOrder.indices, outOfOrder.leaves, outOfOrder.proofs)).toBe(false)
    const repeated = runOf(shards, tree, [10, 11, 11, 60])
    expect(verifyProofRun(tree.root, n, repeated.indices, repeated.leaves, repeated.proofs)).toBe(false)
    expect(verifyProofRun(tree.root, n, run.indices, run.leaves.subarray(HASH_SIZE), run.proofs)).toBe(false)
    expect(verifyProofRun(tree.root, n, run.indices, run.leaves, run.proofs.slice(1))).toBe(false)
    const flipped = run.leaves.slice()
    flipped[3 * HASH_SIZE]! ^= 1
    expect(verifyProofRun(tree.root, n, run.indices, flipped, run.proofs)).toBe(false)
  })
})
