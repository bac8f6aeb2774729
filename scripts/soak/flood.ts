/**
 * The flood suite's rows. The baseline, the heavy peer and the ten-identity flood run in turn, `pairs` times, and
 * each is judged on all its phases' honest requests pooled: a phase's p99 over ~100 requests is its slowest
 * request or the one before, and the spread between runs of one setting was as large as the effect measured.
 */
import { type FloodPhase, type PhaseSummary, runFlood } from '../../test/flood/harness.ts'
import { pooledHonest } from '../../test/flood/honest.ts'
import type { SoakRow } from './row.ts'

/** Baseline, heavy and identities phases, each run this many times, in turn. */
export const FLOOD_PAIRS = 3

function floodPlan(pairs: number): FloodPhase[] {
  const plan: FloodPhase[] = []
  for (let i = 0; i < pairs; i++) plan.push('baseline', 'heavy', 'identities')
  plan.push('burst', 'stall')
  return plan
}

/** A phase's figures without its raw latencies (they are in the pooled figures). */
function summary(p: PhaseSummary): Record<string, unknown> {
  const { latenciesMs: _, ...honest } = p.honest
  return { ...p, honest }
}

export async function floodRows(phaseMs: number, pairs = FLOOD_PAIRS): Promise<SoakRow[]> {
  const { phases } = await runFlood({ phaseMs, phases: floodPlan(pairs) })
  const of = (phase: FloodPhase) => phases.filter((p) => p.phase === phase)
  const baseline = pooledHonest(of('baseline').map((p) => p.honest))
  const rows: SoakRow[] = [
    {
      suite: 'flood',
      case: 'baseline',
      figure: `honest p50 ${baseline.p50Ms.toFixed(1)} ms, p99 ${baseline.p99Ms.toFixed(1)} ms (${baseline.requests} requests over ${of('baseline').length} phases)`,
      pass: 'no honest failure',
      ok: of('baseline').every((p) => Object.keys(p.honest.failed).length === 0),
      detail: { pooled: baseline, phases: of('baseline').map(summary) },
    },
  ]
  for (const phase of ['heavy', 'identities'] as const) {
    const runs = of(phase)
    const pooled = pooledHonest(runs.map((p) => p.honest))
    const ratio = pooled.p99Ms / baseline.p99Ms
    const served = runs.reduce((sum, p) => sum + (p.flooders?.servedPerSecond ?? 0), 0) / runs.length
    const refused = runs.reduce((sum, p) => sum + (p.flooders?.refusedPerSecond ?? 0), 0) / runs.length
    const rss = Math.max(...runs.map((p) => p.node.peakRssMb))
    const cpu = Math.max(...runs.map((p) => p.node.cpuPercent))
    rows.push({
      suite: 'flood',
      case: phase,
      figure: `honest p50 ${pooled.p50Ms.toFixed(1)} ms, p99 ${pooled.p99Ms.toFixed(1)} ms (${ratio.toFixed(1)}x baseline; ${pooled.requests} requests over ${runs.length} phases); flooders served ${served.toFixed(1)}/s, refused ${refused.toFixed(1)}/s; node RSS peak ${rss.toFixed(0)} MB, CPU up to ${cpu.toFixed(0)}%`,
      pass: 'honest p99 <= 2x baseline (pooled), no honest failure',
      ok: ratio <= 2 && runs.every((p) => Object.keys(p.honest.failed).length === 0),
      detail: { pooled, baselinePooled: baseline, phases: runs.map(summary) },
    })
  }
  for (const p of [...of('burst'), ...of('stall')]) {
    const { honest } = p.connections!
    rows.push({
      suite: 'flood',
      case: p.phase,
      figure: `${honest.sampled} of ${honest.dials} new honest clients connected and sampled (connect p50 ${honest.connectP50Ms.toFixed(0)} ms)`,
      pass: 'every new honest client gets in and samples',
      ok: honest.sampled === honest.dials,
      detail: summary(p),
    })
  }
  return rows
}
