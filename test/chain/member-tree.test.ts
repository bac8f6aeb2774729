import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ChainErrorCode } from '../../src/chain/errors.ts'
import {
  memberEntry,
  memberLeaf,
  membersRoot,
  multiproof,
  multiproofSize,
  node,
  treeDepth,
  verifyMultiproof,
  ZERO_HASHES,
} from '../../src/chain/member-tree.ts'
import { rng } from '../committee/helpers.ts'

const code = (c: string) => expect.objectContaining({ code: c })

function leavesFor(m: number, seed: string): Uint8Array[] {
  return Array.from({ length: m }, (_, i) => new Uint8Array(createHash('sha256').update(`${seed}/${i}`).digest()))
}

/** The tree of §4.3 written the other way round: the subtree of height h starting at leaf `lo`, recursively. */
function subtreeRoot(leaves: readonly Uint8Array[], lo: number, height: number): Uint8Array {
  if (lo >= leaves.length) return ZERO_HASHES[height]!
  if (height === 0) return leaves[lo]!
  const half = 2 ** (height - 1)
  return node(subtreeRoot(leaves, lo, height - 1), subtreeRoot(leaves, lo + half, height - 1))
}

/**
 * The proof the walk should ask for, derived from the set of the known leaves' ancestors instead of by
 * walking: per level, in increasing position, every sibling of an ancestor that is not itself an ancestor
 * and does not lie wholly at or past m.
 */
function expectedProof(leaves: readonly Uint8Array[], indices: readonly number[]): Uint8Array[] {
  const m = leaves.length
  const proof: Uint8Array[] = []
  let ancestors = new Set(indices)
  for (let level = 0; level < treeDepth(m); level++) {
    const needed = [...ancestors]
      .map((s) => s ^ 1)
      .filter((s) => !ancestors.has(s) && s * 2 ** level < m)
      .sort((a, b) => a - b)
    for (const s of needed) proof.push(subtreeRoot(leaves, s * 2 ** level, level))
    ancestors = new Set([...ancestors].map((s) => s >> 1))
  }
  return proof
}

function flipped(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice()
  out[bit >> 3]! ^= 1 << (bit & 7)
  return out
}

/** Index subsets of the kinds that stress the walk differently. */
function subsets(m: number, random: () => number): Record<string, number[]> {
  const all = Array.from({ length: m }, (_, i) => i)
  const start = Math.floor(random() * m)
  const length = 1 + Math.floor(random() * (m - start))
  return {
    empty: [],
    single: [Math.floor(random() * m)],
    first: [0],
    last: [m - 1],
    all,
    run: all.slice(start, start + length),
    alternating: all.filter((i) => i % 2 === (start & 1)),
    random: all.filter(() => random() < 0.3),
  }
}

describe('member tree', () => {
  it('ZERO[d] are keccak256 of two ZERO[d−1], starting from 32 zero bytes', () => {
    expect(ZERO_HASHES[0]).toEqual(new Uint8Array(32))
    // keccak256(64 zero bytes), the well-known value.
    expect(Buffer.from(ZERO_HASHES[1]!).toString('hex')).toBe(
      'ad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5',
    )
    expect(ZERO_HASHES).toHaveLength(17)
  })

  it('a leaf hashes the 128-byte entry x ‖ y ‖ stake', () => {
    const x = new Uint8Array(48).fill(1)
    const y = new Uint8Array(48).fill(2)
    const entry = memberEntry(x, y, 0x0102n)
    expect(entry).toHaveLength(128)
    expect(entry.subarray(0, 48)).toEqual(x)
    expect(entry.subarray(48, 96)).toEqual(y)
    expect([...entry.subarray(96, 126)].every((b) => b === 0)).toBe(true)
    expect([...entry.subarray(126)]).toEqual([1, 2])
    expect(memberLeaf(x, y, 0x0102n)).not.toEqual(memberLeaf(x, y, 0x0103n))
    expect(() => memberEntry(x.subarray(1), y, 1n)).toThrow(code(ChainErrorCode.INVALID_MEMBER_TREE))
  })

  it('has depth ⌈log2 m⌉, a single leaf as its own root, and ZERO past m', () => {
    expect([1, 2, 3, 4, 5, 8, 9, 65536].map(treeDepth)).toEqual([0, 1, 2, 2, 3, 3, 4, 16])
    const leaves = leavesFor(5, 'five')
    expect(membersRoot(leaves.slice(0, 1))).toEqual(leaves[0])
    expect(membersRoot(leaves.slice(0, 2))).toEqual(node(leaves[0]!, leaves[1]!))
    const right = node(node(leaves[4]!, ZERO_HASHES[0]!), ZERO_HASHES[1]!)
    const left = node(node(leaves[0]!, leaves[1]!), node(leaves[2]!, leaves[3]!))
    expect(membersRoot(leaves)).toEqual(node(left, right))
    expect(() => membersRoot([])).toThrow(code(ChainErrorCode.INVALID_MEMBER_TREE))
    expect(() => membersRoot([new Uint8Array(31)])).toThrow(code(ChainErrorCode.INVALID_MEMBER_TREE))
  })

  it('matches the recursive definition for every m up to 70', () => {
    for (let m = 1; m <= 70; m++) {
      const leaves = leavesFor(m, `m${m}`)
      expect(membersRoot(leaves)).toEqual(subtreeRoot(leaves, 0, treeDepth(m)))
    }
  })

  it('multiproofs over random m in 1..300 open exactly the known leaves (property)', () => {
    const random = rng(45)
    for (let round = 0; round < 40; round++) {
      const m = round < 4 ? [1, 2, 3, 300][round]! : 1 + Math.floor(random() * 300)
      const leaves = leavesFor(m, `round ${round}`)
      const root = membersRoot(leaves)
      for (const [kind, indices] of Object.entries(subsets(m, random))) {
        const where = `m=${m} ${kind}`
        const proof = multiproof(leaves, indices)
        expect(proof, where).toEqual(expectedProof(leaves, indices))
        expect(multiproofSize(m, indices), where).toBe(proof.length)
        const known = indices.map((index) => ({ index, leaf: leaves[index]! }))
        if (indices.length === 0) {
          expect(proof).toEqual([])
          expect(verifyMultiproof(root, m, known, proof)).toBe(false)
          continue
        }
        expect(verifyMultiproof(root, m, known, proof), where).toBe(true)
        if (kind === 'all') expect(proof, where).toEqual([])
        // Extra, missing and tampered hashes; tampered leaves; a leaf at the wrong index.
        expect(verifyMultiproof(root, m, known, [...proof, ZERO_HASHES[0]!]), where).toBe(false)
        if (proof.length > 0) expect(verifyMultiproof(root, m, known, proof.slice(0, -1)), where).toBe(false)
        for (const j of sample(proof.length, random)) {
          const bad = proof.slice()
          bad[j] = flipped(bad[j]!, Math.floor(random() * 256))
          expect(verifyMultiproof(root, m, known, bad), `${where} proof ${j}`).toBe(false)
        }
        for (const j of sample(known.length, random)) {
          const bad = known.slice()
          bad[j] = { index: bad[j]!.index, leaf: flipped(bad[j]!.leaf, Math.floor(random() * 256)) }
          expect(verifyMultiproof(root, m, bad, proof), `${where} leaf ${j}`).toBe(false)
        }
        if (indices.length < m) {
          const free = Array.from({ length: m }, (_, i) => i).find((i) => !indices.includes(i))!
          const moved = [...indices.slice(1), free].sort((a, b) => a - b)
          const shifted = moved.map((index, j) => ({ index, leaf: known[j]!.leaf }))
          expect(verifyMultiproof(root, m, shifted, proof), `${where} moved`).toBe(false)
        }
        expect(verifyMultiproof(flipped(root, 0), m, known, proof), where).toBe(false)
      }
    }
  })

  it('refuses index lists that are not strictly increasing within 0..m−1', () => {
    const leaves = leavesFor(6, 'six')
    for (const indices of [[2, 1], [1, 1], [-1], [6], [0.5]]) {
      expect(() => multiproof(leaves, indices)).toThrow(code(ChainErrorCode.INVALID_MEMBER_TREE))
      expect(() => multiproofSize(6, indices)).toThrow(code(ChainErrorCode.INVALID_MEMBER_TREE))
      const known = indices.map((index) => ({ index, leaf: leaves[0]! }))
      expect(verifyMultiproof(membersRoot(leaves), 6, known, [])).toBe(false)
    }
    expect(verifyMultiproof(membersRoot(leaves), 0, [{ index: 0, leaf: leaves[0]! }], [])).toBe(false)
  })
})

/** Up to 6 positions of 0..length−1, always including the first and the last. */
function sample(length: number, random: () => number): number[] {
  if (length === 0) return []
  const picks = new Set([0, length - 1])
  for (let i = 0; i < 4; i++) picks.add(Math.floor(random() * length))
  return [...picks]
}
