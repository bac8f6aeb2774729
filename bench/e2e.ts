/**
 * End-to-end benchmarks: the whole dispersal path with every committee node its own `dacnet node` process on
 * loopback, started as `npm start` starts them (the devnet's layout, chain, stakes and roles), so that the figures
 * carry over to a deployment. Time to certificate over blob sizes and committee sizes (and its plot), sustained
 * throughput with the CPU it costs, idle CPU, peak memory per node, light-client checks, retrieval, and one
 * dispersal taken apart (bench/e2e/breakdown.ts). BENCHMARKS.md says what each row measures.
 *
 * `npm run bench -- e2e` runs the full plan; `DACNET_BENCH_E2E=quick` (or `--quick`) a short one; options change
 * either (`npm exec -- node bench/e2e.ts --help`). Rows go to stdout as they come, progress to stderr. Every node,
 * helper process and temp dir is removed on the way out, Ctrl-C included (twice: at once).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Certificate } from '../src/attest/certificate.ts'
import { applyV8Flags } from '../src/cli/v8-flags.ts'
import { breakdownRows } from './e2e/breakdown.ts'
import { EXIT_INTERRUPTED, stopOnSignals } from './e2e/cleanup.ts'
import { lightClientRows, retrievalRow } from './e2e/clients.ts'
import { BenchCluster, type CommitteeKind, note } from './e2e/cluster.ts'
import { type Cell, certificateCell, certificateRow, disperseOne, RandomBlobs, sustainedRows } from './e2e/dispersal.ts'
import { type Plan, planFrom, USAGE } from './e2e/plan.ts'
import { type PlotLine, timeToCertificatePlot } from './e2e/plot.ts'
import { type IdleRates, idleCpu, peakRssRows, waitForQuiet } from './e2e/resources.ts'
import { MiB, sizeLabel } from './e2e/rows.ts'
import { startSink } from './e2e/sink.ts'
import type { BenchRow } from './lib.ts'

/** Exit code of a run refused for its arguments, as the CLI's usage errors. */
const EXIT_USAGE = 2
/** A dispersal before any timed one opens the members' streams and warms the code paths. */
const WARM_UP_BYTES = MiB

function emit(row: BenchRow): void {
  process.stdout.write(`${JSON.stringify(row)}\n`)
}

/**
 * Runs one committee. The grid's committees disperse the plan's sizes; the reference committee also gets peak RSS,
 * idle CPU, sustained throughput, light-client checks, retrieval and the breakdown. A comparison committee (the
 * other committee kind, at the reference size) gets idle CPU, the plan's sizes and sustained throughput.
 */
async function runCommittee(
  plan: Plan,
  members: number,
  kind: CommitteeKind,
  lines: PlotLine[],
  signal: AbortSignal,
): Promise<void> {
  const reference = members === plan.referenceMembers
  const compare = kind !== plan.committee
  const sizes = [...new Set([...plan.sizes, ...(reference ? [plan.referenceSize] : [])])].sort((a, b) => a - b)
  const cluster = await BenchCluster.start(members, kind, signal)
  try {
    await disperseOne(cluster, new RandomBlobs(WARM_UP_BYTES, 1).blob(0), signal)
    await cluster.settled(signal)
    let idle: IdleRates | undefined
    if (reference && !compare) (await peakRssRows(cluster, plan.peakSize, signal)).forEach(emit)
    if (reference) {
      const reading = await idleCpu(cluster, plan.idleSeconds, signal)
      emit(reading.row)
      idle = reading.idle
    }
    const line: PlotLine = { members, kind, cells: new Map() }
    let referenceCell: Cell | undefined
    for (const size of sizes) {
      const started = performance.now()
      const cell = await certificateCell(cluster, size, plan.blobsPerCell(size), signal)
      const row = certificateRow(cluster, cell)
      emit(row)
      note(
        `${sizeLabel(size)} on ${members} members (${kind}): ${cell.dispersed.length} blobs in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      )
      if (plan.sizes.includes(size)) line.cells.set(size, row.median)
      if (size === plan.referenceSize) referenceCell = cell
    }
    if (plan.members.includes(members) || compare) lines.push(line)
    if (!reference || !referenceCell) return

    const sustained = await sustainedRows(cluster, plan.referenceSize, plan.sustainedBlobs, idle, signal)
    sustained.rows.forEach(emit)
    if (compare) return
    const certificates: Certificate[] = [...referenceCell.dispersed, ...sustained.dispersed].map((d) => d.certificate)
    // Reading rows start on a quiet committee, as the idle and peak readings do: not inside the LevelDB writes,
    // gossip and provider records that the sustained run (or the checks) left the members doing.
    note(`light-client checks after ${await quietSeconds(cluster, signal)} s for the members to go quiet`)
    ;(await lightClientRows(cluster, certificates, plan.warmChecks, plan.coldChecks, signal)).forEach(emit)
    note(`retrievals after ${await quietSeconds(cluster, signal)} s for the members to go quiet`)
    emit(await retrievalRow(cluster, referenceCell.dispersed, referenceCell.blobs, plan.retrievals, signal))
    const sink = await startSink()
    try {
      ;(await breakdownRows(cluster, referenceCell, plan.breakdownRuns, sink, signal)).forEach(emit)
    } finally {
      await sink.stop()
    }
  } finally {
    await cluster.stop()
  }
}

async function quietSeconds(cluster: BenchCluster, signal: AbortSignal): Promise<string> {
  return ((await waitForQuiet(cluster, signal)) / 1000).toFixed(1)
}

async function main(): Promise<void> {
  // This process is the devnet's sequencer, light client and retriever: it runs with a dacnet process's V8 flags.
  applyV8Flags()
  if (process.argv.includes('--help')) {
    process.stderr.write(`${USAGE}\n`)
    return
  }
  let plan: Plan
  try {
    plan = planFrom(process.argv.slice(2), process.env)
  } catch (err) {
    process.stderr.write(`e2e: ${(err as Error).message}\n${USAGE}\n`)
    process.exitCode = EXIT_USAGE
    return
  }
  const stop = new AbortController()
  const removeHandlers = stopOnSignals(stop, note)
  const started = performance.now()
  note(
    `${plan.mode} plan: committees of ${plan.members.join(', ')} (${plan.committee}), blobs of ${plan.sizes.map(sizeLabel).join(', ')}; reference ${plan.referenceMembers} members, ${sizeLabel(plan.referenceSize)}`,
  )
  const lines: PlotLine[] = []
  try {
    const committees = [...new Set([...plan.members, plan.referenceMembers])].sort((a, b) => a - b)
    for (const members of committees) {
      stop.signal.throwIfAborted()
      await runCommittee(plan, members, plan.committee, lines, stop.signal)
    }
    // The comparison: the reference committee again, from the other source (a file, without the chain's polling).
    if (plan.fileCompare) {
      stop.signal.throwIfAborted()
      const other = plan.committee === 'chain' ? 'file' : 'chain'
      await runCommittee(plan, plan.referenceMembers, other, lines, stop.signal)
    }
    if (plan.svg !== undefined && lines.length > 0) {
      await mkdir(dirname(plan.svg), { recursive: true })
      await writeFile(plan.svg, timeToCertificatePlot(plan, lines))
      note(`plot written to ${plan.svg}`)
    }
    note(`done in ${((performance.now() - started) / 60_000).toFixed(1)} min`)
  } catch (err) {
    if (stop.signal.aborted) {
      note('stopped; every node and temp dir removed')
      process.exitCode = EXIT_INTERRUPTED
      return
    }
    throw err
  } finally {
    removeHandlers()
  }
}

await main()
