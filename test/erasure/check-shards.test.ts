import { describe, expect, it } from 'vitest'
import { checkShard, checkShards } from '../../src/erasure/decode.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { ErasureErrorCode } from '../../src/erasure/errors.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { prng, randomData, withProofs } from './helpers.ts'

const blob = encodeBlob(randomData(200_000, prng(11)), { networkId: 1, epoch: 0, k: 64, n: 200 })
const all = withProofs(blob)

function tampered(shard: ShardWithProof, part: 'data' | 'proof'): ShardWithProof {
  const copy = { index: shard.index, data: shard.data.slice(), proof: shard.proof.slice() }
  copy[part][5]! ^= 1
  return copy
}

/** What checking each shard alone says, in the old one-by-one way: the reference for the batched check. */
function oneByOne(shards: ShardWithProof[]): { valid: number[]; rejected: [number, string][] } {
  const valid = new Map<number, ShardWithProof>()
  const rejected: [number, string][] = []
  for (const shard of shards) {
    if (valid.has(shard.index)) continue
    const problem = checkShard(blob.header, shard)
    if (problem) rejected.push([problem.index, problem.code])
    else valid.set(shard.index, shard)
  }
  return { valid: [...valid.keys()], rejected }
}

function batched(shards: ShardWithProof[]): { valid: number[]; rejected: [number, string][] } {
  const { valid, rejected } = checkShards(blob.header, shards)
  return { valid: valid.map((s) => s.index), rejected: rejected.map((r) => [r.index, r.code]) }
}

describe('checkShards (batched proof check)', () => {
  it('keeps every shard of a good run', () => {
    const run = all.slice(40, 140)
    expect(batched(run)).toEqual({ valid: run.map((s) => s.index), rejected: [] })
  })

  it('names exactly the bad shards among good ones, as checking each alone does', () => {
    const rand = prng(12)
    for (let trial = 0; trial < 30; trial++) {
      const run = all.slice(0, 120).map((s) => {
        const r = rand()
        return r < 0.03 ? tampered(s, 'data') : r < 0.06 ? tampered(s, 'proof') : s
      })
      const shuffled = run.sort(() => rand() - 0.5)
      expect(batched(shuffled), `trial ${trial}`).toEqual(oneByOne(shuffled))
    }
  })

  it('keeps the first copy of an index that holds, and sets aside wrong sizes and proof lengths', () => {
    const bad = tampered(all[7]!, 'data')
    const short = { index: 8, data: all[8]!.data.subarray(1), proof: all[8]!.proof }
    const cut = { index: 9, data: all[9]!.data, proof: all[9]!.proof.subarray(32) }
    const shards = [bad, all[7]!, all[7]!, short, cut, all[10]!, { ...all[11]!, index: 1000 }]
    expect(batched(shards)).toEqual(oneByOne(shards))
    expect(batched(shards).rejected).toEqual([
      [7, ErasureErrorCode.INVALID_PROOF],
      [8, ErasureErrorCode.INVALID_SHARD],
      [9, ErasureErrorCode.INVALID_PROOF],
      [1000, ErasureErrorCode.INVALID_SHARD],
    ])
  })

  it('skips indices the caller already holds', () => {
    const known = new Map([[3, true]])
    const { valid } = checkShards(blob.header, all.slice(0, 6), known)
    expect(valid.map((s) => s.index)).toEqual([0, 1, 2, 4, 5])
  })
})
