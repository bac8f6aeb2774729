import { isIP } from 'node:net'
import type { Registry } from 'prom-client'
import type { ChainSourceStatus } from '../chain/committee-source.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../erasure/params.ts'
import type { Logger } from '../logger.ts'
import type { Disperser } from '../node/disperser.ts'
import type { ApiNode } from './context.ts'
import { ApiErrorCode, apiError } from './errors.ts'
import { DEFAULT_ALLOWED_HOSTS, invalidAllowedHost } from './hosts.ts'

/** Loopback: an operator opts in to exposing the API; nothing is reachable from outside by default. */
export const DEFAULT_API_HOST = '127.0.0.1'
/** Clear of the ports usually taken next to a node (Prometheus 9090, Grafana 3000, node exporter 9100). */
export const DEFAULT_API_PORT = 5380
/** Reads touch only the local store; anything slower than this means the node is in trouble. */
export const DEFAULT_READ_TIMEOUT_MS = 10_000
/**
 * A dispersal waits for the committee: one member attempt may take the disperser's 60 s member timeout,
 * plus its retry. Three minutes covers both with room to spare.
 */
export const DEFAULT_DISPERSE_TIMEOUT_MS = 180_000
/** Each dispersal holds the blob and its encoding (about 3x its size) in memory: two keep 32 MiB blobs bounded. */
export const DEFAULT_MAX_CONCURRENT_DISPERSALS = 2
/** Whole-request receipt limit (headers and body): 32 MiB at about 2 Mbit/s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 150_000
/** Bodies of routes that take none: every route but the blob uploads (POST /v1/blobs, the DA server's POST /put). */
export const MAX_OTHER_BODY_BYTES = 1024

export interface ApiServerOptions {
  /** Started; the API reads its status(), shard reads, storage figures, libp2p peers and events. A CommitteeNode. */
  node: ApiNode
  /** Enables POST /v1/blobs (the node's libp2p identity must be a registered sequencer). */
  disperser?: Disperser
  /** Bearer token required by POST /v1/blobs; without disperser AND token, POST answers 403. */
  token?: string
  /** Default DEFAULT_API_HOST. A non-loopback host is allowed, with a warning in the log. */
  host?: string
  /** Default DEFAULT_API_PORT; 0 picks a free port. */
  port?: number
  /**
   * Host names (or IPs) requests may carry in their Host header besides the loopback names and a specific
   * `host`, which are always allowed; the port is not compared. `"*"` allows any (only behind a proxy that
   * checks Host itself). Others are refused with 421 API_HOST_NOT_ALLOWED. Default DEFAULT_ALLOWED_HOSTS (none).
   */
  allowedHosts?: readonly string[]
  /** prom-client Registry (created if absent); node and API metrics are registered in it. */
  registry?: Registry
  logger?: Logger
  /** Largest POST /v1/blobs body. Default DEFAULT_MAX_BLOB_SIZE. */
  maxUploadBytes?: number
  /** Time limit of every route but POST /v1/blobs. Default DEFAULT_READ_TIMEOUT_MS. */
  readTimeoutMs?: number
  /** Time limit of POST /v1/blobs, from its first byte to the certificate. Default DEFAULT_DISPERSE_TIMEOUT_MS. */
  disperseTimeoutMs?: number
  /**
   * Dispersals at once, counting those still sending to slow members after their certificate; more are refused
   * with API_BUSY. Default DEFAULT_MAX_CONCURRENT_DISPERSALS.
   */
  maxConcurrentDispersals?: number
  /** The chain the node reads its committees from, if any: its sync state goes to /health and the metrics. */
  chain?: { status(): ChainSourceStatus }
}

export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:5380`. */
  url: string
  registry: Registry
  /** Stops taking requests, lets those under way finish, and unregisters the metrics it registered. */
  close(): Promise<void>
}

export interface ResolvedApiOptions {
  host: string
  port: number
  allowedHosts: readonly string[]
  maxUploadBytes: number
  readTimeoutMs: number
  disperseTimeoutMs: number
  maxConcurrentDispersals: number
  /** Both a disperser and a token: POST /v1/blobs is served. */
  disperseEnabled: boolean
}

export function resolveApiOptions(opts: ApiServerOptions): ResolvedApiOptions {
  const resolved = {
    host: opts.host ?? DEFAULT_API_HOST,
    port: opts.port ?? DEFAULT_API_PORT,
    allowedHosts: opts.allowedHosts ?? DEFAULT_ALLOWED_HOSTS,
    maxUploadBytes: opts.maxUploadBytes ?? DEFAULT_MAX_BLOB_SIZE,
    readTimeoutMs: opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
    disperseTimeoutMs: opts.disperseTimeoutMs ?? DEFAULT_DISPERSE_TIMEOUT_MS,
    maxConcurrentDispersals: opts.maxConcurrentDispersals ?? DEFAULT_MAX_CONCURRENT_DISPERSALS,
    disperseEnabled: opts.disperser !== undefined && opts.token !== undefined,
  }
  const bad = (field: string, why: string) =>
    apiError(ApiErrorCode.INVALID_OPTIONS, `API option ${field} ${why}`, { field })
  if (opts.node === undefined) throw bad('node', 'is required')
  if (typeof resolved.host !== 'string' || resolved.host.length === 0) throw bad('host', 'must be a host name or IP')
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw bad('port', 'must be an integer in 0..65535')
  }
  if (!Array.isArray(resolved.allowedHosts)) throw bad('allowedHosts', 'must be a list of host names')
  for (const entry of resolved.allowedHosts) {
    const why = invalidAllowedHost(entry)
    if (why !== undefined) throw bad('allowedHosts', `entry ${JSON.stringify(entry)} ${why}`)
  }
  for (const field of ['maxUploadBytes', 'readTimeoutMs', 'disperseTimeoutMs', 'maxConcurrentDispersals'] as const) {
    if (!Number.isSafeInteger(resolved[field]) || resolved[field] < 1) throw bad(field, 'must be a positive integer')
  }
  if (opts.token !== undefined && !isBearerToken(opts.token)) {
    throw bad('token', 'must be a non-empty string of visible ASCII characters without spaces')
  }
  return resolved
}

/** A bearer token: one word of visible ASCII (RFC 6750); an empty one would be no secret at all. */
export function isBearerToken(token: unknown): token is string {
  return typeof token === 'string' && /^[\x21-\x7e]+$/.test(token)
}

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (bare === 'localhost') return true
  const mapped = bare.toLowerCase().startsWith('::ffff:') ? bare.slice(7) : bare
  if (isIP(mapped) === 4) return mapped.startsWith('127.')
  return isIP(bare) === 6 && (bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare))
}

/** The URL clients use for a host and the port the server got. */
export function baseUrl(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  // A wildcard bind is reachable on loopback too, and that is the address a local client can always use.
  if (bare === '0.0.0.0') return `http://127.0.0.1:${port}`
  if (bare === '::') return `http://[::1]:${port}`
  return `http://${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`
}

/**
 * An idle keep-alive connection is closed after this long. There is deliberately no socket inactivity timeout
 * (fastify's `connectionTimeout`): Node destroys a socket that is quiet that long even while its handler works,
 * so a dispersal waiting on a slow member would end in a reset instead of its status. Slow senders are bounded by
 * `requestTimeout` (the whole request) and Node's headers timeout; a handler by its own deadline.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 60_000
