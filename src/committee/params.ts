import { CommitteeErrorCode, committeeError } from './errors.ts'
import { type Fraction, lessThan, subtract } from './fraction.ts'

/** GF(2^16) has 65536 evaluation points, so the erasure code cannot have more shards than this. */
export const MAX_TOTAL_SHARDS = 65536
/**
 * Default shards per member before rounding n up to a power of two. Rounding costs each member in an
 * honest set at most one shard, so with 8 shards per member the rate stays within about 1/8 of the ideal
 * q - f even in the worst stake distribution, while n stays small enough for short Merkle proofs.
 */
export const DEFAULT_SHARDS_PER_MEMBER = 8
/** Floor on the default n: tiny committees still get a code with useful redundancy. */
export const DEFAULT_MIN_TOTAL_SHARDS = 16

/** The erasure parameters of an epoch: k original shards, n shards in all (k < n <= 65536). */
export interface EncodingParams {
  readonly k: number
  readonly n: number
}

export interface EncodingInput {
  /** Member stakes, all positive. */
  readonly stakes: readonly bigint[]
  /** Signing threshold q. */
  readonly threshold: Fraction
  /** Adversary bound f, below q. */
  readonly adversary: Fraction
  /** A fixed n from the committee file; when absent, the default n (see `defaultTotalShards`). */
  readonly totalShards?: number | undefined
}

/**
 * Chooses (k, n) so that the honest part of any signing set holds at least k distinct shards.
 *
 * A signing set has stake >= q * S; at most f * S of it is adversarial, so its honest part H has
 * stake(H) >= (q - f) * S. Every member i holds c_i >= floor(n * s_i / S) shards (largest-remainder
 * rounding never rounds down further), all distinct. k is the ceiling of the fractional-knapsack lower
 * bound on sum(floor_i) over such H (see `honestShardBound`), capped at n - 1. With no fixed n the default
 * is tried first and doubled until k >= 1.
 */
export function encodingParams(input: EncodingInput): EncodingParams {
  if (!lessThan(input.adversary, input.threshold)) {
    throw committeeError(
      CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY,
      'the threshold q must be above the adversary bound f',
    )
  }
  const honest = subtract(input.threshold, input.adversary)
  if (input.totalShards !== undefined) {
    const n = input.totalShards
    if (!Number.isInteger(n) || n < 2 || n > MAX_TOTAL_SHARDS) {
      throw committeeError(
        CommitteeErrorCode.ENCODING_UNSATISFIABLE,
        `totalShards ${n} must be in 2..${MAX_TOTAL_SHARDS}`,
        {
          n,
        },
      )
    }
    const k = kFor(input.stakes, n, honest)
    if (k < 1) {
      throw committeeError(
        CommitteeErrorCode.ENCODING_UNSATISFIABLE,
        `with n = ${n} shards an honest set may hold no shard; raise totalShards`,
        { n },
      )
    }
    return { k, n }
  }
  for (let n = defaultTotalShards(input.stakes.length); n <= MAX_TOTAL_SHARDS; n *= 2) {
    const k = kFor(input.stakes, n, honest)
    if (k >= 1) return { k, n }
  }
  throw committeeError(
    CommitteeErrorCode.ENCODING_UNSATISFIABLE,
    `no n <= ${MAX_TOTAL_SHARDS} lets an honest set of ${input.stakes.length} members hold a shard`,
    { members: input.stakes.length },
  )
}

/** The default n: a power of two at least DEFAULT_SHARDS_PER_MEMBER per member, within [16, 65536]. */
export function defaultTotalShards(memberCount: number): number {
  const wanted = Math.max(DEFAULT_MIN_TOTAL_SHARDS, DEFAULT_SHARDS_PER_MEMBER * memberCount)
  return Math.min(MAX_TOTAL_SHARDS, 2 ** Math.ceil(Math.log2(wanted)))
}

function kFor(stakes: readonly bigint[], n: number, honest: Fraction): number {
  let k = Math.min(n - 1, Number(honestShardBound(floorShardCounts(stakes, n), stakes, honest)))
  // A smaller k only strengthens the guarantee, so step down to a shape the erasure code supports.
  while (k >= 1 && !isSupportedShape(k, n - k)) k--
  return k
}

const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(x))

/**
 * The shapes the Reed–Solomon code (reed-solomon-simd's construction) can encode: the smaller of k and r,
 * rounded up to a power of two, plus the larger must fit among the 65536 field points (PROTOCOL.md §1.1).
 * Stated here because committee stays independent of the erasure layer; the erasure tests check both agree.
 */
export function isSupportedShape(k: number, r: number): boolean {
  return (
    k >= 1 &&
    r >= 1 &&
    k + r <= MAX_TOTAL_SHARDS &&
    Math.min(nextPow2(k), nextPow2(r)) + Math.max(k, r) <= MAX_TOTAL_SHARDS
  )
}

/** floor(n * s_i / S): the least number of shards member i gets under largest-remainder rounding. */
export function floorShardCounts(stakes: readonly bigint[], n: number): bigint[] {
  const total = stakes.reduce((a, b) => a + b, 0n)
  return stakes.map((s) => (BigInt(n) * s) / total)
}

/**
 * A lower bound on min { sum_{i in H} counts_i : stake(H) >= honest * S } over member sets H.
 *
 * The integer minimum is at least the minimum of the linear relaxation (members may be taken
 * fractionally), which the greedy algorithm solves exactly: take members by increasing counts_i / s_i
 * until the stake target is met, the last one fractionally. The integer minimum is an integer, so it is
 * at least the ceiling of that rational value. Everything is exact bigint arithmetic.
 */
export function honestShardBound(counts: readonly bigint[], stakes: readonly bigint[], honest: Fraction): bigint {
  const total = stakes.reduce((a, b) => a + b, 0n)
  const target = honest.num * total // stake(H) * honest.den must reach this
  const order = stakes.map((_, i) => i)
  order.sort((a, b) => {
    const lhs = counts[a]! * stakes[b]!
    const rhs = counts[b]! * stakes[a]!
    return lhs < rhs ? -1 : lhs > rhs ? 1 : a - b
  })
  let stake = 0n
  let shards = 0n
  for (const i of order) {
    const s = stakes[i]!
    const c = counts[i]!
    if ((stake + s) * honest.den >= target) {
      // Only (target / den - stake) of member i's stake is needed: it brings that share of its shards.
      const num = c * (target - stake * honest.den)
      const den = honest.den * s
      return shards + (num + den - 1n) / den
    }
    stake += s
    shards += c
  }
  return shards // unreachable while honest <= 1: the whole committee meets any target
}
