import { describe, expect, it } from 'vitest'
import { assignmentHash, assignShards } from '../../src/committee/assignment.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import vectors from './fixtures/vectors.json' with { type: 'json' }
import { acceptAllKeys, blobIdFor, fakeCommittee, rng } from './helpers.ts'

describe('assignShards', () => {
  it('property: a stake-proportional partition of 0..n-1 by largest remainder', () => {
    const next = rng(5)
    for (let trial = 0; trial < 60; trial++) {
      const m = 1 + Math.floor(next() * 40)
      const stakes = Array.from({ length: m }, () => BigInt(1 + Math.floor(next() * 1e6)))
      // A fixed n from 3m, the least for which kMax(n) >= 1 at q - f = 1/3, or the default.
      const committee = fakeCommittee(stakes, trial % 3 === 0 ? { totalShards: 3 * m + Math.floor(next() * 300) } : {})
      const { n } = committee.encoding
      const blobId = blobIdFor(String(trial))
      const a = assignShards(committee, blobId)
      expect(a.counts.reduce((x, y) => x + y, 0)).toBe(n)
      const seen = new Array<number>(n).fill(-1)
      stakes.forEach((s, i) => {
        const exact = (BigInt(n) * s) / committee.totalStake
        expect(BigInt(a.counts[i]!) - exact).toBeGreaterThanOrEqual(0n)
        expect(BigInt(a.counts[i]!) - exact).toBeLessThanOrEqual(1n)
        const shards = a.shardsOf(i)
        expect(shards).toHaveLength(a.counts[i]!)
        for (const s of shards) {
          expect(seen[s]).toBe(-1)
          seen[s] = i
        }
      })
      expect(seen.every((holder, shard) => holder === a.holderOf(shard))).toBe(true)
      // Whoever got a leftover shard has a remainder at least as large as anyone who did not.
      const rem = stakes.map((s) => (BigInt(n) * s) % committee.totalStake)
      const plus = stakes.map((s, i) => BigInt(a.counts[i]!) > (BigInt(n) * s) / committee.totalStake)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) if (plus[i] && !plus[j]) expect(rem[i]! >= rem[j]!).toBe(true)
      // Deterministic: the same inputs give the same assignment.
      expect(assignShards(committee, blobId.slice()).order).toEqual(a.order)
    }
  })

  it('breaks remainder ties by the assignment hash and orders runs by it', () => {
    const committee = fakeCommittee([1n, 1n, 1n, 1n, 1n], { totalShards: 17 }) // 17 / 5: two leftovers, all tied
    const blobId = blobIdFor('ties')
    const a = assignShards(committee, blobId)
    const hashes = committee.members.map((m) => Buffer.from(assignmentHash(blobId, m.publicKey)).toString('hex'))
    const byHash = [0, 1, 2, 3, 4].sort((x, y) => (hashes[x]! < hashes[y]! ? -1 : 1))
    expect(a.order).toEqual(byHash)
    expect(byHash.map((i) => a.counts[i])).toEqual([4, 4, 3, 3, 3])
    expect(a.starts[byHash[0]!]).toBe(0)
  })

  it('spreads original shards over different members from blob to blob', () => {
    const committee = fakeCommittee(Array.from({ length: 20 }, () => 1n))
    const firstHolders = new Set<number>()
    for (let b = 0; b < 20; b++) firstHolders.add(assignShards(committee, blobIdFor(`spread ${b}`)).holderOf(0))
    expect(firstHolders.size).toBeGreaterThan(5)
  })

  it('refuses bad blob ids and out-of-range indices', () => {
    const committee = fakeCommittee([1n, 2n])
    expect(() => assignShards(committee, new Uint8Array(32))).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.INVALID_BLOB_ID }),
    )
    const a = assignShards(committee, blobIdFor('x'))
    for (const bad of [-1, a.n, 1.5]) {
      expect(() => a.holderOf(bad)).toThrow(expect.objectContaining({ code: CommitteeErrorCode.INDEX_OUT_OF_RANGE }))
    }
    expect(() => a.shardsOf(2)).toThrow(expect.objectContaining({ code: CommitteeErrorCode.INDEX_OUT_OF_RANGE }))
  })

  it('matches the protocol vectors', () => {
    const registry = parseCommitteeFile(vectors.committeeFile, { verifier: acceptAllKeys })
    for (const v of vectors.assignments) {
      const committee = registry.committees.find((c) => c.epoch === v.epoch)!
      const blobId = new Uint8Array(Buffer.from(v.blobId.slice(2), 'hex'))
      const a = assignShards(committee, blobId)
      expect({ n: a.n, k: a.k }).toEqual({ n: v.n, k: v.k })
      expect(a.order).toEqual(v.order)
      v.members.forEach((m, i) => {
        expect(`0x${Buffer.from(assignmentHash(blobId, committee.members[i]!.publicKey)).toString('hex')}`).toBe(m.hash)
        expect([a.counts[i], a.starts[i]]).toEqual([m.count, m.start])
      })
      expect(Array.from({ length: a.n }, (_, s) => a.holderOf(s))).toEqual(v.holders)
    }
  })
})
