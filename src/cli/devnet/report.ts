import { formatConfidence, formatMs, formatStake, table } from '../format.ts'
import { formatBytes } from '../size.ts'
import type { DevnetLayout } from './layout.ts'
import type { BlobOutcome } from './workload.ts'

const COLUMNS = ['#', 'blob', 'size', 'certified in', 'signed stake', 'confidence', 'sampled in', 'retrieved']

/** Column widths are fixed up front so each row can be printed as soon as its blob is done. */
const WIDTHS = [3, 59, 9, 12, 20, 18, 10, 9]

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(WIDTHS[i] ?? 0))).join('  ')
}

export function blobTableHeader(): string {
  return `${row(COLUMNS)}\n`
}

export function blobRow(o: BlobOutcome): string {
  const cells = [
    String(o.index),
    o.blobId ?? '(not certified)',
    formatBytes(o.size),
    o.timeToCertificateMs === null ? '-' : formatMs(o.timeToCertificateMs),
    o.signedStake === null ? '-' : formatStake(BigInt(o.signedStake), BigInt(o.totalStake)),
    o.confidence === null ? '-' : formatConfidence(o.confidence),
    o.sampleMs === null ? '-' : formatMs(o.sampleMs),
    o.retrieved ? 'intact' : o.retrieveMs === null ? '-' : 'MISMATCH',
  ]
  const error = o.error ? `\n    ${o.error.stage} failed: ${o.error.code}: ${o.error.message}` : ''
  return `${row(cells)}${error}\n`
}

export function blobJsonLine(o: BlobOutcome): string {
  return `${JSON.stringify(o)}\n`
}

/** The devnet's make-up, printed once at start (stderr). */
export function devnetBanner(layout: DevnetLayout, kept: boolean): string {
  const rows = [
    ['node', 'stake', 'peer id', 'p2p address', 'api'],
    ...layout.nodes.map((n) => [n.name, String(n.stake), n.peerId, n.multiaddr.replace(/\/p2p\/.*$/, ''), n.apiUrl]),
  ]
  return [
    `devnet: ${layout.nodes.length} committee nodes on loopback, network ${layout.networkId}, in ${layout.root}${kept ? '' : ' (removed on exit; keep it with --out DIR)'}`,
    table(rows),
    `committee file ${layout.committeePath}; try, while it runs:`,
    `  dacnet disperse FILE --key ${layout.clientKeyPath} --committee ${layout.committeePath} -o cert.json`,
    `  dacnet sample cert.json --committee ${layout.committeePath}`,
    `  dacnet retrieve BLOBID -o back.bin --committee ${layout.committeePath}`,
    `  dacnet status --api ${layout.nodes[0]?.apiUrl ?? ''}`,
    '',
  ].join('\n')
}

export interface DevnetTally {
  blobs: number
  certified: number
  available: number
  intact: number
}

export function tally(outcomes: readonly BlobOutcome[]): DevnetTally {
  return {
    blobs: outcomes.length,
    certified: outcomes.filter((o) => o.blobId !== null).length,
    available: outcomes.filter((o) => o.available).length,
    intact: outcomes.filter((o) => o.retrieved).length,
  }
}

export function tallyLine(t: DevnetTally): string {
  return `${t.blobs} blobs: ${t.certified} certified, ${t.available} sampled available, ${t.intact} retrieved intact`
}

/** The live summary: uptime, nodes up, and what each node reports it stores. */
export function liveLine(
  uptimeMs: number,
  up: number,
  total: number,
  t: DevnetTally,
  storedPerNode: (number | null)[],
): string {
  const stored = storedPerNode.map((s) => (s === null ? '?' : String(s))).join(' ')
  return `devnet up ${formatMs(uptimeMs)} · ${up}/${total} nodes up · ${tallyLine(t)} · blobs per node: ${stored} · Ctrl-C stops`
}
