/**
 * The light client in a browser beside the one in Node (`npm exec -- node bench/browser.ts [--runs N] [--size
 * 16MiB]`): one committee of six members on loopback (libp2p over TCP and WebSockets, LevelDB), one 16 MiB blob
 * certified, then checks of it to the default target confidence — by the Node LightClient over TCP, each from a
 * fresh libp2p node, and by the page of `dacnet web` in chromium (playwright-core), each from a fresh page (a
 * fresh worker and libp2p over WebSockets, noble BLS and SHA-256 in JS). Prints one JSON row per figure, then a
 * table. "check" is LightClient.sample's own time (certificate check included, connections opened on the way);
 * "page" adds what a page load costs on top: libp2p start, the committee fetched and its proofs checked.
 */
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { certificateBlobId } from '../src/attest/certificate.ts'
import { LightClient } from '../src/node/light-client.ts'
import type { CheckSummary } from '../src/web/messages.ts'
import { startBrowserDevnet } from '../test/browser/devnet.ts'
import { startClient } from '../test/node/harness.ts'
import { type BenchRow, median } from './lib.ts'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    size: { type: 'string', default: '16' },
    chromium: { type: 'string', default: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium' },
  },
})
const RUNS = Number(values.runs)
const SIZE_MIB = Number.parseFloat(values.size)
const STAKES = [30n, 20n, 15n, 15n, 10n, 10n]

if (!existsSync(values.chromium)) {
  console.error(`no chromium at ${values.chromium}: apt-get install chromium, or pass --chromium PATH`)
  process.exit(1)
}

const devnet = await startBrowserDevnet(STAKES)
const browser = await chromium.launch({ executablePath: values.chromium, args: ['--no-sandbox'] })
try {
  const certificate = await devnet.disperse(Math.round(SIZE_MIB * 1024 * 1024), 16)
  const blobId = certificateBlobId(certificate).toString()
  const { k, n, shardSize } = certificate.header
  const node: { ms: number; bytes: number; samples: number }[] = []
  for (let run = 0; run < RUNS; run++) {
    const libp2p = await startClient()
    try {
      const result = await new LightClient({ libp2p, committees: devnet.committees }).sample(certificate)
      if (!result.available) throw new Error(`the Node light client found the blob unavailable: ${result.failures}`)
      node.push({ ms: result.ms, bytes: result.bytes, samples: result.samples })
    } finally {
      await libp2p.stop()
    }
  }
  const page: CheckSummary[] = []
  for (let run = 0; run < RUNS; run++) {
    const tab = await browser.newPage()
    try {
      await tab.goto(`${devnet.web.url}?blob=${blobId}`)
      await tab.waitForSelector('body[data-summary], body[data-status="error"]', { timeout: 120_000 })
      const summary = await tab.getAttribute('body', 'data-summary')
      if (!summary) throw new Error(`the page says ${await tab.textContent('#stage')}`)
      const parsed = JSON.parse(summary) as CheckSummary
      if (parsed.confidence < parsed.target) throw new Error('the page found the blob unavailable')
      page.push(parsed)
    } finally {
      await tab.close()
    }
  }
  const name = `check ${SIZE_MIB} MiB k=${k} n=${n} shard ${shardSize} B, 6 members`
  const row = (impl: string, what: string, list: number[], unit: string): BenchRow => ({
    suite: 'browser',
    name: `${what}: ${name}`,
    impl,
    median: median(list),
    unit,
    runs: list.length,
  })
  const rows = [
    row(
      'node',
      'check',
      node.map((r) => r.ms),
      'ms',
    ),
    row(
      'chromium',
      'check',
      page.map((r) => r.sampleMs),
      'ms',
    ),
    row(
      'chromium',
      'page',
      page.map((r) => r.totalMs),
      'ms',
    ),
    row(
      'node',
      'bytes',
      node.map((r) => r.bytes),
      'B',
    ),
    row(
      'chromium',
      'bytes',
      page.map((r) => r.bytes),
      'B',
    ),
    row(
      'node',
      'samples',
      node.map((r) => r.samples),
      'samples',
    ),
    row(
      'chromium',
      'samples',
      page.map((r) => r.samples),
      'samples',
    ),
  ]
  for (const r of rows) console.log(JSON.stringify(r))
  console.log()
  console.log('| figure | Node LightClient | chromium page |')
  console.log('|---|---|---|')
  const fmt = (v: number | undefined, unit: string) =>
    v === undefined ? '–' : unit === 'B' ? `${(v / 1024).toFixed(1)} KiB` : `${Math.round(v)} ${unit}`
  for (const [label, what, unit] of [
    ['check time (median)', 'check', 'ms'],
    ['page: libp2p start, committee, check', 'page', 'ms'],
    ['bytes received (median)', 'bytes', 'B'],
    ['samples (median)', 'samples', 'samples'],
  ] as const) {
    const cell = (impl: string) => fmt(rows.find((r) => r.impl === impl && r.name.startsWith(`${what}:`))?.median, unit)
    console.log(`| ${label} | ${cell('node')} | ${cell('chromium')} |`)
  }
  console.log(
    `\n${name}, ${RUNS} runs each; load average ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
} finally {
  await browser.close()
  await devnet.stop()
}
