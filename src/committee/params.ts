import { MAX_TOTAL_SHARDS } from '../erasure/params.ts'
import { CommitteeErrorCode, committeeError } from './errors.ts'
import { type Fraction, lessThan, subtract } from './fraction.ts'

export { MAX_TOTAL_SHARDS }
/** Floor on n: even a one-member committee gets a code with useful redundancy. */
export const MIN_TOTAL_SHARDS = 16
/**
 * The shard size the shape policy aims at, in bytes (PROTOCOL.md §2.3): n grows with the blob until its shards
 * are at most this big, so one light-client sample (a shard and its proof) stays between about 1.9 and 4.5 KB from a
 * 64 KiB blob to a 32 MiB one at 16 members, as Celestia's 512-byte shares and PeerDAS's 2 KiB cells keep theirs
 * fixed (DESIGN decision 12). 4 KiB keeps n <= 32,768 for a 32 MiB blob, so proofs stay at most 15 hashes (480 bytes) and a member
 * stores about a thousand shards of the largest blob at 16 members.
 */
export const TARGET_SHARD_SIZE = 4096
/** Shards are whole 64-byte chunks (PROTOCOL.md §1.1), restated so that committee stays free of erasure. */
const SHARD_ALIGNMENT = 64

/** Erasure parameters: k original shards, n shards in all (k < n <= 65536). */
export interface EncodingParams {
  readonly k: number
  readonly n: number
}

/**
 * What the safety rule needs of a committee: its thresholds and its member count m. Stakes play no part
 * (the rule holds for every stake distribution), so a committee, a list of stakes or a bare count will do.
 */
export type SafetyInput = {
  /** Signing threshold q. */
  readonly threshold: Fraction
  /** Adversary bound f, below q. */
  readonly adversary: Fraction
} & (
  | { readonly memberCount: number }
  | { readonly stakes: readonly bigint[] }
  | { readonly members: readonly unknown[] }
)

/** What the shape policy needs of a committee: the safety input and the file's fixed n, if any. */
export type ShapeInput = SafetyInput & {
  /** A fixed n from the committee file (2..65536): then every blob has that n. */
  readonly totalShards?: number | undefined
}

/**
 * The largest k the safety rule allows for an n-shard blob (PROTOCOL.md §2.3): floor(n * g) - m + 1 with
 * g = q - f, in exact integers. The honest part of any signing set holds at least that many distinct shards,
 * whatever the stakes:
 *
 * A signing set has stake >= q * S, of which at most f * S is adversarial, so its honest part H has
 * stake(H) >= g * S. Member i holds c_i >= floor(n * s_i / S) > n * s_i / S - 1 distinct shards, so H holds
 * more than n * g - |H| >= n * g - m of them, and an integer above n * g - m is at least floor(n * g) - m + 1.
 * May be zero or negative: then no k is safe for this n.
 */
export function kMax(committee: SafetyInput, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw committeeError(CommitteeErrorCode.ENCODING_UNSATISFIABLE, `n = ${n} is not a non-negative integer`, { n })
  }
  const g = honestFraction(committee)
  return Number((BigInt(n) * g.num) / g.den) - memberCountOf(committee) + 1
}

/**
 * Why (k, n) is not safe for the committee, or undefined when it is: 1 <= k <= kMax(n), k < n <= 65536, and
 * (k, n - k) a shape the erasure code supports. This is the rule certificates are checked against, by
 * `verifyCertificate` and by the L1 verifier alike; which safe (k, n) a disperser picks is its own policy.
 */
export function unsafeEncoding(committee: SafetyInput, k: number, n: number): string | undefined {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 1 || n <= k || n > MAX_TOTAL_SHARDS) {
    return `k=${k} n=${n} is not 1 <= k < n <= ${MAX_TOTAL_SHARDS}`
  }
  const max = kMax(committee, n)
  if (k > max) {
    return `k=${k} exceeds kMax(${n}) = ${max} for ${memberCountOf(committee)} members at q - f = ${fmt(honestFraction(committee))}`
  }
  if (!isSupportedShape(k, n - k)) return `k=${k} n=${n} is not a shape the erasure code supports`
  return undefined
}

/** True when a blob encoded with (k, n) is recoverable from the honest part of any signing set (`unsafeEncoding`). */
export function isSafeEncoding(committee: SafetyInput, k: number, n: number): boolean {
  return unsafeEncoding(committee, k, n) === undefined
}

/**
 * The shape (k, n) of a blob of `dataSize` bytes: what dispersers encode with and what members admit
 * (PROTOCOL.md §2.3). n is the smallest power of two >= MIN_TOTAL_SHARDS for which kMax(n) >= 1 and the blob's
 * canonical shard size at k = largestSafeK(n) is at most TARGET_SHARD_SIZE, capped at 65536 (a blob too big for
 * that gets n = 65536 and larger shards); k is largestSafeK(n). With the file's fixed totalShards, n is that for
 * every blob. Throws COMMITTEE_ENCODING_UNSATISFIABLE when no n <= 65536 (or the fixed n) lets k >= 1.
 *
 * Why per blob: with one n per committee a 16 MiB blob at 16 members had 108 KB shards, and a light client's check
 * downloaded over a megabyte; with shards near 4 KiB a check stays under 60 KB whatever the size.
 */
export function blobShape(committee: ShapeInput, dataSize: number): EncodingParams {
  if (!Number.isSafeInteger(dataSize) || dataSize < 0) {
    const why = `blob size ${dataSize} is not a non-negative safe integer`
    throw committeeError(CommitteeErrorCode.INVALID_DATA_SIZE, why, { dataSize })
  }
  honestFraction(committee) // q <= f is refused before any n is tried
  if (committee.totalShards !== undefined) return fixedShape(committee, committee.totalShards)
  for (let n = MIN_TOTAL_SHARDS; n <= MAX_TOTAL_SHARDS; n *= 2) {
    const k = largestSafeK(committee, n)
    if (k < 1) continue
    if (canonicalShardSize(dataSize, k) <= TARGET_SHARD_SIZE || n === MAX_TOTAL_SHARDS) return { k, n }
  }
  throw committeeError(
    CommitteeErrorCode.ENCODING_UNSATISFIABLE,
    `no n <= ${MAX_TOTAL_SHARDS} lets an honest set of ${memberCountOf(committee)} members hold a shard`,
    { members: memberCountOf(committee) },
  )
}

/** The shape of every blob when the committee file fixes n: that n and its largest safe k. */
function fixedShape(committee: SafetyInput, n: number): EncodingParams {
  if (!Number.isInteger(n) || n < 2 || n > MAX_TOTAL_SHARDS) {
    const why = `totalShards ${n} must be in 2..${MAX_TOTAL_SHARDS}`
    throw committeeError(CommitteeErrorCode.ENCODING_UNSATISFIABLE, why, { n })
  }
  const k = largestSafeK(committee, n)
  if (k < 1) {
    throw committeeError(
      CommitteeErrorCode.ENCODING_UNSATISFIABLE,
      `with n = ${n} shards an honest set of ${memberCountOf(committee)} members may hold none: kMax(${n}) = ${kMax(committee, n)}; raise totalShards`,
      { n },
    )
  }
  return { k, n }
}

/**
 * The canonical shard size of a `dataSize`-byte blob cut into k shards (PROTOCOL.md §1.2): the smallest multiple
 * of 64, at least 64, that holds it. The erasure layer's rule, restated; the tests check both agree.
 */
export function canonicalShardSize(dataSize: number, k: number): number {
  const perShard = Math.ceil(dataSize / k)
  return Math.max(SHARD_ALIGNMENT, Math.ceil(perShard / SHARD_ALIGNMENT) * SHARD_ALIGNMENT)
}

/**
 * The largest safe k for n shards: kMax(n), stepped down while (k, n - k) is not a supported shape; below 1 when
 * no k is safe. k = n is never a shape (no recovery shard), so the first step also caps k at n - 1. Stepping down
 * only strengthens the guarantee, and k = 1 is always a shape, so this is below 1 only when kMax(n) is.
 */
export function largestSafeK(committee: SafetyInput, n: number): number {
  let k = Math.min(kMax(committee, n), n - 1)
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

/** g = q - f, refusing q <= f (no signing set then has an honest part that must hold anything). */
function honestFraction(committee: SafetyInput): Fraction {
  if (!lessThan(committee.adversary, committee.threshold)) {
    throw committeeError(
      CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY,
      'the threshold q must be above the adversary bound f',
    )
  }
  return subtract(committee.threshold, committee.adversary)
}

function memberCountOf(committee: SafetyInput): number {
  const m =
    'memberCount' in committee
      ? committee.memberCount
      : 'stakes' in committee
        ? committee.stakes.length
        : committee.members.length
  if (!Number.isSafeInteger(m) || m < 1) {
    throw committeeError(CommitteeErrorCode.INVALID_MEMBER_COUNT, `member count ${m} is not a positive integer`)
  }
  return m
}

function fmt(f: Fraction): string {
  return `${f.num}/${f.den}`
}
