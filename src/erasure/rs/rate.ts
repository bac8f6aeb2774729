import { RsErrorCode, rsError } from './errors.ts'

/** GF(2^16) has 65536 elements: the most shards (evaluation points) a code can have. */
export const GF_ORDER = 65536

/** Smallest power of two >= x (x >= 1). */
export function nextPow2(x: number): number {
  return x <= 1 ? 1 : 2 ** Math.ceil(Math.log2(x))
}

/**
 * The crate's DefaultRate choice. High rate puts the recovery shards in the first power-of-two chunk of
 * evaluation points and the originals after it; low rate the other way round. The rate with the larger
 * power-of-two count wins; on a tie the crate deliberately picks high rate when originals <= recovery
 * (faster decoding), low rate otherwise. The two give different recovery shards, so this must match.
 */
export function useHighRate(originalCount: number, recoveryCount: number): boolean {
  const originalPow2 = nextPow2(originalCount)
  const recoveryPow2 = nextPow2(recoveryCount)
  if (originalPow2 !== recoveryPow2) return originalPow2 > recoveryPow2
  return originalCount <= recoveryCount
}

/**
 * Whether k originals and r recovery shards fit the chunked layout: the smaller count rounded up to a power of two
 * next to the larger, within GF_ORDER (then k + r <= GF_ORDER too).
 */
export function fitsChunkLayout(k: number, r: number): boolean {
  return Math.min(nextPow2(k), nextPow2(r)) + Math.max(k, r) <= GF_ORDER
}

/** Throws unless (originalCount, recoveryCount) is a code reed-solomon-simd supports. */
export function checkShardCounts(originalCount: unknown, recoveryCount: unknown): void {
  for (const [name, value] of [
    ['originalCount', originalCount],
    ['recoveryCount', recoveryCount],
  ] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw rsError(RsErrorCode.INVALID_SHARD_COUNT, `${name} must be an integer >= 1, got ${String(value)}`, {
        [name]: typeof value === 'number' ? value : String(value),
      })
    }
  }
  const k = originalCount as number
  const r = recoveryCount as number
  if (k + r > GF_ORDER) {
    throw rsError(RsErrorCode.TOO_MANY_SHARDS, `${k} original + ${r} recovery shards exceed ${GF_ORDER}`, {
      originalCount: k,
      recoveryCount: r,
    })
  }
  if (!fitsChunkLayout(k, r)) {
    throw rsError(
      RsErrorCode.UNSUPPORTED_SHARD_COUNT,
      `${k} original + ${r} recovery shards do not fit the power-of-two chunk layout of GF(2^16)`,
      { originalCount: k, recoveryCount: r },
    )
  }
}
