/**
 * Shards longer than the oracle's 65535-byte limit, and inputs large enough to take several staging
 * segments. The code acts on each 64-byte column independently, so every 64-byte-aligned stripe of our
 * recovery shards must equal the oracle's encoding of the same stripe of the originals.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { rsDecode, rsEncode } from '../../src/erasure/rs/index.ts'
import { initOracle, ORACLE_MAX_SHARD, oracleEncode } from './rs-helpers/oracle.ts'
import { firstDifference, Rng } from './rs-helpers/random.ts'

/** [offset, length) stripes of at most the oracle's limit; a deliberately uneven last one. */
function stripes(shardLength: number): [number, number][] {
  const out: [number, number][] = []
  for (let offset = 0; offset < shardLength; offset += ORACLE_MAX_SHARD) {
    out.push([offset, Math.min(ORACLE_MAX_SHARD, shardLength - offset)])
  }
  return out
}

function stripeOf(shards: Uint8Array[], offset: number, length: number): Uint8Array[] {
  return shards.map((s) => s.subarray(offset, offset + length))
}

beforeAll(async () => {
  await initOracle()
})

describe.each([
  // [k, r, shard length]: above 65535; a low-rate and a high-rate shape; then shapes whose total size
  // makes encode and decode stage the shards in several segments (partial last segment included).
  [3, 5, 65536 + 64 * 3],
  [6, 2, 3 * 65536 + 64],
  [64, 64, 262144],
  [1024, 3072, 16384 + 64],
])('k=%i r=%i shard length %i', (k, r, shardLength) => {
  const rng = new Rng(k * 7919 + r)
  const original = Array.from({ length: k }, () => rng.bytes(shardLength))
  let recovery: Uint8Array[] = []

  it('encodes every stripe as the oracle does', () => {
    recovery = rsEncode(original, r)
    expect(recovery.length).toBe(r)
    for (const s of recovery) expect(s.length).toBe(shardLength)
    for (const [offset, length] of stripes(shardLength)) {
      const theirs = oracleEncode(stripeOf(original, offset, length), r)
      expect(firstDifference(stripeOf(recovery, offset, length), theirs)).toBe(-1)
    }
  })

  it('decodes from as many recovery shards as possible', () => {
    const shards = new Map<number, Uint8Array>()
    for (const j of rng.pick(r, Math.min(k, r))) shards.set(k + j, recovery[j]!)
    for (const i of rng.pick(k, k - shards.size)) shards.set(i, original[i]!)
    expect(firstDifference(rsDecode(k, r, shards), original)).toBe(-1)
  })
})
