import { describe, expect, it } from 'vitest'
import { assignShards } from '../../src/committee/assignment.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { type Fraction, subtract } from '../../src/committee/fraction.ts'
import {
  blobShape,
  isSafeEncoding,
  kMax,
  largestSafeK,
  MAX_TOTAL_SHARDS,
  type SafetyInput,
  unsafeEncoding,
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
const [TWO_THIRDS, ONE_THIRD] = THRESHOLDS[0]!
const DEFAULTS = { threshold: TWO_THIRDS, adversary: ONE_THIRD }

const KINDS = ['equal', 'whale', 'minnows', 'pareto', 'uniform', 'edge'] as const
type Kind = (typeof KINDS)[number]

/**
 * Stake distributions the properties run over. All stakes are below 2^32 so that the searches below sum them
 * exactly in doubles. 'edge' is the adversarial one for a given n: every member but the last has n * s_i / S
 * just below an integer (a_i - 2^-16), so the floor the bound allows takes almost a whole shard from each of
 * them — the loss of one shard per member that kMax pays for — and heavy-tailed a_i give many members a_i = 1,
 * whose whole stake then brings no shard at all.
 */
function stakesFor(kind: Kind, m: number, n: number, next: () => number): number[] {
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
    case 'uniform':
      return Array.from({ length: m }, () => int(2 ** 32 - 1))
    case 'edge':
      return edgeStakes(m, n, next)
  }
}

function edgeStakes(m: number, n: number, next: () => number): number[] {
  const unit = 2 ** 16 // S = n * unit, so n * s_i / S = s_i / unit
  const weights = Array.from({ length: m - 1 }, () => 1 / (1 - next()) ** 2)
  const sum = weights.reduce((a, b) => a + b, 0)
  // a_i >= 1 and sum(a_i) <= (m - 1) + (n - m) = n - 1, so the last member keeps a positive stake.
  const stakes = weights.map((w) => (1 + Math.floor((w / sum) * (n - m))) * unit - 1)
  return [...stakes, n * unit - stakes.reduce((a, b) => a + b, 0)]
}

/** floor(n * s_i / S): the fewest shards member i can get, whatever the tie-break (the bound's worst case). */
function floorCounts(stakes: number[], n: number): number[] {
  const big = stakes.map(BigInt)
  const total = big.reduce((a, b) => a + b, 0n)
  return big.map((s) => Number((BigInt(n) * s) / total))
}

/** Stake sums and their products with threshold parts stay exact in doubles. */
function exactTarget(stakes: number[], honest: Fraction): { total: number; num: number; den: number } {
  const total = stakes.reduce((a, b) => a + b, 0)
  const [num, den] = [Number(honest.num), Number(honest.den)]
  expect(Number.isSafeInteger(total * Math.max(num, den))).toBe(true)
  return { total, num, den }
}

/** The true minimum of sum(counts_i) over all member sets H with stake(H) >= honest * S: every subset. */
function exhaustiveMinimum(counts: number[], stakes: number[], honest: Fraction): number {
  const { total, num, den } = exactTarget(stakes, honest)
  const stake = new Float64Array(1 << stakes.length)
  const shards = new Float64Array(1 << stakes.length)
  let best = Number.POSITIVE_INFINITY
  for (let mask = 1; mask < 1 << stakes.length; mask++) {
    const low = 31 - Math.clz32(mask & -mask)
    const rest = mask & (mask - 1)
    stake[mask] = stake[rest]! + stakes[low]!
    shards[mask] = shards[rest]! + counts[low]!
    if (stake[mask]! * den >= num * total && shards[mask]! < best) best = shards[mask]!
  }
  return best
}

/**
 * The same minimum by 0/1 knapsack over shard budgets (the most stake a set of at most c shards holds),
 * clamped at `limit`: it is exact below `limit`, so asking whether it reaches kMax needs only kMax columns.
 */
function knapsackMinimum(counts: number[], stakes: number[], honest: Fraction, limit: number): number {
  const { total, num, den } = exactTarget(stakes, honest)
  const best = new Float64Array(limit)
  for (let i = 0; i < stakes.length; i++) {
    const w = counts[i]!
    for (let c = limit - 1; c >= w; c--) best[c] = Math.max(best[c]!, best[c - w]! + stakes[i]!)
  }
  for (let c = 0; c < limit; c++) if (best[c]! * den >= num * total) return c
  return limit
}

/** The n the shape policy (§2.3) gives an m-member committee for the smallest blob and for a 32 MiB one. */
function policyShardCounts(rule: SafetyInput): number[] {
  return [...new Set([blobShape(rule, 0).n, blobShape(rule, 32 << 20).n])]
}

/** n to try for an m-member committee: the policy's and others around them, down to where kMax(n) reaches 1. */
function shardCountsFor(m: number, committee: { threshold: Fraction; adversary: Fraction; memberCount: number }) {
  const candidates = [
    ...policyShardCounts(committee),
    m + 1,
    2 * m + 1,
    3 * m + 2,
    5 * m + 3,
    8 * m,
    17 * m + 1,
    32 * m + 7,
    100,
  ]
  return [...new Set(candidates)].filter((n) => n <= MAX_TOTAL_SHARDS && n >= m && kMax(committee, n) >= 1)
}

describe('encoding parameters', () => {
  it('computes kMax(n) = floor(n (q - f)) - m + 1 exactly, with wei-sized stakes', () => {
    const stakes = Array.from({ length: 16 }, () => 32n * 10n ** 18n) // far above 2^53
    const third = { threshold: TWO_THIRDS, adversary: ONE_THIRD }
    expect(kMax({ ...third, stakes }, 512)).toBe(170 - 16 + 1)
    expect(kMax({ ...third, memberCount: 16 }, 512)).toBe(155)
    expect(kMax({ ...third, members: stakes }, 513)).toBe(171 - 15)
    // g = 67/100 - 33/100 = 34/100: floor(100 * 0.34) = 34 exactly, floor(99 * 0.34) = 33.
    const g34 = { threshold: THRESHOLDS[3]![0], adversary: THRESHOLDS[3]![1], memberCount: 4 }
    expect(kMax(g34, 100)).toBe(31)
    expect(kMax(g34, 99)).toBe(30)
    expect(kMax({ ...third, memberCount: 4 }, 0)).toBe(-3)
    expect(largestSafeK({ stakes, ...third }, 512)).toBe(155)
  })

  it('names what makes (k, n) unsafe', () => {
    const c = { threshold: TWO_THIRDS, adversary: ONE_THIRD, memberCount: 4 } // kMax(128) = 39
    expect(isSafeEncoding(c, 39, 128)).toBe(true)
    expect(isSafeEncoding(c, 1, 128)).toBe(true)
    expect(unsafeEncoding(c, 40, 128)).toMatch(/k=40 exceeds kMax\(128\) = 39/)
    expect(unsafeEncoding(c, 0, 128)).toMatch(/not 1 <= k < n/)
    expect(unsafeEncoding(c, 5, 5)).toMatch(/not 1 <= k < n/)
    expect(unsafeEncoding(c, 5, 65537)).toMatch(/not 1 <= k < n/)
    expect(unsafeEncoding(c, 1.5, 128)).toMatch(/not 1 <= k < n/)
    // kMax(65536) = 21842, but (20000, 45536) is not a shape of the code: 32768 + 45536 > 65536.
    expect(kMax(c, 65536)).toBe(21842)
    expect(unsafeEncoding(c, 20000, 65536)).toMatch(/not a shape/)
    expect(isSafeEncoding(c, 16384, 65536)).toBe(true)
    expect(() => kMax({ threshold: ONE_THIRD, adversary: ONE_THIRD, memberCount: 4 }, 128)).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY }),
    )
    expect(() => kMax({ ...c, memberCount: 0 }, 128)).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.INVALID_MEMBER_COUNT }),
    )
  })

  it('caps k at n - 1 when no stake may be adversarial and all must sign', () => {
    const all = { memberCount: 1, threshold: { num: 1n, den: 1n }, adversary: { num: 0n, den: 1n } }
    const params = blobShape(all, 0)
    expect(kMax(all, params.n)).toBe(params.n)
    expect(params).toEqual({ n: 16, k: 15 })
  })

  it('refuses q <= f', () => {
    const third = { num: 1n, den: 3n }
    expect(() => blobShape({ stakes: [1n], threshold: third, adversary: third }, 0)).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY }),
    )
  })

  it('refuses a fixed n too small for an honest set to hold any shard, and committees no n serves', () => {
    const stakes = Array.from({ length: 100 }, () => 1n)
    const input = { stakes, threshold: TWO_THIRDS, adversary: ONE_THIRD }
    for (const totalShards of [1, 32, 299, 65537, 2.5]) {
      expect(() => blobShape({ ...input, totalShards }, 0)).toThrow(
        expect.objectContaining({ code: CommitteeErrorCode.ENCODING_UNSATISFIABLE }),
      )
    }
    // kMax(300) = 100 - 100 + 1 = 1: the smallest fixed n that works.
    expect(blobShape({ ...input, totalShards: 300 }, 0)).toEqual({ k: 1, n: 300 })
    expect(blobShape({ ...input, totalShards: 1024 }, 32 << 20)).toEqual({ k: 341 - 99, n: 1024 })
    // kMax(65536) = 21845 - m + 1 at g = 1/3: 21,845 members are the most any n serves.
    const many = (m: number) => ({
      stakes: Array.from({ length: m }, () => 1n),
      threshold: TWO_THIRDS,
      adversary: ONE_THIRD,
    })
    expect(blobShape(many(21845), 0)).toEqual({ k: 1, n: 65536 })
    expect(() => blobShape(many(21846), 0)).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.ENCODING_UNSATISFIABLE }),
    )
  })

  it('doubles n while kMax(n) < 1 (a tiny q - f)', () => {
    const input = { stakes: [1n, 1n, 1n, 1n], threshold: { num: 1n, den: 2n }, adversary: { num: 63n, den: 128n } }
    // g = 1/128, kMax(n) = floor(n / 128) - 3: kMax(128) = -2, kMax(256) = -1, kMax(512) = 1.
    expect(blobShape(input, 0)).toEqual({ n: 512, k: 1 })
  })

  it('property: exhaustive over all subsets of committees up to 12 members, for many n', () => {
    const next = rng(12)
    let cases = 0
    for (const kind of KINDS) {
      for (let m = 1; m <= 12; m++) {
        for (const [threshold, adversary] of THRESHOLDS) {
          const honest = subtract(threshold, adversary)
          const rule = { threshold, adversary, memberCount: m }
          for (const n of shardCountsFor(m, rule)) {
            const stakes = stakesFor(kind, m, n, next)
            const bound = kMax(rule, n)
            const minimum = exhaustiveMinimum(floorCounts(stakes, n), stakes, honest)
            expect(minimum, `${kind} m=${m} n=${n} g=${honest.num}/${honest.den}`).toBeGreaterThanOrEqual(bound)
            // A fixed n (the file's totalShards) takes the largest safe k for that n, whatever the blob size.
            const params = blobShape({ stakes: stakes.map(BigInt), threshold, adversary, totalShards: n }, 1 << 20)
            expect(params.k).toBe(Math.min(bound, n - 1))
            expect(isSafeEncoding(rule, params.k, n)).toBe(true)
            expect(isSafeEncoding(rule, bound + 1, n)).toBe(false)
            cases++
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(2500)
  })

  it('property: the actual assignment counts of many blobs also hold kMax(n)', () => {
    const next = rng(99)
    for (let trial = 0; trial < 60; trial++) {
      const m = 1 + Math.floor(next() * 12)
      const n =
        trial % 3 === 0 ? blobShape({ ...DEFAULTS, memberCount: m }, 1 << 20).n : 4 * m + 3 + Math.floor(next() * 40)
      const stakes = stakesFor(KINDS[trial % KINDS.length]!, m, n, next)
      const committee = fakeCommittee(stakes.map(BigInt), { totalShards: n })
      const honest = subtract(committee.threshold, committee.adversary)
      for (let b = 0; b < 5; b++) {
        const counts = [...assignShards(committee, blobIdFor(`${trial}/${b}`), n).counts]
        expect(exhaustiveMinimum(counts, stakes, honest)).toBeGreaterThanOrEqual(kMax(committee, n))
      }
    }
  })

  it('property: exact knapsack over committees of 13 to 1,000 members, for several n', () => {
    const next = rng(1000)
    let cases = 0
    for (const kind of KINDS) {
      for (const m of [13, 50, 200, 1000]) {
        const [threshold, adversary] = THRESHOLDS[Math.floor(next() * THRESHOLDS.length)]!
        const honest = subtract(threshold, adversary)
        const rule = { threshold, adversary, memberCount: m }
        const ns = [...policyShardCounts(rule), 3 * m + 1, 10 * m + 3, 48 * m + 5].filter(
          (n) => n <= MAX_TOTAL_SHARDS && kMax(rule, n) >= 1,
        )
        for (const n of ns) {
          const stakes = stakesFor(kind, m, n, next)
          const bound = kMax(rule, n)
          const minimum = knapsackMinimum(floorCounts(stakes, n), stakes, honest, bound)
          expect(minimum, `${kind} m=${m} n=${n} g=${honest.num}/${honest.den}`).toBe(bound)
          cases++
        }
      }
    }
    expect(cases).toBeGreaterThan(90)
  })

  it('kMax(n) is within m of n (q - f), and the policy takes k = kMax(n) wherever n <= 32,768', () => {
    const next = rng(7)
    for (let trial = 0; trial < 2000; trial++) {
      const [threshold, adversary] = THRESHOLDS[trial % THRESHOLDS.length]!
      const g = subtract(threshold, adversary)
      const m = 1 + Math.floor(next() * 3000)
      const n = trial % 2 ? 2 ** (4 + Math.floor(next() * 13)) : m + Math.floor(next() * (MAX_TOTAL_SHARDS - m))
      const bound = BigInt(kMax({ threshold, adversary, memberCount: m }, n))
      // n g - m < kMax(n) <= n g, in integers.
      expect((bound + BigInt(m)) * g.den).toBeGreaterThan(BigInt(n) * g.num)
      expect(bound * g.den).toBeLessThanOrEqual(BigInt(n) * g.num)
    }
    // Up to 1,024 members and 32 MiB, the policy's n stays <= 32,768, where no shape step-down lowers k below kMax(n).
    for (let m = 1; m <= 1024; m += 1 + Math.floor(m / 8)) {
      for (const [threshold, adversary] of THRESHOLDS.slice(0, 4)) {
        for (const size of [0, 4096, 1 << 20, 32 << 20]) {
          const rule = { threshold, adversary, memberCount: m }
          const { k, n } = blobShape(rule, size)
          expect(n).toBeLessThanOrEqual(32768)
          expect(k).toBe(kMax(rule, n))
        }
      }
    }
  })

  it('the argument is tight: floor counts can leave an honest set kMax(n) shards at q = 1, kMax(n) + 1 below', () => {
    const next = rng(8)
    // q = 1, f = 0: H is the whole committee, and 'edge' stakes leave it exactly kMax(n) shards.
    const all = { threshold: { num: 1n, den: 1n }, adversary: { num: 0n, den: 1n } }
    for (const m of [1, 2, 5, 12, 40]) {
      for (const n of [...policyShardCounts({ ...all, memberCount: m }), 3 * m + 1]) {
        const stakes = edgeStakes(m, n, next)
        expect(floorCounts(stakes, n).reduce((a, b) => a + b, 0)).toBe(kMax({ ...all, memberCount: m }, n))
      }
    }
    // q - f < 1: an H of at most m - 1 members holds more than n g - (m - 1) shards, and all m members hold at
    // least n - m + 1 > n g - m + 1, so the rule keeps one shard of margin. m - 1 members on the rounding edge
    // holding just g S between them reach that: the true minimum is exactly kMax(n) + 1.
    let reached = 0
    for (const [threshold, adversary] of THRESHOLDS.slice(0, 4)) {
      const g = subtract(threshold, adversary)
      for (let m = 2; m <= 12; m++) {
        const rule = { threshold, adversary, memberCount: m }
        for (const n of shardCountsFor(m, rule)) {
          const edge = Number((BigInt(n) * g.num) / g.den) + 1 // sum of a_i over the m - 1 edge members
          if (edge < m - 1 || edge >= n) continue
          const unit = 2 ** 16
          const a = Array.from({ length: m - 1 }, (_, i) => (i === 0 ? edge - (m - 2) : 1))
          const stakes = a.map((x) => x * unit - 1)
          stakes.push(n * unit - stakes.reduce((x, y) => x + y, 0))
          expect(exhaustiveMinimum(floorCounts(stakes, n), stakes, g), `m=${m} n=${n}`).toBe(kMax(rule, n) + 1)
          reached++
        }
      }
    }
    expect(reached).toBeGreaterThan(300)
  })
})
