/**
 * The committee node under flood, in a process of its own (so its RSS and CPU are its own): a one-member
 * committee whose member is also its registered sequencer, holding every shard of one blob, serving sample as
 * dacnet serves it. Driven over IPC by test/flood/harness.ts (messages in ./protocol.ts).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { constants, monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { ShardReads } from '../../src/node/shard-reads.ts'
import { SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL } from '../../src/p2p/protocols.ts'
import type { SampleService } from '../../src/p2p/sample.ts'
import { registerProtocols } from '../../src/p2p/service.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import {
  memberIdentity,
  type RunningMember,
  registryOf,
  SwappableCommitteeSource,
  startMember,
} from '../node/harness.ts'
import type { ConnectionSettings, FromNode, NodeReport, NodeStart, ToNode } from './protocol.ts'

const NETWORK = 7
const RSS_SAMPLE_MS = 50

function send(message: FromNode): void {
  process.send?.(message)
}

let member: RunningMember | undefined
const outcomes: Record<string, number> = {}
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
let mark = { rss: 0, peak: 0, cpu: process.cpuUsage(), at: performance.now() }
const gc = { maxMs: 0, totalMs: 0, byKind: {} as NodeReport['gcByKind'] }
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
}
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.maxMs = Math.max(gc.maxMs, entry.duration)
    gc.totalMs += entry.duration
    const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } }
    const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other'
    const k = gc.byKind[kind] ?? { count: 0, totalMs: 0, maxMs: 0 }
    gc.byKind[kind] = k
    k.count++
    k.totalMs += entry.duration
    k.maxMs = Math.max(k.maxMs, entry.duration)
  }
}).observe({ entryTypes: ['gc'] })
/** With `profileDir`: the profiler, and the phase being profiled. */
let profiling: { session: Session; dir: string; phase: string | undefined } | undefined
const rssTimer = setInterval(() => {
  mark.peak = Math.max(mark.peak, process.memoryUsage.rss())
}, RSS_SAMPLE_MS)

function count(protocol: string, outcome: string): void {
  if (protocol === SAMPLE_PROTOCOL || protocol === SAMPLE_SESSION_PROTOCOL)
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
}

async function start(spec: NodeStart): Promise<void> {
  const identity = await memberIdentity(100n)
  const committees = new SwappableCommitteeSource()
  const maxBlobSize = Math.max(spec.blobSize, 1024 * 1024)
  // Loopback addresses count as separate hosts here (startMember's local-network mode): the flooders and the
  // honest client stand for peers on hosts of their own.
  member = await startMember(identity, committees, { maxBlobSize, announceProviders: false })
  const { node } = member
  if (spec.connections) applyConnectionSettings(node.libp2p, spec.connections)
  committees.registry = registryOf(NETWORK, [
    { epoch: 0, members: [{ identity, addresses: node.addresses() }], sequencers: [identity.peerId] },
  ])
  const committee = await committees.getCommittee(0)
  const blob = encodeBlob(randomData(spec.blobSize, prng(spec.seed)), {
    networkId: NETWORK,
    epoch: 0,
    ...committee.shapeFor(spec.blobSize),
    maxBlobSize,
  })
  await node.asLocalMember().storeOwnShare(blob.headerBytes, withProofs(blob))
  node.events.on('served', ({ protocol, outcome }) => count(protocol, outcome))
  if (spec.slots) await serveSamplesWith(member, new ShardReads(node.store, spec.slots))
  if (spec.profileDir !== undefined) {
    await mkdir(spec.profileDir, { recursive: true })
    const session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    profiling = { session, dir: spec.profileDir, phase: undefined }
  }
  loopDelay.enable()
  send({
    type: 'ready',
    peerId: node.peerId,
    addresses: node.addresses(),
    blobId: blob.blobId.toString(),
    shardSize: blob.header.shardSize,
    n: blob.header.n,
  })
}

/** Serves sample as the node does, through `reads` (read slots sized otherwise than the node's). */
async function serveSamplesWith(running: RunningMember, reads: ShardReads): Promise<void> {
  await reregisterSample(running, {
    readShard: (blobId, index, requester) => reads.readShard(blobId, index, requester),
    withShards: (blobId, indices, requester, use) => reads.withShards(blobId, indices, requester, use),
  })
}

async function reregisterSample(running: RunningMember, sample: SampleService): Promise<void> {
  await running.node.libp2p.unhandle([SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL])
  await registerProtocols(
    running.node.libp2p,
    { sample },
    { onServed: (protocol, _ms, outcome) => count(protocol, outcome) },
  )
}

/** libp2p's connection manager and upgrader read these fields on every inbound connection. */
interface TunableComponents {
  components: {
    connectionManager: { maxIncomingPendingConnections: number; inboundConnectionRateLimiter: { points: number } }
    upgrader: { inboundUpgradeTimeout: number }
  }
}

function applyConnectionSettings(libp2p: unknown, settings: ConnectionSettings): void {
  const { connectionManager, upgrader } = (libp2p as TunableComponents).components
  if (settings.maxIncomingPendingConnections !== undefined) {
    connectionManager.maxIncomingPendingConnections = settings.maxIncomingPendingConnections
  }
  if (settings.inboundConnectionThreshold !== undefined) {
    connectionManager.inboundConnectionRateLimiter.points = settings.inboundConnectionThreshold
  }
  if (settings.inboundUpgradeTimeout !== undefined) upgrader.inboundUpgradeTimeout = settings.inboundUpgradeTimeout
}

/** Starts profiling `phase` (when profiling). */
async function startProfile(phase: string | undefined): Promise<void> {
  if (!profiling) return
  profiling.phase = phase ?? 'phase'
  await profiling.session.post('Profiler.start')
}

/** Stops the phase's profile and writes it (when profiling). */
async function writeProfile(): Promise<void> {
  if (!profiling?.phase) return
  const { profile } = await profiling.session.post('Profiler.stop')
  await writeFile(join(profiling.dir, `${profiling.phase}.cpuprofile`), JSON.stringify(profile))
  profiling.phase = undefined
}

function report(): void {
  const now = performance.now()
  const cpu = process.cpuUsage(mark.cpu)
  const rss = process.memoryUsage.rss()
  send({
    type: 'report',
    rssAtMarkBytes: mark.rss,
    peakRssBytes: Math.max(mark.peak, rss),
    rssBytes: rss,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: now - mark.at,
    loopDelayP50Ms: loopDelay.percentile(50) / 1e6,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    gcMaxPauseMs: gc.maxMs,
    gcTotalMs: gc.totalMs,
    gcByKind: structuredClone(gc.byKind),
    sampleOutcomes: { ...outcomes },
    connections: member?.node.libp2p.getConnections().length ?? 0,
  })
}

function resetMark(): void {
  const rss = process.memoryUsage.rss()
  mark = { rss, peak: rss, cpu: process.cpuUsage(), at: performance.now() }
  for (const key of Object.keys(outcomes)) delete outcomes[key]
  gc.maxMs = 0
  gc.totalMs = 0
  gc.byKind = {}
  loopDelay.reset()
}

async function stop(): Promise<void> {
  clearInterval(rssTimer)
  loopDelay.disable()
  if (member) {
    await member.node.stop()
    await rm(member.dir, { recursive: true, force: true })
  }
  send({ type: 'stopped' })
  process.disconnect?.()
}

process.on('message', (message: ToNode) => {
  const run = async () => {
    if (message.type === 'start') await start(message)
    else if (message.type === 'mark') {
      resetMark()
      await startProfile(message.phase)
    } else if (message.type === 'report') {
      report()
      await writeProfile()
    } else if (message.type === 'stop') await stop()
  }
  run().catch((err: unknown) => send({ type: 'failed', message: (err as Error).stack ?? String(err) }))
})
process.on('disconnect', () => {
  // The harness went away without a stop: do not outlive it.
  if (member?.node.running) void stop().finally(() => process.exit(0))
})
