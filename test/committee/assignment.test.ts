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
      // Any n: the assignment takes the blob's n whatever it is, from 1 (fewer shards than members) up.
      const committee = fakeCommittee(stakes)
      const n = trial % 3 === 0 ? 1 + Math.floor(next() * 2 * m) : 3 * m + Math.floor(next() * 3000)
      const blobId = blobIdFor(String(trial))
      const a = assignShards(committee, blobId, n)
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
      expect(assignShards(committee, blobId.slice(), n).order).toEqual(a.order)
    }
  })

  it('breaks remainder ties by the assignment hash and orders runs by it', () => {
    const committee = fakeCommittee([1n, 1n, 1n, 1n, 1n])
    const blobId = blobIdFor('ties')
    const a = assignShards(committee, blobId, 17) // 17 / 5: two leftovers, all tied
    const hashes = committee.members.map((m) => Buffer.from(assignmentHash(blobId, m.publicKey)).toString('hex'))
    const byHash = [0, 1, 2, 3, 4].sort((x, y) => (hashes[x]! < hashes[y]! ? -1 : 1))
    expect(a.order).toEqual(byHash)
    expect(byHash.map((i) => a.counts[i])).toEqual([4, 4, 3, 3, 3])
    expect(a.starts[byHash[0]!]).toBe(0)
  })

  it('names as announcers the first holders in run order, distinct, skipping members without shards', () => {
    // n = 3 over 5 equal stakes: two members hold nothing and never announce.
    const committee = fakeCommittee([1n, 1n, 1n, 1n, 1n])
    const a = assignShards(committee, blobIdFor('announcers'), 3)
    const holders = a.order.filter((i) => a.counts[i]! > 0)
    expect(holders).toHaveLength(3)
    expect(a.announcers(2)).toEqual(holders.slice(0, 2))
    expect(a.announcers(10)).toEqual(holders)
    expect(a.announcers(0)).toEqual([])
    // Per blob: over many blobs every member of an equal-stake committee is an announcer now and then.
    const big = fakeCommittee(Array.from({ length: 16 }, () => 1n))
    const seen = new Set<number>()
    for (let b = 0; b < 40; b++)
      for (const i of assignShards(big, blobIdFor(`ann ${b}`), 1024).announcers(3)) seen.add(i)
    expect(seen.size).toBe(16)
  })

  it('spreads original shards over different members from blob to blob', () => {
    const committee = fakeCommittee(Array.from({ length: 20 }, () => 1n))
    const firstHolders = new Set<number>()
    for (let b = 0; b < 20; b++) firstHolders.add(assignShards(committee, blobIdFor(`spread ${b}`), 640).holderOf(0))
    expect(firstHolders.size).toBeGreaterThan(5)
  })

  it("depends on the blob's n: the same blob id and committee give each n its own partition", () => {
    const committee = fakeCommittee([3n, 2n, 1n])
    const blobId = blobIdFor('per-blob n')
    const small = assignShards(committee, blobId, 16)
    const large = assignShards(committee, blobId, 16384)
    expect([small.n, large.n]).toEqual([16, 16384])
    expect(small.counts).toEqual([8, 5, 3]) // 16 * (3, 2, 1) / 6 = 8, 5.33, 2.67: the leftover to the larger remainder
    expect(large.counts.reduce((x, y) => x + y, 0)).toBe(16384)
    expect(large.order).toEqual(small.order) // the run order is the blob's, whatever n
  })

  it('refuses bad blob ids, bad n and out-of-range indices', () => {
    const committee = fakeCommittee([1n, 2n])
    expect(() => assignShards(committee, new Uint8Array(32), 16)).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.INVALID_BLOB_ID }),
    )
    for (const n of [0, -1, 1.5, 65537, Number.NaN]) {
      expect(() => assignShards(committee, blobIdFor('x'), n)).toThrow(
        expect.objectContaining({ code: CommitteeErrorCode.INVALID_SHARD_COUNT }),
      )
    }
    const a = assignShards(committee, blobIdFor('x'), 96)
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
      const a = assignShards(committee, blobId, v.n)
      expect(a.n).toBe(v.n)
      expect(a.order).toEqual(v.order)
      v.members.forEach((m, i) => {
        expect(`0x${Buffer.from(assignmentHash(blobId, committee.members[i]!.publicKey)).toString('hex')}`).toBe(m.hash)
        expect([a.counts[i], a.starts[i]]).toEqual([m.count, m.start])
      })
      expect(Array.from({ length: a.n }, (_, s) => a.holderOf(s))).toEqual(v.holders)
    }
  })
})
