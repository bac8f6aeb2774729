/**
 * `npm run bench [-- suite... [--option...]]`: runs the benchmark suites (all, or those named), prints one JSON
 * object per row on stdout as it goes, then a table. Goals are reported, never enforced: a benchmark informs, it
 * does not fail. The arguments from the first one starting with `--` go to every suite run
 * (`npm run bench -- e2e --quick`).
 *
 * Each suite runs in a process of its own (the same Node), so that one suite's heap, worker threads and
 * background I/O do not weigh on the next one's figures. A SIGINT or SIGTERM is passed on to the suite running,
 * which may need to stop processes of its own; the runner waits for it, then exits.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { BenchRow } from './lib.ts'

/** Suite name -> the module that runs it when executed directly (printing one JSON row per line). */
const suites: Record<string, string> = {
  erasure: './erasure.ts',
  attest: './attest.ts',
  storage: './storage.ts',
  l1: './l1.ts',
  e2e: './e2e.ts',
  browser: './browser.ts',
}

/** Exit code of a run stopped by a signal (128 + SIGINT). */
const EXIT_INTERRUPTED = 130
let running: ChildProcess | undefined
let interrupted = false

/** Runs one suite in a child process; rows are printed as they arrive, anything else goes to stderr. */
async function runSuite(name: string, module: string, args: string[]): Promise<BenchRow[]> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(module, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  running = child
  const rows: BenchRow[] = []
  for await (const line of createInterface({ input: child.stdout })) {
    let row: BenchRow | undefined
    try {
      row = JSON.parse(line) as BenchRow
    } catch {
      process.stderr.write(`${line}\n`)
      continue
    }
    console.log(line)
    rows.push(row)
  }
  const code: number | null = child.exitCode ?? (await new Promise((resolve) => child.once('exit', resolve)))
  running = undefined
  if (interrupted) process.exit(EXIT_INTERRUPTED)
  if (code !== 0) throw new Error(`benchmark suite ${name} exited with ${code}`)
  return rows
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3)
}

function verdict(row: BenchRow): string {
  if (row.goal === undefined) return ''
  const met = row.higherIsBetter ? row.median >= row.goal : row.median <= row.goal
  return `${met ? 'met' : 'MISSED'} (goal ${row.higherIsBetter ? '>=' : '<='} ${row.goal})`
}

function printTable(rows: BenchRow[]): void {
  const lines = rows.map((r) => [
    r.suite,
    r.name,
    r.impl,
    `${formatValue(r.median)} ${r.unit}`,
    String(r.runs),
    verdict(r),
  ])
  const head = ['suite', 'benchmark', 'impl', 'median', 'runs', 'goal']
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  console.log(`\n${fmt(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`)
  for (const l of lines) console.log(fmt(l))
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true
    // A Ctrl-C reaches the suite too (same process group); it takes a repeat within a moment as the same one.
    if (running) running.kill(signal)
    else process.exit(EXIT_INTERRUPTED)
  })
}

const args = process.argv.slice(2)
const firstOption = args.findIndex((a) => a.startsWith('--'))
const wanted = firstOption < 0 ? args : args.slice(0, firstOption)
const suiteArgs = firstOption < 0 ? [] : args.slice(firstOption)
const unknown = wanted.filter((w) => !(w in suites))
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}\n`)
  process.exit(2)
}
const rows: BenchRow[] = []
for (const [name, module] of Object.entries(suites)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue
  rows.push(...(await runSuite(name, module, suiteArgs)))
}
printTable(rows)
