/**
 * The flood measurement (docs/SECURITY.md, "request floods on the public protocols" and "bursts of new
 * connections"): one committee node in a process of its own holding a blob, an honest light client sampling it
 * at a modest rate, and flooders in a third process. Phases, each `phaseMs` long:
 *
 *   baseline     the honest client alone
 *   heavy        plus one identity asking 10x the sample quota (64 indices a request, over 16 streams)
 *   identities   plus ten identities each just under the quota (the same requests, 90% of the quota each)
 *   burst        `burstPeers` new identities dial the node at once, then keep that many handshakes going for
 *                the phase, while honest clients with new identities connect and sample one after another
 *   stall        `stallSockets` TCP connections that never start a handshake, held for the phase, while honest
 *                clients with new identities connect and sample one after another
 *
 * `runFlood` returns the figures (honest p50/p99, flooders served/refused per second, the node's RSS and CPU);
 * test/node/flood.test.ts runs a short version; `npm run soak -- flood` the full one.
 */
import { setPriority } from 'node:os'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_NODE_EXEC_ARGV } from '../../src/cli/devnet/children.ts'
import { parseBlobId } from '../../src/erasure/blob-id.ts'
import { DEFAULT_SAMPLE_RATE_PER_SECOND, MAX_INBOUND_SAMPLE_STREAMS, MAX_SAMPLE_INDICES } from '../../src/p2p/limits.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { prng } from '../erasure/helpers.ts'
import { Child } from './child.ts'
import {
  type ConnectionFloodFigures,
  type FlooderFigures,
  flooderFigures,
  type NodeFigures,
  nodeFigures,
} from './figures.ts'
import {
  type HonestFigures,
  type HonestTarget,
  type NewClientFigures,
  newClient,
  newClientsUntil,
  sampleFor,
} from './honest.ts'
import type { ConnectionSettings, FromFlooder, FromNode, SampleServing, ToFlooder, ToNode } from './protocol.ts'
import { round, sleep } from './stats.ts'

export type { ConnectionFloodFigures, FlooderFigures, NodeFigures } from './figures.ts'
export type { HonestFigures, NewClientFigures } from './honest.ts'
export type { ConnectionSettings, SampleServing } from './protocol.ts'

export type FloodPhase = 'baseline' | 'heavy' | 'identities' | 'burst' | 'stall'
export const FLOOD_PHASES: readonly FloodPhase[] = ['baseline', 'heavy', 'identities', 'burst', 'stall']

/** Length of each phase in the full measurement. */
export const DEFAULT_FLOOD_PHASE_MS = 10_000
/** Quiet time between phases, so that one phase's backlog does not fall into the next. */
export const DEFAULT_FLOOD_SETTLE_MS = 2_000
/** The blob the node holds: 1 MiB, so shards of a few KiB (PROTOCOL.md §2.3). */
export const DEFAULT_FLOOD_BLOB_SIZE = 1024 * 1024
/** The honest light client: 8 indices a request, 10 requests a second, one at a time. */
export const DEFAULT_HONEST_INDICES = 8
export const DEFAULT_HONEST_RATE_PER_SECOND = 10
/** The heavy flooder asks this many times the per-peer sample quota. */
export const DEFAULT_HEAVY_QUOTA_FACTOR = 10
/** Identities of the near-quota flood, each asking this share of the quota. */
export const DEFAULT_FLOOD_IDENTITIES = 10
export const DEFAULT_NEAR_QUOTA_SHARE = 0.9
/** New identities dialling at once in the burst phase, and handshakes kept going after. */
export const DEFAULT_BURST_PEERS = 32
/** TCP connections that never start a handshake in the stall phase: more than libp2p's 10 pending places. */
export const DEFAULT_STALL_SOCKETS = 16
/**
 * Flooders stand for peers on hosts of their own. On one small machine their process would take CPU from the
 * node and from the honest client's process alike: at a lower priority it takes what the two leave.
 */
const FLOODER_NICENESS = 10
/** How long the flooders of a request phase have to connect before the honest figures start. */
const FLOOD_RAMP_MS = 500

export interface FloodOptions {
  /** How the node serves sample. Default 'node' (as dacnet builds it). */
  serving?: SampleServing
  /** Phases to run, in this order. Default FLOOD_PHASES. */
  phases?: readonly FloodPhase[]
  /** Default DEFAULT_FLOOD_PHASE_MS. */
  phaseMs?: number
  /** Default DEFAULT_FLOOD_SETTLE_MS. */
  settleMs?: number
  /** Default DEFAULT_FLOOD_BLOB_SIZE. */
  blobSize?: number
  /** Default DEFAULT_HONEST_INDICES. */
  honestIndices?: number
  /** Default DEFAULT_HONEST_RATE_PER_SECOND. */
  honestRatePerSecond?: number
  /** Default DEFAULT_HEAVY_QUOTA_FACTOR. */
  heavyQuotaFactor?: number
  /** Default DEFAULT_FLOOD_IDENTITIES. */
  identities?: number
  /** Default DEFAULT_NEAR_QUOTA_SHARE. */
  nearQuotaShare?: number
  /** Concurrent streams per flooding identity. Default MAX_INBOUND_SAMPLE_STREAMS (16). */
  flooderStreams?: number
  /** Indices per flood request. Default MAX_SAMPLE_INDICES (64). */
  floodIndices?: number
  /** Default DEFAULT_BURST_PEERS. */
  burstPeers?: number
  /** Default DEFAULT_STALL_SOCKETS. */
  stallSockets?: number
  /** Connection-manager settings applied to the node (to compare them); default libp2p's as dacnet sets them. */
  connections?: ConnectionSettings
  /** With 'node' serving, read slots and a serving budget of other sizes than the node's defaults (to compare them). */
  slots?: {
    maxConcurrentShardReads?: number
    maxShardReadsPerRequester?: number
    readGrantsPerTurn?: number
    servingBytesPerSecond?: number
  }
  seed?: number
  /** Write a CPU profile of the node per phase into this directory (`<phase>.cpuprofile`). */
  profileDir?: string
  /**
   * Node options for the node's process only (e.g. `--max-semi-space-size=16`, to compare heap settings). Default
   * DEFAULT_NODE_EXEC_ARGV: the options a devnet node runs with.
   */
  nodeExecArgv?: readonly string[]
  /** Hears each phase's figures as it ends. */
  onPhase?: (phase: PhaseSummary) => void
}

export interface PhaseSummary {
  phase: FloodPhase
  seconds: number
  /** The honest client's samples (in connection phases: each new client's one sample). */
  honest: HonestFigures
  /** Request phases. */
  flooders?: FlooderFigures
  /** Connection phases: the flood, and the honest clients with new identities. */
  connections?: { flood: ConnectionFloodFigures; honest: NewClientFigures }
  node: NodeFigures
}

export interface FloodSummary {
  serving: SampleServing
  shardSize: number
  n: number
  phases: PhaseSummary[]
}

/** Runs the phases against a fresh node and returns their figures. Children are stopped whatever happens. */
export async function runFlood(opts: FloodOptions = {}): Promise<FloodSummary> {
  const serving = opts.serving ?? 'node'
  const seed = opts.seed ?? 1
  const phaseMs = opts.phaseMs ?? DEFAULT_FLOOD_PHASE_MS
  const settleMs = opts.settleMs ?? DEFAULT_FLOOD_SETTLE_MS
  const node = new Child<ToNode, FromNode>('./node-child.ts', opts.nodeExecArgv ?? DEFAULT_NODE_EXEC_ARGV)
  const flooder = new Child<ToFlooder, FromFlooder>('./flooder-child.ts')
  lowerPriority(flooder.pid)
  let honest: DacnetLibp2p | undefined
  try {
    const ready = await node.ask(
      {
        type: 'start',
        serving,
        blobSize: opts.blobSize ?? DEFAULT_FLOOD_BLOB_SIZE,
        seed,
        ...(opts.connections ? { connections: opts.connections } : {}),
        ...(opts.slots ? { slots: opts.slots } : {}),
        ...(opts.profileDir === undefined ? {} : { profileDir: opts.profileDir }),
      },
      'ready',
    )
    const { addresses, blobId, shardSize, n } = ready
    await flooder.ask({ type: 'start', addresses, blobId, shardSize, n, seed }, 'ready')
    honest = await newClient()
    const target: HonestTarget = {
      ready,
      holder: (await honest.dial(addresses.map((a) => multiaddr(a)))).remotePeer,
      blobId: parseBlobId(blobId),
      indices: opts.honestIndices ?? DEFAULT_HONEST_INDICES,
      intervalMs: 1000 / (opts.honestRatePerSecond ?? DEFAULT_HONEST_RATE_PER_SECOND),
      rand: prng(seed + 1),
    }
    // Warm up both paths (first streams, the store's caches) before anything is measured.
    await sampleFor(honest, target, 500)
    const phases: PhaseSummary[] = []
    for (const phase of opts.phases ?? FLOOD_PHASES) {
      await sleep(settleMs)
      node.tell({ type: 'mark', phase })
      const started = performance.now()
      const figures = await runPhase(phase, { node, flooder, honest, target, phaseMs, opts })
      const summary: PhaseSummary = {
        phase,
        seconds: round((performance.now() - started) / 1000),
        ...figures,
        node: nodeFigures(await node.ask({ type: 'report' }, 'report')),
      }
      phases.push(summary)
      opts.onPhase?.(summary)
    }
    return { serving, shardSize, n, phases }
  } finally {
    await honest?.stop()
    await Promise.allSettled([flooder.stop({ type: 'stop' }), node.stop({ type: 'stop' })])
  }
}

interface PhaseContext {
  node: Child<ToNode, FromNode>
  flooder: Child<ToFlooder, FromFlooder>
  honest: DacnetLibp2p
  target: HonestTarget
  phaseMs: number
  opts: FloodOptions
}

type PhaseFigures = Pick<PhaseSummary, 'honest' | 'flooders' | 'connections'>

async function runPhase(phase: FloodPhase, ctx: PhaseContext): Promise<PhaseFigures> {
  const { flooder, honest, target, phaseMs, opts } = ctx
  switch (phase) {
    case 'baseline':
      return { honest: await sampleFor(honest, target, phaseMs) }
    case 'heavy':
    case 'identities': {
      const heavy = phase === 'heavy'
      const share = heavy
        ? (opts.heavyQuotaFactor ?? DEFAULT_HEAVY_QUOTA_FACTOR)
        : (opts.nearQuotaShare ?? DEFAULT_NEAR_QUOTA_SHARE)
      const flooded = flooder.ask(
        {
          type: 'flood',
          identities: heavy ? 1 : (opts.identities ?? DEFAULT_FLOOD_IDENTITIES),
          ratePerSecond: DEFAULT_SAMPLE_RATE_PER_SECOND * share,
          streams: opts.flooderStreams ?? MAX_INBOUND_SAMPLE_STREAMS,
          indicesPerRequest: opts.floodIndices ?? MAX_SAMPLE_INDICES,
          durationMs: phaseMs,
        },
        'flooded',
      )
      // The flooders connect first; the honest figures cover the flood itself.
      const ramp = Math.min(FLOOD_RAMP_MS, phaseMs / 10)
      await sleep(ramp)
      const honestFigures = await sampleFor(honest, target, phaseMs - ramp)
      const result = await flooded
      return { honest: honestFigures, flooders: flooderFigures(result.perIdentity, result.seconds, result.cpuMs) }
    }
    case 'burst': {
      const peers = opts.burstPeers ?? DEFAULT_BURST_PEERS
      const run = await connectionPhase(flooder, target, { type: 'burst', peers, durationMs: phaseMs }, 'burst-done')
      const { dials, outcomes, connectP50Ms } = run.result
      return {
        honest: run.honest,
        connections: { flood: { attempts: dials, outcomes, p50Ms: round(connectP50Ms) }, honest: run.clients },
      }
    }
    case 'stall': {
      const sockets = opts.stallSockets ?? DEFAULT_STALL_SOCKETS
      const run = await connectionPhase(flooder, target, { type: 'stall', sockets, durationMs: phaseMs }, 'stall-done')
      const { closedByNode, closedAfterP50Ms } = run.result
      return {
        honest: run.honest,
        connections: {
          flood: { attempts: sockets, outcomes: { closedByNode }, p50Ms: round(closedAfterP50Ms) },
          honest: run.clients,
        },
      }
    }
  }
}

/**
 * A connection phase: the flooder child starts `spec` and says when it is under way; honest clients with new
 * identities dial and sample one after another until it is done.
 */
async function connectionPhase<T extends 'burst-done' | 'stall-done'>(
  flooder: Child<ToFlooder, FromFlooder>,
  target: HonestTarget,
  spec: ToFlooder,
  answer: T,
): Promise<{ honest: HonestFigures; clients: NewClientFigures; result: Extract<FromFlooder, { type: T }> }> {
  let underway!: () => void
  const started = new Promise<void>((resolve) => {
    underway = resolve
  })
  const stopListening = flooder.onMessage((m) => {
    if (m.type === 'bursting') underway()
  })
  try {
    const done = flooder.ask(spec, answer)
    const { honest, clients } = await newClientsUntil(target, started, done)
    return { honest, clients, result: await done }
  } finally {
    stopListening()
  }
}

function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    setPriority(pid, FLOODER_NICENESS)
  } catch {
    // Not allowed here: the figures then include the flooders' competition for the CPU.
  }
}
