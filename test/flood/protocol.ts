/**
 * Messages between the flood harness (test/flood/harness.ts) and its child processes: the node under test
 * (node-child.ts) and the flooders (flooder-child.ts). Each child runs in its own process so that the node's
 * memory and CPU are its own, and the flooders' client work does not land on the honest client's event loop.
 */

/** How the node under test serves sample: as dacnet builds the node. */
export type SampleServing = 'node'

/** Connection-manager settings applied to the running node, to compare them before they become defaults. */
export interface ConnectionSettings {
  maxIncomingPendingConnections?: number
  inboundConnectionThreshold?: number
  inboundUpgradeTimeout?: number
}

export interface NodeStart {
  type: 'start'
  serving: SampleServing
  /** Bytes of the blob the node holds (all of its shards: it is the only member). */
  blobSize: number
  seed: number
  connections?: ConnectionSettings
  /** With 'node' serving: sample served through read slots (and a serving budget) of these sizes instead of the node's own. */
  slots?: {
    maxConcurrentShardReads?: number
    maxShardReadsPerRequester?: number
    readGrantsPerTurn?: number
    servingBytesPerSecond?: number
  }
  /** Write a CPU profile of the node per phase here, as `<phase>.cpuprofile` (open in Chrome DevTools). */
  profileDir?: string
}

export interface NodeReady {
  type: 'ready'
  peerId: string
  addresses: string[]
  blobId: string
  shardSize: number
  n: number
}

/** What the node measured between a `mark` and the next `report`. */
export interface NodeReport {
  type: 'report'
  /** Resident set size sampled every 50 ms: at the mark, the peak since, and now (bytes). */
  rssAtMarkBytes: number
  peakRssBytes: number
  rssBytes: number
  /** CPU time the node process used (user + system), ms. */
  cpuMs: number
  wallMs: number
  /** Event-loop delay percentiles over the interval, ms. */
  loopDelayP50Ms: number
  loopDelayP99Ms: number
  /** Garbage-collection pauses over the interval: the longest and their sum, ms. */
  gcMaxPauseMs: number
  gcTotalMs: number
  /** The pauses by kind ('minor', 'major', 'incremental', 'weakcb'): how many, their sum and the longest, ms. */
  gcByKind: Record<string, { count: number; totalMs: number; maxMs: number }>
  /** Sample exchanges by outcome ('ok' or the code it was refused or failed with). */
  sampleOutcomes: Record<string, number>
  /** Connections open now. */
  connections: number
}

/** `mark` starts a phase's measurement (`phase` names its profile), `report` ends it. */
export type ToNode = NodeStart | { type: 'mark'; phase?: string } | { type: 'report' } | { type: 'stop' }
export type FromNode = NodeReady | NodeReport | { type: 'stopped' } | { type: 'failed'; message: string }

/** Sample requests from `identities` peers, each paced at `ratePerSecond` over `streams` concurrent streams. */
export interface FloodSpec {
  type: 'flood'
  identities: number
  ratePerSecond: number
  streams: number
  indicesPerRequest: number
  durationMs: number
}

/**
 * New peers dialling the node: `peers` fresh identities dial at once (a burst), and when `durationMs` is set,
 * further fresh identities keep `peers` handshakes under way until it ends (a sustained flood).
 */
export interface BurstSpec {
  type: 'burst'
  peers: number
  durationMs?: number
}

/**
 * `sockets` TCP connections to the node that never start a handshake, held for `durationMs`: each takes one of
 * the node's pending-connection places until its upgrade timeout.
 */
export interface StallSpec {
  type: 'stall'
  sockets: number
  durationMs: number
}

export interface FlooderStart {
  type: 'start'
  addresses: string[]
  blobId: string
  shardSize: number
  n: number
  seed: number
}

export type ToFlooder = FlooderStart | FloodSpec | BurstSpec | StallSpec | { type: 'stop' }

export interface FloodResult {
  type: 'flooded'
  /** Per identity: requests answered in full, and refused or failed by code. */
  perIdentity: { served: number; refused: Record<string, number> }[]
  seconds: number
  /** CPU time the flooders' process used over the flood (user + system), ms: it shares the machine's cores. */
  cpuMs: number
}

export interface BurstResult {
  type: 'burst-done'
  /** Handshakes attempted and how each ended ('ok' or the error's code or name). */
  dials: number
  outcomes: Record<string, number>
  /** Median and slowest time to a connection among those that connected, ms. */
  connectP50Ms: number
  connectMaxMs: number
  seconds: number
}

export interface StallResult {
  type: 'stall-done'
  sockets: number
  /** Sockets the node closed before the end, and after how long (median), ms. */
  closedByNode: number
  closedAfterP50Ms: number
}

export type FromFlooder =
  | { type: 'ready' }
  /** The burst's identities exist and are about to dial, all at once; or the stalled sockets are open. */
  | { type: 'bursting' }
  | StallResult
  | FloodResult
  | BurstResult
  | { type: 'stopped' }
  | { type: 'failed'; message: string }
