import { formatConfidence, formatMs, formatStake, table } from '../format.ts'
import { formatBytes } from '../size.ts'
import type { ChainFile } from './chain.ts'
import type { DevnetLayout } from './layout.ts'
import type { BlobOutcome } from './workload.ts'

const COLUMNS = [
  '#',
  'blob',
  'epoch',
  'size',
  'certified in',
  'signed stake',
  'confidence',
  'sampled in',
  'sample bytes',
  'retrieved',
]
/** With a chain: the verifier contract's verdict and the gas a contract pays for it. */
const L1_COLUMN = 'on L1'

/** Column widths are fixed up front so each row can be printed as soon as its blob is done. */
const WIDTHS = [3, 59, 5, 9, 12, 20, 18, 10, 12, 9, 16]

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(WIDTHS[i] ?? 0))).join('  ')
}

export function blobTableHeader(withChain: boolean): string {
  return `${row(withChain ? [...COLUMNS, L1_COLUMN] : COLUMNS)}\n`
}

export function blobRow(o: BlobOutcome): string {
  const cells = [
    String(o.index),
    o.blobId ?? '(not certified)',
    o.epoch === null ? '-' : String(o.epoch),
    formatBytes(o.size),
    o.timeToCertificateMs === null ? '-' : formatMs(o.timeToCertificateMs),
    // On the chain, stakes are in units of an 18-decimal token: shown in whole tokens.
    o.signedStake === null
      ? '-'
      : formatStake(BigInt(o.signedStake), BigInt(o.totalStake), o.l1 === undefined ? 0 : 18),
    o.confidence === null ? '-' : formatConfidence(o.confidence),
    o.sampleMs === null ? '-' : formatMs(o.sampleMs),
    // What the light client downloaded to sample: shards and proofs, a few KiB a sample whatever the blob size.
    o.sampleBytes === null ? '-' : formatBytes(o.sampleBytes),
    o.retrieved ? 'intact' : o.retrieveMs === null ? '-' : 'MISMATCH',
  ]
  if (o.l1 !== undefined) {
    cells.push(o.l1 === null ? '-' : `${o.l1.verified ? 'verified' : 'REFUSED'} ${Math.round(o.l1.gas / 1000)}k gas`)
  }
  const error = o.error ? `\n    ${o.error.stage} failed: ${o.error.code}: ${o.error.message}` : ''
  return `${row(cells)}${error}\n`
}

export function blobJsonLine(o: BlobOutcome): string {
  return `${JSON.stringify(o)}\n`
}

/** The devnet's make-up, printed once at start (stderr). */
export function devnetBanner(layout: DevnetLayout, kept: boolean, chain?: ChainFile): string {
  const rows = [
    ['node', 'stake', 'peer id', 'p2p address', 'api'],
    ...layout.nodes.map((n) => [
      n.member ? n.name : `${n.name} (joins later)`,
      String(n.stake),
      n.peerId,
      n.multiaddr.replace(/\/p2p\/.*$/, ''),
      n.apiUrl,
    ]),
  ]
  const source = chain ? `--chain ${layout.chainPath}` : `--committee ${layout.committeePath}`
  const members = layout.nodes.filter((n) => n.member).length
  return [
    `devnet: ${members} committee nodes on loopback, network ${layout.networkId}, in ${layout.root}${kept ? '' : ' (removed on exit; keep it with --out DIR)'}`,
    table(rows),
    chain
      ? `chain ${chain.rpcUrl} (chain id ${chain.chainId}): registry ${chain.registry}, verifier ${chain.certificateVerifier}; ${layout.chainPath}`
      : `committee file ${layout.committeePath}`,
    'try, while it runs:',
    `  dacnet disperse FILE --key ${layout.clientKeyPath} ${source} -o cert.json`,
    `  dacnet sample cert.json ${source}`,
    `  dacnet retrieve BLOBID -o back.bin ${source}`,
    ...(chain ? [`  dacnet chain verify cert.json ${source}`, `  dacnet chain status ${source}`] : []),
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
