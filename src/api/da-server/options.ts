import type { CommitteeSource } from '../../committee/source.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../../erasure/params.ts'
import type { Logger } from '../../logger.ts'
import type { Disperser } from '../../node/disperser.ts'
import type { Retriever } from '../../node/retriever.ts'
import type { DacnetLibp2p } from '../../p2p/node.ts'
import { isTimerDelay, MAX_TIMER_MS } from '../../timer-limit.ts'
import { ApiErrorCode, apiError } from '../errors.ts'
import { DEFAULT_ALLOWED_HOSTS, invalidAllowedHost } from '../hosts.ts'
import {
  DEFAULT_DISPERSE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_DISPERSALS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from '../options.ts'

/** Loopback: the batcher and op-node usually run next to the server; exposing it is the operator's choice. */
export const DEFAULT_DA_SERVER_HOST = '127.0.0.1'
/** The port OP Stack Alt-DA servers use, clear of a node's own (API 5380, libp2p 5381 and 5382). */
export const DEFAULT_DA_SERVER_PORT = 3100
/** A put is a dispersal: the node API's limit for one (a member attempt may take a minute, plus its retry). */
export const DEFAULT_PUT_TIMEOUT_MS = DEFAULT_DISPERSE_TIMEOUT_MS
/** A get fetches k shards from the holders (60 s per holder at most) and decodes them. */
export const DEFAULT_GET_TIMEOUT_MS = 120_000
/** Each dispersal holds the blob and its encoding (about 3x its size) in memory: as many as the node API allows. */
export const DEFAULT_MAX_CONCURRENT_PUTS = DEFAULT_MAX_CONCURRENT_DISPERSALS
/** Each retrieval holds k shards and the decoded blob. */
export const DEFAULT_MAX_CONCURRENT_GETS = 4
/** Receipt of a whole request (headers and body): the node API's limit, 32 MiB at about 2 Mbit/s. */
export const DEFAULT_RECEIVE_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS

export interface DaServerOptions {
  /** Started, connected to the committee; its identity must be a registered sequencer for puts to be stored. */
  libp2p: DacnetLibp2p
  /** The committees certificates are checked against (a committee file or the chain). */
  committees: CommitteeSource
  /** Disperses put bodies: built on `libp2p` and `committees`. The caller closes it. */
  disperser: Disperser
  /** Retrieves blobs for gets from the network: built on `libp2p` and `committees`. The caller closes it. */
  retriever: Retriever
  /** Default DEFAULT_DA_SERVER_HOST. */
  host?: string
  /** Default DEFAULT_DA_SERVER_PORT; 0 picks a free port. */
  port?: number
  /**
   * Host names requests may carry besides loopback names and a specific `host` (a DNS rebinding defence, as
   * for the node API; `"*"` allows any). Default none.
   */
  allowedHosts?: readonly string[]
  /** Largest put body; larger ones are refused with 413 before they are read. Default DEFAULT_MAX_BLOB_SIZE. */
  maxBlobSize?: number
  /** Time limit of a put, from its body received to the commitment. Default DEFAULT_PUT_TIMEOUT_MS. */
  putTimeoutMs?: number
  /** Time limit of a get (and of /health). Default DEFAULT_GET_TIMEOUT_MS. */
  getTimeoutMs?: number
  /** Puts at once; more are refused with 429 API_DA_BUSY. Default DEFAULT_MAX_CONCURRENT_PUTS. */
  maxConcurrentPuts?: number
  /** Gets at once; more are refused with 429 API_DA_BUSY. Default DEFAULT_MAX_CONCURRENT_GETS. */
  maxConcurrentGets?: number
  logger?: Logger
}

export interface ResolvedDaServerOptions {
  host: string
  port: number
  allowedHosts: readonly string[]
  maxBlobSize: number
  putTimeoutMs: number
  getTimeoutMs: number
  maxConcurrentPuts: number
  maxConcurrentGets: number
}

export function resolveDaServerOptions(opts: DaServerOptions): ResolvedDaServerOptions {
  const resolved: ResolvedDaServerOptions = {
    host: opts.host ?? DEFAULT_DA_SERVER_HOST,
    port: opts.port ?? DEFAULT_DA_SERVER_PORT,
    allowedHosts: opts.allowedHosts ?? DEFAULT_ALLOWED_HOSTS,
    maxBlobSize: opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE,
    putTimeoutMs: opts.putTimeoutMs ?? DEFAULT_PUT_TIMEOUT_MS,
    getTimeoutMs: opts.getTimeoutMs ?? DEFAULT_GET_TIMEOUT_MS,
    maxConcurrentPuts: opts.maxConcurrentPuts ?? DEFAULT_MAX_CONCURRENT_PUTS,
    maxConcurrentGets: opts.maxConcurrentGets ?? DEFAULT_MAX_CONCURRENT_GETS,
  }
  const positive = (name: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw apiError(ApiErrorCode.INVALID_OPTIONS, `${name} must be a positive integer, got ${value}`)
    }
  }
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw apiError(ApiErrorCode.INVALID_OPTIONS, `port must be an integer in 0..65535, got ${resolved.port}`)
  }
  positive('maxBlobSize', resolved.maxBlobSize)
  for (const name of ['putTimeoutMs', 'getTimeoutMs'] as const) {
    if (!isTimerDelay(resolved[name])) {
      throw apiError(
        ApiErrorCode.INVALID_OPTIONS,
        `${name} must be a whole number of milliseconds in 1..${MAX_TIMER_MS}, got ${resolved[name]}`,
      )
    }
  }
  positive('maxConcurrentPuts', resolved.maxConcurrentPuts)
  positive('maxConcurrentGets', resolved.maxConcurrentGets)
  for (const entry of resolved.allowedHosts) {
    const why = invalidAllowedHost(entry)
    if (why !== undefined) throw apiError(ApiErrorCode.INVALID_OPTIONS, `allowedHosts entry ${entry} ${why}`)
  }
  return resolved
}
