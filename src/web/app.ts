/**
 * The page of `dacnet web`: a form (blob id or pasted certificate), the verdict, and the sampled shards grouped
 * by holder. The light client runs in ./worker.ts; this file only draws what the worker reports. Tests read
 * `data-testid="status"` (available / unavailable / invalid-certificate, or idle / checking / error) and
 * `data-testid="confidence"` (its `data-value` holds the number).
 */
import type { SampleOutcome } from '../node/light-client.ts'
import { byId as $, type PageElement, page } from './dom.ts'
import type { CertificateView, CheckEvent, CheckRequest, MemberView, PageStatus } from './messages.ts'

const { document, location, history } = page
const worker = new page.Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
let members: MemberView[] = []
let rows = new Map<number, PageElement>()

function setStatus(status: PageStatus): void {
  $('status').textContent = status
  $('verdict').className = `verdict ${status}`
  document.body.dataset['status'] = status
}

function formatConfidence(confidence: number): string {
  if (confidence <= 0) return '0'
  const missing = 1 - confidence
  return missing < 1e-3 ? `1 − ${missing.toExponential(1)}` : confidence.toFixed(4)
}

function formatBytes(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(2)} MiB`
}

function setConfidence(confidence: number | undefined): void {
  const element = $('confidence')
  element.textContent = confidence === undefined ? '–' : formatConfidence(confidence)
  if (confidence === undefined) delete element.dataset['value']
  else element.dataset['value'] = String(confidence)
}

function reset(): void {
  members = []
  rows = new Map()
  delete document.body.dataset['summary']
  setConfidence(undefined)
  for (const id of ['samples', 'bytes', 'time']) $(id).textContent = '–'
  $('grid').replaceChildren()
  $('certificate-fields').replaceChildren()
  $('certificate-view').hidden = true
  $('samples-view').hidden = true
}

function showCertificate(view: CertificateView): void {
  const fields: [string, string][] = [
    ['blob id', view.blobId],
    ['epoch', String(view.epoch)],
    ['size', formatBytes(view.dataSize)],
    ['erasure code', `k = ${view.k} of n = ${view.n} shards`],
    ['signed by', `${view.signers} of ${view.members} members, stake ${view.signedStake} of ${view.totalStake}`],
  ]
  $('certificate-fields').replaceChildren(
    ...fields.flatMap(([name, value]) => {
      const dt = document.createElement('dt')
      dt.textContent = name
      const dd = document.createElement('dd')
      dd.textContent = value
      return [dt, dd]
    }),
  )
  $('certificate-view').hidden = false
}

function holderRow(member: number): PageElement {
  let cells = rows.get(member)
  if (cells) return cells
  const row = document.createElement('div')
  row.className = 'holder'
  const who = document.createElement('div')
  who.className = 'who'
  const info = members[member]
  const name = document.createElement('div')
  name.textContent = `member ${member}${info ? `, stake ${info.stake}` : ''}`
  const peer = document.createElement('code')
  peer.textContent = info ? `${info.peerId.slice(0, 10)}…${info.peerId.slice(-6)}` : ''
  who.append(name, peer)
  cells = document.createElement('div')
  cells.className = 'cells'
  row.append(who, cells)
  // Rows in member order.
  const after = [...rows.keys()].filter((m) => m > member).sort((a, b) => a - b)[0]
  const grid = $('grid')
  if (after === undefined) grid.append(row)
  else grid.insertBefore(row, rows.get(after)!.parentElement)
  rows.set(member, cells)
  return cells
}

function showOutcome(outcome: SampleOutcome): void {
  $('samples-view').hidden = false
  const cell = document.createElement('span')
  cell.className = `cell ${outcome.ok ? 'ok' : 'failed'}`
  cell.textContent = String(outcome.index)
  cell.title = outcome.ok
    ? `shard ${outcome.index} from member ${outcome.member}: valid proof`
    : `shard ${outcome.index} from member ${outcome.member}: ${outcome.code}`
  holderRow(outcome.member).append(cell)
}

worker.addEventListener('message', (event) => {
  const message = event.data as CheckEvent
  switch (message.type) {
    case 'stage':
      $('stage').textContent = message.text
      break
    case 'certificate':
      members = message.members
      showCertificate(message.certificate)
      break
    case 'outcome':
      showOutcome(message.outcome)
      break
    case 'done': {
      const s = message.summary
      // For scripts and benchmarks: the figures as numbers.
      document.body.dataset['summary'] = JSON.stringify(s)
      setConfidence(s.confidence)
      $('samples').textContent = `${s.successes} of ${s.samples} (${s.distinctSuccesses} distinct shards)`
      $('bytes').textContent = formatBytes(s.bytes)
      $('time').textContent =
        `${Math.round(s.totalMs)} ms (certificate ${Math.round(s.verifyMs)} ms, sampling ${Math.round(s.sampleMs)} ms)`
      $('stage').textContent =
        message.status === 'available'
          ? `target 1 − ${(1 - s.target).toExponential(0)} reached`
          : `target 1 − ${(1 - s.target).toExponential(0)} not reached: too many samples failed`
      setStatus(message.status)
      break
    }
    case 'invalid-certificate':
      setConfidence(0)
      $('time').textContent = `${Math.round(message.ms)} ms`
      $('stage').textContent = `${message.code}: ${message.message}`
      setStatus('invalid-certificate')
      break
    case 'error':
      $('stage').textContent = `${message.code}: ${message.message}`
      setStatus('error')
      break
  }
})

function check(request: CheckRequest): void {
  reset()
  setStatus('checking')
  worker.postMessage(request)
}

$('check-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const certificate = $('certificate').value.trim()
  const blob = $('blob').value.trim()
  const params = new URLSearchParams(location.search)
  const confidence = params.has('confidence') ? Number(params.get('confidence')) : undefined
  if (certificate) check({ type: 'check', certificate, ...(confidence ? { confidence } : {}) })
  else if (blob) {
    history.replaceState(null, '', `?blob=${encodeURIComponent(blob)}`)
    check({ type: 'check', blob, ...(confidence ? { confidence } : {}) })
  }
})

const initial = new URLSearchParams(location.search)
const blob = initial.get('blob')
if (blob) {
  $('blob').value = blob
  const confidence = initial.has('confidence') ? Number(initial.get('confidence')) : undefined
  check({ type: 'check', blob, ...(confidence ? { confidence } : {}) })
}
