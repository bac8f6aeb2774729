import type { EventEmitter } from 'node:events'
import type { Registry } from 'prom-client'
import type { ChainSourceStatus } from '../chain/committee-source.ts'
import type { Logger } from '../logger.ts'
import type { CommitteeNodeEvents, CommitteeNodeStatus, NodeStorage } from '../node/committee-node.ts'
import type { Disperser } from '../node/disperser.ts'
import type { RequesterReads } from '../node/shard-reads.ts'
import type { ApiMetrics } from './api-metrics.ts'
import type { NodeMetrics } from './node-metrics.ts'
import type { ResolvedApiOptions } from './options.ts'

/**
 * What the API may use of a committee node (a CommitteeNode is one). There is no store here: stored shards and
 * blobs are read through `reads`, which holds every reader to the node's read slots and a per-client rate.
 */
export interface ApiNode {
  readonly running: boolean
  readonly reads: RequesterReads
  /** The store's figures and directory, for the metrics and GET /v1/status. */
  readonly storage: NodeStorage
  readonly events: EventEmitter<CommitteeNodeEvents>
  readonly libp2p: { getPeers(): readonly unknown[] }
  status(): CommitteeNodeStatus
}

/** What the routes use: the node's parts, the resolved options, the metrics and the log. */
export interface ApiContext {
  node: ApiNode
  /** Set only when dispersal is enabled (a disperser and a token were both given). */
  dispersal: { disperser: Disperser; checkToken: (authorization: string | undefined) => boolean } | undefined
  opts: ResolvedApiOptions
  registry: Registry
  nodeMetrics: NodeMetrics
  apiMetrics: ApiMetrics
  logger: Logger
  /** The chain source, when the node follows one. */
  chain: { status(): ChainSourceStatus } | undefined
  /** Aborted when the API starts closing: dispersals under way stop instead of holding the shutdown. */
  closing: AbortSignal
}
