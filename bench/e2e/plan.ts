/**
 * What an e2e run measures and how many times: the full plan (about ten to fifteen minutes on two cores), a quick
 * one (`DACNET_BENCH_E2E=quick` or `--quick`, a few minutes), or either changed by command-line options.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseSize } from '../../src/cli/size.ts'
import type { CommitteeKind } from './cluster.ts'
import { KiB, MiB } from './rows.ts'

export interface Plan {
  mode: 'full' | 'quick' | 'custom'
  /** Committee sizes of the time-to-certificate grid, each a cluster of its own, started in this order. */
  members: number[]
  /** Blob sizes of the grid, bytes. */
  sizes: number[]
  /** Blobs dispersed per cell of the grid (the p50 is over these), by blob size. */
  blobsPerCell: (size: number) => number
  committee: CommitteeKind
  /**
   * The committee and blob size of everything measured once: sustained throughput, CPU, idle CPU, peak RSS,
   * light-client checks, retrieval and the breakdown (16 members and 16 MiB, as the goals).
   */
  referenceMembers: number
  referenceSize: number
  /** Blob size of the peak-RSS dispersal. */
  peakSize: number
  sustainedBlobs: number
  idleSeconds: number
  warmChecks: number
  coldChecks: number
  retrievals: number
  /** Runs of each part of the breakdown (aggregation runs four times as many, signing 50). */
  breakdownRuns: number
  /**
   * Also the reference committee from the other source (a committee file, when the plan's is the chain): idle CPU,
   * the grid's sizes and sustained throughput, to show what the chain's polling costs on the same cores.
   */
  fileCompare: boolean
  /** Where the plot goes; a full run writes it to PLOT_PATH unless told otherwise. */
  svg: string | undefined
}

/** The committed plot, which BENCHMARKS.md shows. */
export const PLOT_PATH = fileURLToPath(new URL('../../docs/bench/e2e-time-to-certificate.svg', import.meta.url))

/** p50 over an odd count per cell; fewer of the large blobs, whose dispersals take seconds each. */
const FULL_BLOBS: Record<number, number> = {
  [64 * KiB]: 15,
  [256 * KiB]: 15,
  [MiB]: 11,
  [4 * MiB]: 9,
  [16 * MiB]: 7,
  [32 * MiB]: 5,
}

const full: Plan = {
  mode: 'full',
  members: [4, 8, 16, 32],
  sizes: [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB, 32 * MiB],
  blobsPerCell: (size) => FULL_BLOBS[size] ?? 7,
  committee: 'chain',
  referenceMembers: 16,
  referenceSize: 16 * MiB,
  peakSize: 32 * MiB,
  sustainedBlobs: 12,
  idleSeconds: 10,
  warmChecks: 21,
  coldChecks: 9,
  retrievals: 7,
  breakdownRuns: 5,
  fileCompare: true,
  svg: PLOT_PATH,
}

const quick: Plan = {
  ...full,
  mode: 'quick',
  members: [4, 16],
  sizes: [64 * KiB, MiB, 16 * MiB],
  blobsPerCell: () => 3,
  sustainedBlobs: 4,
  idleSeconds: 5,
  warmChecks: 5,
  coldChecks: 3,
  retrievals: 3,
  breakdownRuns: 3,
  fileCompare: false,
  svg: undefined,
}

export const USAGE = `usage: node bench/e2e.ts [--quick] [--members 4,16] [--sizes 64KiB,1MiB] [--blobs N]
  [--reference-members N] [--reference-size SIZE] [--peak-size SIZE] [--sustained N] [--idle-seconds S]
  [--checks N] [--cold-checks N] [--retrievals N] [--breakdown-runs N] [--committee chain|file]
  [--file-compare | --no-file-compare] [--svg FILE]
DACNET_BENCH_E2E=quick is --quick. Options change the full (or quick) plan; the plot is written by a full run,
or wherever --svg says.`

const positive = (text: string, what: string) => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got ${text}`)
  return n
}

export function planFrom(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Plan {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      members: { type: 'string' },
      sizes: { type: 'string' },
      blobs: { type: 'string' },
      'reference-members': { type: 'string' },
      'reference-size': { type: 'string' },
      'peak-size': { type: 'string' },
      sustained: { type: 'string' },
      'idle-seconds': { type: 'string' },
      checks: { type: 'string' },
      'cold-checks': { type: 'string' },
      retrievals: { type: 'string' },
      'breakdown-runs': { type: 'string' },
      committee: { type: 'string' },
      'file-compare': { type: 'boolean' },
      'no-file-compare': { type: 'boolean' },
      svg: { type: 'string' },
    },
    strict: true,
  })
  const base = values.quick || env.DACNET_BENCH_E2E === 'quick' ? quick : full
  const plan: Plan = { ...base }
  const changed = Object.keys(values).some((key) => key !== 'quick' && key !== 'svg')
  if (changed) plan.mode = 'custom'
  if (values.members) plan.members = values.members.split(',').map((m) => positive(m, '--members'))
  if (values.sizes) plan.sizes = values.sizes.split(',').map((s) => parseSize(s, '--sizes'))
  if (values.blobs) {
    const blobs = positive(values.blobs, '--blobs')
    plan.blobsPerCell = () => blobs
  }
  if (values['reference-members']) plan.referenceMembers = positive(values['reference-members'], '--reference-members')
  if (values['reference-size']) plan.referenceSize = parseSize(values['reference-size'], '--reference-size')
  if (values['peak-size']) plan.peakSize = parseSize(values['peak-size'], '--peak-size')
  if (values.sustained) plan.sustainedBlobs = positive(values.sustained, '--sustained')
  if (values['idle-seconds']) plan.idleSeconds = positive(values['idle-seconds'], '--idle-seconds')
  if (values.checks) plan.warmChecks = positive(values.checks, '--checks')
  if (values['cold-checks']) plan.coldChecks = positive(values['cold-checks'], '--cold-checks')
  if (values.retrievals) plan.retrievals = positive(values.retrievals, '--retrievals')
  if (values['breakdown-runs']) plan.breakdownRuns = positive(values['breakdown-runs'], '--breakdown-runs')
  if (values.committee) {
    if (values.committee !== 'chain' && values.committee !== 'file') throw new Error('--committee is chain or file')
    plan.committee = values.committee
  }
  if (values['file-compare']) plan.fileCompare = true
  if (values['no-file-compare']) plan.fileCompare = false
  // A partial run's plot is no result: it goes only where asked, never over the committed one.
  plan.svg = values.svg !== undefined ? resolve(values.svg) : plan.mode === 'full' ? PLOT_PATH : undefined
  plan.sizes.sort((a, b) => a - b)
  plan.members.sort((a, b) => a - b)
  return plan
}
