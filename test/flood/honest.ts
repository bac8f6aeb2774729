import { monitorEventLoopDelay } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { BlobId } from '../../src/erasure/blob-id.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { SampleStreams } from '../../src/p2p/sample-streams.ts'
import type { NodeReady } from './protocol.ts'
import { distinctIndices, outcomeOf, quantile, round, sleep } from './stats.ts'

const noop = () => {}

/** The honest light client of the flood measurement: what it samples, and how often. */
export interface HonestTarget {
  ready: NodeReady
  holder: PeerId
  blobId: BlobId
  /** Indices per request. */
  indices: number
  /** A request every this many ms, one at a time. */
  intervalMs: number
  rand: () => number
}

/** A light client's per-request timeout (PROTOCOL.md §3.4). */
const HONEST_REQUEST_TIMEOUT_MS = 5_000
/** How long an honest client's dial may take before it counts as kept out. */
const HONEST_DIAL_TIMEOUT_MS = 10_000

export interface HonestFigures {
  /** The honest client's own event-loop delay p99 (its process, not the node's), ms. */
  clientLoopDelayP99Ms: number
  requests: number
  ok: number
  /** Failed requests by code. Their time to failure counts in the percentiles. */
  failed: Record<string, number>
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  /** The five slowest, slowest first, ms. */
  slowestMs: number[]
  /** Every request's time, in the order made, ms (0.1 ms): phases of one kind can be pooled (floodPool). */
  latenciesMs: number[]
}

/** Honest clients with new identities, each dialling the node and taking one sample. */
export interface NewClientFigures {
  dials: number
  connected: number
  sampled: number
  /** Failures by step and code ('dial: ECONNRESET', 'sample: NODE_BUSY', ...). */
  failed: Record<string, number>
  connectP50Ms: number
  connectMaxMs: number
}

export async function newClient(): Promise<DacnetLibp2p> {
  const libp2p = await createDacnetLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    dhtMode: 'client',
    localNetwork: true,
  })
  await libp2p.start()
  return libp2p
}

/**
 * One honest sample request: its latency, or its time to failure and code. On `streams` (a light client's kept
 * sample sessions) when given, else on a stream of its own (a new client's first request).
 */
async function honestRequest(
  client: DacnetLibp2p,
  target: HonestTarget,
  streams?: SampleStreams,
): Promise<{ ms: number; outcome: string }> {
  const at = performance.now()
  const indices = distinctIndices(target.indices, target.ready.n, target.rand)
  const opts = { shardSize: target.ready.shardSize, timeoutMs: HONEST_REQUEST_TIMEOUT_MS }
  const outcome = await outcomeOf(
    streams
      ? streams.request(target.holder, target.blobId, indices, opts)
      : requestSamples(client, target.holder, target.blobId, indices, opts),
  )
  return { ms: performance.now() - at, outcome }
}

/**
 * The honest client samples for `ms`: a request every interval, one at a time, on the sample session a light
 * client keeps open with a holder (PROTOCOL.md §3.4).
 */
export async function sampleFor(client: DacnetLibp2p, target: HonestTarget, ms: number): Promise<HonestFigures> {
  const streams = new SampleStreams(client)
  try {
    return await sampleOnFor(client, streams, target, ms)
  } finally {
    streams.close()
  }
}

async function sampleOnFor(
  client: DacnetLibp2p,
  streams: SampleStreams,
  target: HonestTarget,
  ms: number,
): Promise<HonestFigures> {
  const loop = clientLoop()
  const end = performance.now() + ms
  const latencies: number[] = []
  const failed: Record<string, number> = {}
  let nextAt = performance.now()
  while (nextAt < end) {
    await sleep(nextAt - performance.now())
    const { ms: took, outcome } = await honestRequest(client, target, streams)
    latencies.push(took)
    if (outcome !== 'ok') failed[outcome] = (failed[outcome] ?? 0) + 1
    nextAt = Math.max(nextAt + target.intervalMs, performance.now())
  }
  return honestFigures(latencies, failed, loop.stop())
}

/**
 * Until `done` settles, honest clients with new identities dial the node one after another, each taking one
 * sample once connected. `started` resolves when the first should dial (its libp2p node is made before).
 */
export async function newClientsUntil(
  target: HonestTarget,
  started: Promise<void>,
  done: Promise<unknown>,
): Promise<{ honest: HonestFigures; clients: NewClientFigures }> {
  let finished = false
  void done.then(
    () => (finished = true),
    () => (finished = true),
  )
  const latencies: number[] = []
  const sampleFailures: Record<string, number> = {}
  const failed: Record<string, number> = {}
  const connectMs: number[] = []
  const clients = { dials: 0, connected: 0, sampled: 0 }
  let client = await newClient()
  // A flood that failed before it got under way ends the phase too.
  await Promise.race([started, done.then(noop, noop)])
  const loop = clientLoop()
  try {
    while (!finished) {
      clients.dials++
      const at = performance.now()
      const addresses = target.ready.addresses.map((a) => multiaddr(a))
      const dialled = await outcomeOf(client.dial(addresses, { signal: AbortSignal.timeout(HONEST_DIAL_TIMEOUT_MS) }))
      if (dialled === 'ok') {
        clients.connected++
        connectMs.push(performance.now() - at)
        const sampled = await honestRequest(client, target)
        latencies.push(sampled.ms)
        if (sampled.outcome === 'ok') clients.sampled++
        else {
          sampleFailures[sampled.outcome] = (sampleFailures[sampled.outcome] ?? 0) + 1
          failed[`sample: ${sampled.outcome}`] = (failed[`sample: ${sampled.outcome}`] ?? 0) + 1
        }
      } else {
        failed[`dial: ${dialled}`] = (failed[`dial: ${dialled}`] ?? 0) + 1
      }
      await client.stop()
      client = await newClient()
      await sleep(target.intervalMs)
    }
  } finally {
    await client.stop()
  }
  connectMs.sort((a, b) => a - b)
  return {
    honest: honestFigures(latencies, sampleFailures, loop.stop()),
    clients: {
      ...clients,
      failed,
      connectP50Ms: round(quantile(connectMs, 0.5)),
      connectMaxMs: round(connectMs.at(-1) ?? 0),
    },
  }
}

/** Watches this process's event loop (the honest client's): a loaded machine delays the client too. */
function clientLoop(): { stop(): number } {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  return {
    stop() {
      delay.disable()
      return delay.percentile(99) / 1e6
    },
  }
}

function honestFigures(latencies: number[], failed: Record<string, number>, loopDelayP99Ms: number): HonestFigures {
  const sorted = [...latencies].sort((a, b) => a - b)
  const failures = Object.values(failed).reduce((a, b) => a + b, 0)
  return {
    clientLoopDelayP99Ms: round(loopDelayP99Ms),
    requests: sorted.length,
    ok: sorted.length - failures,
    failed,
    p50Ms: round(quantile(sorted, 0.5)),
    p90Ms: round(quantile(sorted, 0.9)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? 0),
    slowestMs: sorted
      .slice(-5)
      .reverse()
      .map((ms) => round(ms)),
    latenciesMs: latencies.map((ms) => round(ms)),
  }
}

/** The percentiles of several phases' honest requests taken together (e.g. every identities phase of a run). */
export function pooledHonest(figures: readonly HonestFigures[]): { requests: number; p50Ms: number; p99Ms: number } {
  const sorted = figures.flatMap((f) => f.latenciesMs).sort((a, b) => a - b)
  return { requests: sorted.length, p50Ms: round(quantile(sorted, 0.5)), p99Ms: round(quantile(sorted, 0.99)) }
}
