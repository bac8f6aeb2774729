import { lineChartSvg } from '../svg.ts'
import type { CommitteeKind } from './cluster.ts'
import type { Plan } from './plan.ts'
import { MiB, sizeLabel } from './rows.ts'

/** The issue's goals on 16 members, drawn as markers. */
const GOALS = [
  { x: MiB, y: 100, label: 'goal (16 members)' },
  { x: 16 * MiB, y: 1500, label: 'goal (16 members)' },
]

const msLabel = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`)

/** One committee's cells: blob size -> time to certificate p50 (ms). */
export interface PlotLine {
  members: number
  kind: CommitteeKind
  cells: Map<number, number>
}

/**
 * Time to certificate (p50) against blob size, one line per committee size, on log-log axes; a committee of the
 * other kind than the plan's (the comparison) is dashed.
 */
export function timeToCertificatePlot(plan: Plan, lines: readonly PlotLine[]): string {
  const series = lines.map((line) => ({
    label: `${line.members} members${line.kind === plan.committee ? '' : ` (${line.kind})`}`,
    points: [...line.cells].sort(([a], [b]) => a - b),
    dashed: line.kind !== plan.committee,
  }))
  const blobs = plan.sizes.map((s) => `${sizeLabel(s)} ${plan.blobsPerCell(s)}`).join(', ')
  const date = new Date().toISOString().slice(0, 10)
  const committee = plan.committee === 'chain' ? 'committee on the local chain' : 'committee from a file'
  const subtitle =
    plan.mode === 'full'
      ? `p50; blobs per point: ${blobs}; ${committee}; ${date}`
      : `${plan.mode === 'quick' ? 'QUICK' : 'PARTIAL'} RUN, NOT RESULTS: p50; blobs per point: ${blobs}; ${committee}; ${date}`
  return lineChartSvg({
    title: 'dacnet: time to certificate, every node its own process on loopback',
    subtitle,
    xLabel: 'blob size',
    yLabel: 'time to certificate (p50)',
    xTicks: plan.sizes.map((value) => ({ value, label: sizeLabel(value).replace(/(\d)([KM])/, '$1 $2') })),
    yFormat: msLabel,
    series,
    markers: GOALS.filter((g) => g.x >= plan.sizes[0]! && g.x <= plan.sizes.at(-1)!),
  })
}
