import type { BenchRow } from '../lib.ts'
import type { CommitteeKind } from './cluster.ts'

export const SUITE = 'e2e'
export const KiB = 1024
export const MiB = 1024 * 1024

export function row(name: string, median: number, unit: string, runs: number, more: Partial<BenchRow> = {}): BenchRow {
  return { suite: SUITE, name, impl: 'dacnet', median, unit, runs, ...more }
}

/** Rows from a chain committee (the devnet's default) are `dacnet`; those from a committee file say so. */
export function implOf(kind: CommitteeKind): string {
  return kind === 'chain' ? 'dacnet' : 'dacnet-file-committee'
}

/** 65536 -> "64KiB", 16777216 -> "16MiB": the sizes of the issue, as its text writes them. */
export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB}MiB`
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB}KiB`
  return `${bytes}B`
}
