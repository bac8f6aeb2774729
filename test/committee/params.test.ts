import { describe, expect, it } from 'vitest'
import { assignShards } from '../../src/committee/assignment.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { type Fraction, subtract } from '../../src/committee/fraction.ts'
import {
  DEFAULT_MIN_TOTAL_SHARDS,
  defaultTotalShards,
  encodingParams,
  floorShardCounts,
  honestShardBound,
  MAX_TOTAL_SHARDS,
} from '../../src/committee/params.ts'
import { blobIdFor, fakeCommittee, rng } from './helpers.ts'

const THRESHOLDS: [Fraction, Fraction][] = [
  [
    { num: 2n, den: 3n },
    { num: 1n, den: 3n },
  ],
  [
    { num: 3n, den: 4n },
    { num: 1n, den: 4n },
  ],
  [
    { num: 1n, den: 2n },
    { num: 1n, den: 5n },
  ],
  [
    { num: 67n, den: 100n },
    { num: 33n, den: 100n },
  ],
  [
    { num: 1n, den: 1n },
    { num: 0n, den: 1n },
  ],
]

/** Stake distributions the property runs over; all stakes are below 2^32 so exact sums fit in a double. */
function stakesFor(kind: string, m: number, next: () => number): number[] {
  const int = (max: number) => 1 + Math.floor(next() * max)
  switch (kind) {
    case 'equal':
      return Array.from({ length: m }, () => 1_000)
    case 'whale': // one member holds 40-60 % of the stake, the rest is shared out evenly-ish
      return Array.from({ length: m }, (_, i) =>
        i === 0 ? Math.floor(1_000_000 * m * (0.7 + next())) : int(2_000_000),
      )
    case 'minnows': // a few large members and many whose share rounds to zero shards
      return Array.from({ length: m }, (_, i) => (i < 3 ? int(1e9) : int(1_000)))
    case 'pareto':
      return Array.from({ length: m }, () => Math.min(2 ** 32 - 1, Math.floor(1_000 / (1 - next()) ** 1.5)))
    default:
      return Array.from({ length: m }, () => int(2 ** 32 - 1))
  }
}

/** The true minimum of sum(counts) over all H with stake(H) >= honest * S, by enumerating every subset. */
function exhaustiveMinimum(counts: number[], stakes: number[], honest: Fraction): number {
  const total = stakes.reduce((a, b) => a + b, 0)
  const [num, den] = [Number(honest.num), Number(honest.den)]
  let best = Number.POSITIVE_INFINITY
  for (let mask = 1; mask < 1 << stakes.length; mask++) {
    let stake = 0
    let shards = 0
    for (let i = 0; i < stakes.length; i++) {
      if (mask & (1 << i)) {
        stake += stakes[i]!
        shards += counts[i]!
      }
    }
    if (stake * den >= num * total && shards < best) best = shards
  }
  return best
}

/** The same minimum by 0/1 knapsack over shard budgets: most stake reachable with at most c shards. */
function knapsackMinimum(counts: number[], stakes: number[], honest: Fraction, n: number): number {
  const total = stakes.reduce((a, b) => a + b, 0)
  const [num, den] = [Number(honest.num), Number(honest.den)]
  const best = new Float64Array(n + 1)
  for (let i = 0; i < stakes.length; i++) {
    const w = counts[i]!
    for (let c = n; c >= w; c--) best[c] = Math.max(best[c]!, best[c - w]! + stakes[i]!)
  }
  for (let c = 0; c <= n; c++) if (best[c]! * den >= num * total) return c
  return n
}

describe('encoding parameters', () => {
  it('chooses the default n as a power of two with 8 shards a member', () => {
    expect(defaultTotalShards(1)).toBe(DEFAULT_MIN_TOTAL_SHARDS)
    expect(defaultTotalShards(12)).toBe(128)
    expect(defaultTotalShards(1000)).toBe(8192)
    expect(defaultTotalShards(100_000)).toBe(MAX_TOTAL_SHARDS)
  })

  it('gives k = ceil((q - f) n) for equal stakes that divide n', () => {
    const stakes = Array.from({ length: 16 }, () => 32n * 10n ** 18n) // wei-like stakes, far above 2^53
    const params = encodingParams({ stakes, threshold: THRESHOLDS[0]![0], adversary: THRESHOLDS[0]![1] })
    expect(params).toEqual({ n: 128, k: 43 })
  })

  it('caps k at n - 1 when no stake may be adversarial and all must sign', () => {
    const params = encodingParams({
      stakes: [1n, 1n],
      threshold: { num: 1n, den: 1n },
      adversary: { num: 0n, den: 1n },
    })
    expect(params.k).toBe(params.n - 1)
  })

  it('refuses q <= f', () => {
    const third = { num: 1n, den: 3n }
    expect(() => encodingParams({ stakes: [1n], threshold: third, adversary: third })).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY }),
    )
  })

  it('refuses a fixed n too small for an honest set to hold any shard', () => {
    const stakes = Array.from({ length: 100 }, () => 1n)
    const input = { stakes, threshold: THRESHOLDS[0]![0], adversary: THRESHOLDS[0]![1] }
    expect(() => encodingParams({ ...input, totalShards: 32 })).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.ENCODING_UNSATISFIABLE }),
    )
    expect(() => encodingParams({ ...input, totalShards: 1 })).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.ENCODING_UNSATISFIABLE }),
    )
    expect(encodingParams({ ...input, totalShards: 1024 }).n).toBe(1024)
  })

  it('property: exhaustive over all subsets of committees up to 12 members, every tie-break', () => {
    const next = rng(12)
    let cases = 0
    for (const kind of ['equal', 'whale', 'minnows', 'pareto', 'uniform']) {
      for (let m = 1; m <= 12; m++) {
        for (const [threshold, adversary] of THRESHOLDS) {
          const stakes = stakesFor(kind, m, next)
          const big = stakes.map(BigInt)
          const honest = subtract(threshold, adversary)
          // Both the default n and small fixed n, where rounding matters most.
          for (const totalShards of [undefined, 2 * m + 1, 3 * m + 2]) {
            let params: { k: number; n: number }
            try {
              params = encodingParams({ stakes: big, threshold, adversary, totalShards })
            } catch {
              continue // a fixed n that cannot work is refused, which is checked above
            }
            // floor counts are what the worst tie-break can leave a member with.
            const floors = floorShardCounts(big, params.n).map(Number)
            expect(exhaustiveMinimum(floors, stakes, honest)).toBeGreaterThanOrEqual(params.k)
            expect(params.k).toBeGreaterThanOrEqual(1)
            expect(params.k).toBeLessThan(params.n)
            cases++
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(500)
  })

  it('property: the actual assignment counts of many blobs also satisfy the bound', () => {
    const next = rng(99)
    for (let trial = 0; trial < 40; trial++) {
      const m = 1 + Math.floor(next() * 12)
      const stakes = stakesFor(trial % 2 ? 'whale' : 'uniform', m, next)
      const committee = fakeCommittee(stakes.map(BigInt), { totalShards: 2 * m + 3 })
      const honest = subtract(committee.threshold, committee.adversary)
      for (let b = 0; b < 5; b++) {
        const counts = [...assignShards(committee, blobIdFor(`${trial}/${b}`)).counts]
        expect(exhaustiveMinimum(counts, stakes, honest)).toBeGreaterThanOrEqual(committee.encoding.k)
      }
    }
  })

  it('property: randomized committees up to 1,000 members (whale, minnows, equal, pareto, uniform)', () => {
    const next = rng(1000)
    for (const kind of ['whale', 'minnows', 'equal', 'pareto', 'uniform']) {
      for (const m of [13, 50, 200, 1000]) {
        const [threshold, adversary] = THRESHOLDS[Math.floor(next() * (THRESHOLDS.length - 1))]!
        const stakes = stakesFor(kind, m, next)
        const big = stakes.map(BigInt)
        const params = encodingParams({ stakes: big, threshold, adversary })
        const floors = floorShardCounts(big, params.n).map(Number)
        const honest = subtract(threshold, adversary)
        const minimum = knapsackMinimum(floors, stakes, honest, params.n)
        expect(minimum, `${kind} m=${m}`).toBeGreaterThanOrEqual(params.k)
        // The LP bound is never above the true minimum, and the rate stays useful.
        expect(Number(honestShardBound(floors.map(BigInt), big, honest))).toBeLessThanOrEqual(minimum)
        expect(params.k / params.n, `${kind} m=${m} rate`).toBeGreaterThan(0.15)
      }
    }
  })
})
