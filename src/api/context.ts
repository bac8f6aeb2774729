import type { Registry } from 'prom-client'
import type { ChainSourceStatus } from '../chain/committee-source.ts'
import type { Logger } from '../logger.ts'
import type { CommitteeNode } from '../node/committee-node.ts'
import type { Disperser } from '../node/disperser.ts'
import type { ApiMetrics } from './api-metrics.ts'
import type { NodeMetrics } from './node-metrics.ts'
import type { ResolvedApiOptions } from './options.ts'

/** What the routes use: the node's parts, the resolved options, the metrics and the log. */
export interface ApiContext {
  node: CommitteeNode
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
