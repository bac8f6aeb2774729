/**
 * Shared helpers for `npm run bench`. A benchmark suite is an async function returning rows; the runner
 * prints every row as JSON (one object per line, for machines) and then one table (for people).
 */
export interface BenchRow {
  /** Suite name, e.g. "erasure". */
  suite: string
  /** What was measured, e.g. "encode k=1024 n=4096 16MiB". */
  name: string
  /** Which implementation: "dacnet", or a baseline such as "oracle". */
  impl: string
  /** Median over the runs. */
  median: number
  unit: string
  runs: number
  /** The goal for this row, in the same unit, if the issue set one. */
  goal?: number
  /** True if a larger value is better (MB/s), false for times. */
  higherIsBetter?: boolean
  extra?: Record<string, unknown>
}

export type BenchSuite = () => Promise<BenchRow[]>

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[idx]!
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times, and returns each run's duration in milliseconds. */
export async function timeRuns(fn: () => unknown, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  return times
}

/** MB/s (10^6 bytes per second) for `bytes` processed in `ms` milliseconds. */
export function mbPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1e3)
}
