/** Small helpers shared by the flood harness and its child processes. */

/** The q-quantile (0..1) of sorted values, nearest rank; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

export function median(sorted: readonly number[]): number {
  return quantile(sorted, 0.5)
}

/** `count` distinct indices below `n`, drawn with `rand`. */
export function distinctIndices(count: number, n: number, rand: () => number): number[] {
  const picked = new Set<number>()
  while (picked.size < Math.min(count, n)) picked.add(Math.floor(rand() * n))
  return [...picked]
}

/** 'ok', or the code (else the name) of the error the promise rejects with. */
export async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'ok'
  } catch (err) {
    const e = err as { code?: unknown; name?: unknown }
    return typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error'
  }
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}

/** Rounded to `digits` decimals, for printing. */
export function round(value: number, digits = 1): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
