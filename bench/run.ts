/**
 * `npm run bench [-- suite...]`: runs the benchmark suites (all, or those named), prints one JSON object per
 * row on stdout as it goes, then a table. Goals are reported, never enforced: a benchmark informs, it does not fail.
 */
import type { BenchRow, BenchSuite } from './lib.ts'

const suites: Record<string, () => Promise<BenchSuite>> = {
  erasure: async () => (await import('./erasure.ts')).erasureBench,
  attest: async () => (await import('./attest.ts')).attestBench,
  storage: async () => (await import('./storage.ts')).storageBench,
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

const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !(w in suites))
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}\n`)
  process.exit(2)
}
const rows: BenchRow[] = []
for (const [name, load] of Object.entries(suites)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue
  for (const row of await (await load())()) {
    console.log(JSON.stringify(row))
    rows.push(row)
  }
}
printTable(rows)
