/**
 * `npm run soak [-- suite...] [--seed N]`: the hardening suites at their full figures (docs/SECURITY.md), each
 * printing one JSON row per case as it finishes, then a table against the pass figure. `npm test` runs a smaller
 * sample of the same suites; this is the long run (about 20 minutes on two cores).
 *
 *   fuzz   100,000 inputs per decoder of outside input (test/fuzz), seeded and replayable
 *   faults members just under and just over a third of the stake paused (SIGSTOP) and killed, on a 16-member
 *          cluster of real processes: dispersal, light-client checks against the healthy figures, every certificate
 *   flood  one peer at 10x the sample quota, ten identities just under it (in turn with the baseline, three
 *          times each, judged pooled), a burst of new peers, stalled handshakes,
 *          against a node in its own process: the honest client's latency, the flooders' rates, the node's RSS
 *   withholding  10,000 light-client checks of a blob with only k - 1 shards served: false accepts against the bound
 *   crash  1,000 SIGKILLs of a member storing and attesting blobs, its store reopened and verified after each
 *   encoding  10,000 fuzzed shard sets from a badly-encoding or equivocating sequencer: members' stores and
 *          retrievers' verdicts (test/fuzz/encoding-fuzz.ts), seeded and replayable
 *
 * Exit code 1 when any case misses its pass figure.
 */
import { fuzz } from '../test/fuzz/fuzz.ts'
import { fuzzTargets } from '../test/fuzz/targets.ts'
import { startWithheld } from '../test/node/withholding.ts'
import { runCrashIterations } from '../test/storage/fixtures/crash-harness.ts'
import { encodingRows } from './soak/encoding.ts'
import { DEFAULT_FAULT_OPTIONS, faultRows } from './soak/faults.ts'
import { floodRows } from './soak/flood.ts'
import type { SoakRow } from './soak/row.ts'

/** Inputs per fuzz target in the soak. */
const FUZZ_RUNS = 100_000
/** SIGKILLs in the crash soak, over two lanes (one per core). */
const CRASH_ITERATIONS = 1_000
const CRASH_LANES = 2
/** Checks per target in the withholding suite: the 10,000 at measurable targets, and at the default. */
const WITHHOLDING_TRIALS: readonly (readonly [number, number])[] = [
  [10_000, 0.9],
  [10_000, 0.99],
  [2_000, 1 - 1e-6],
]
/** Each phase of the flood suite. */
const FLOOD_PHASE_MS = 10_000
/** The faults suite's whole run, cluster start-up included. */
const FAULTS_TIMEOUT_MS = 15 * 60_000

type Suite = (opts: { seed: number }) => Promise<SoakRow[]>

const suites: Record<string, Suite> = {
  fuzz: async ({ seed }) => {
    const rows: SoakRow[] = []
    for (const target of fuzzTargets()) {
      const started = performance.now()
      const s = await fuzz(target, { runs: FUZZ_RUNS, seed })
      rows.push(
        emit({
          suite: 'fuzz',
          case: target.name,
          figure: `${s.inputs} inputs: ${s.accepted} accepted, ${s.refused} refused (${s.codes.length} codes), ${s.crashes} crashes, ${s.hangs} hangs, slowest ${s.slowestMs.toFixed(1)} ms`,
          pass: `>= ${FUZZ_RUNS} inputs, 0 crashes, 0 hangs`,
          ok: s.inputs >= FUZZ_RUNS && s.crashes === 0 && s.hangs === 0 && s.failure === undefined,
          detail: { ...s, seconds: Math.round((performance.now() - started) / 100) / 10 },
        }),
      )
    }
    return rows
  },
  faults: async () => (await faultRows(DEFAULT_FAULT_OPTIONS, AbortSignal.timeout(FAULTS_TIMEOUT_MS))).map(emit),
  flood: async () => (await floodRows(FLOOD_PHASE_MS)).map(emit),
  withholding: async () => {
    const withheld = await startWithheld()
    const rows: SoakRow[] = []
    try {
      for (const [trials, confidence] of WITHHOLDING_TRIALS) {
        const bound = 1 - confidence
        const { falseAccepts, p50Ms } = await withheld.trials(trials, confidence)
        // The bound's mean plus four standard deviations: a correct client passes all but once in ~30,000 runs.
        const ceiling = trials * bound + 4 * Math.sqrt(trials * bound * (1 - bound))
        rows.push(
          emit({
            suite: 'withholding',
            case: `k - 1 of n shards served (k = ${withheld.k}, n = ${withheld.n}), target ${confidence}`,
            figure: `${falseAccepts} false accepts in ${trials} checks (${((falseAccepts / trials) * 100).toFixed(3)}%; bound ${(bound * 100).toPrecision(2)}%), check p50 ${p50Ms.toFixed(1)} ms`,
            pass: `false accepts <= ${Math.floor(ceiling)} (the bound plus 4 sigma)`,
            ok: falseAccepts <= ceiling,
            detail: { trials, confidence, falseAccepts, p50Ms },
          }),
        )
      }
    } finally {
      await withheld.stop()
    }
    return rows
  },
  crash: async () => {
    const started = performance.now()
    let error: string | undefined
    let summary: Awaited<ReturnType<typeof runCrashIterations>> | undefined
    try {
      summary = await runCrashIterations({
        iterations: CRASH_ITERATIONS,
        lanes: CRASH_LANES,
        onIteration: (done, s) => {
          if (done % 100 === 0) note(`crash: ${done}/${CRASH_ITERATIONS} kills, ${s.announced} blobs announced`)
        },
      })
    } catch (err) {
      error = (err as Error).message
    }
    return [
      emit({
        suite: 'crash',
        case: 'SIGKILL during store and attest, reopen and verify',
        figure: summary
          ? `${summary.iterations} kills, ${summary.announced} attested blobs, ${summary.verifiedBlobs} verified after reopen, 0 lost`
          : `failed: ${error}`,
        pass: `${CRASH_ITERATIONS} kills, 0 attested shards lost or invalid`,
        ok: summary !== undefined && summary.iterations === CRASH_ITERATIONS,
        detail: { ...summary, seconds: Math.round((performance.now() - started) / 1000) },
      }),
    ]
  },
  encoding: async ({ seed }) => (await encodingRows(seed, note)).map(emit),
}

function emit(row: SoakRow): SoakRow {
  process.stdout.write(`${JSON.stringify(row)}\n`)
  return row
}

function note(line: string): void {
  process.stderr.write(`${line}\n`)
}

function table(rows: SoakRow[]): string {
  const header = ['suite', 'case', 'figure', 'pass figure', '']
  const lines = rows.map((r) => [r.suite, r.case, r.figure, r.pass, r.ok ? 'pass' : 'FAIL'])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [format(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(format)].join('\n')
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const seedAt = args.indexOf('--seed')
  const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : Number(process.env['DACNET_FUZZ_SEED'] ?? Date.now() % 2 ** 31)
  if (!Number.isSafeInteger(seed)) {
    note('soak: --seed takes an integer')
    return 2
  }
  const named = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--seed')
  const unknown = named.filter((n) => !(n in suites))
  if (unknown.length > 0) {
    note(`soak: unknown suite ${unknown.join(', ')}; suites: ${Object.keys(suites).join(', ')}`)
    return 2
  }
  note(`soak: seed ${seed} (replay with --seed ${seed})`)
  const rows: SoakRow[] = []
  for (const name of named.length > 0 ? named : Object.keys(suites)) rows.push(...(await suites[name]!({ seed })))
  process.stderr.write(`\n${table(rows)}\n`)
  return rows.every((r) => r.ok) ? 0 : 1
}

process.exitCode = await main()
