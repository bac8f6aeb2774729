import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { silentLogger } from '../logger.ts'
import { registerApiMetrics } from './api-metrics.ts'
import { buildApiApp, type RegisteredRoute } from './app.ts'
import { bearerTokenChecker } from './auth.ts'
import { registerChainMetrics } from './chain-metrics.ts'
import { gracefulClose } from './closing.ts'
import type { ApiContext } from './context.ts'
import { ApiErrorCode, apiError } from './errors.ts'
import { isWildcardHost } from './hosts.ts'
import { MetricSet } from './metric-set.ts'
import { createNodeMetrics, hasNodeMetrics } from './node-metrics.ts'
import { type ApiServer, type ApiServerOptions, baseUrl, isLoopbackHost, resolveApiOptions } from './options.ts'

/** A metric of prom-client's default set: present means someone already collects the process metrics. */
const DEFAULT_METRICS_PROBE = 'process_cpu_user_seconds_total'

/**
 * Starts the node's HTTP API (health, status, blobs, shards, dispersal, metrics, OpenAPI document).
 *
 * Binds to loopback unless told otherwise. A non-loopback host is allowed, because every read it serves is
 * public through the sample and retrieve protocols anyway and dispersal always needs the token; it is
 * logged as a warning, since the API speaks plain HTTP (put TLS in front of it). Requests are answered only
 * for the Host names `allowedHosts` and the loopback names allow (see hosts.ts); a wildcard bind without
 * `allowedHosts` answers loopback names only, and says so in the log.
 */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const built = await createApiApp(opts)
  const { app, ctx } = built
  try {
    await app.listen({ host: ctx.opts.host, port: ctx.opts.port })
  } catch (err) {
    await built.close()
    const reason = (err as { code?: string }).code ?? (err as Error).message
    throw apiError(ApiErrorCode.LISTEN_FAILED, `cannot listen on ${ctx.opts.host}:${ctx.opts.port}: ${reason}`, {
      host: ctx.opts.host,
      port: ctx.opts.port,
      reason,
    })
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : ctx.opts.port
  const url = baseUrl(ctx.opts.host, port)
  warnIfExposed(ctx)
  ctx.logger.info('http api listening', { url, disperse: ctx.dispersal !== undefined })
  return { url, registry: ctx.registry, close: built.close }
}

export interface ApiApp {
  app: FastifyInstance
  ctx: ApiContext
  /** Every route fastify registered, for tests that hold the OpenAPI document to it. */
  routes: RegisteredRoute[]
  /** Closes the server and unregisters the metrics this call registered. Idempotent. */
  close(): Promise<void>
}

/** The application without listening: what `startApiServer` serves, and what tests can `inject` into. */
export async function createApiApp(opts: ApiServerOptions): Promise<ApiApp> {
  const resolved = resolveApiOptions(opts)
  const registry = opts.registry ?? new Registry()
  const logger = (opts.logger ?? silentLogger).child({ component: 'api' })
  if (registry.getSingleMetric(DEFAULT_METRICS_PROBE) === undefined) collectDefaultMetrics({ register: registry })
  // Node metrics the caller created stay theirs: closing the API leaves them registered.
  const ownsNodeMetrics = !hasNodeMetrics(registry, opts.node)
  const nodeMetrics = createNodeMetrics(registry, opts.node)
  const apiSet = new MetricSet(registry)
  const release = () => {
    apiSet.removeAll()
    if (ownsNodeMetrics) nodeMetrics.stop()
  }
  let built: Awaited<ReturnType<typeof buildApiApp>>
  let ctx: ApiContext
  const closing = new AbortController()
  try {
    ctx = {
      node: opts.node,
      dispersal:
        resolved.disperseEnabled && opts.disperser && opts.token
          ? { disperser: opts.disperser, checkToken: bearerTokenChecker(opts.token) }
          : undefined,
      opts: resolved,
      registry,
      nodeMetrics,
      apiMetrics: registerApiMetrics(apiSet),
      logger,
      closing: closing.signal,
      chain: opts.chain,
    }
    if (opts.chain) registerChainMetrics(apiSet, opts.chain)
    built = await buildApiApp(ctx)
  } catch (err) {
    release()
    throw err
  }
  const close = gracefulClose(built.app, closing, () => {
    release()
    logger.info('http api closed')
  })
  return { app: built.app, ctx, routes: built.routes, close }
}

function warnIfExposed(ctx: ApiContext): void {
  if (isLoopbackHost(ctx.opts.host)) return
  ctx.logger.warn('the http api listens on a non-loopback address; it has no TLS, so put a TLS proxy in front', {
    host: ctx.opts.host,
    disperse: ctx.dispersal !== undefined,
  })
  if (isWildcardHost(ctx.opts.host) && ctx.opts.allowedHosts.length === 0) {
    ctx.logger.warn(
      'the http api listens on every interface but api.allowedHosts is empty: only requests for a loopback host are answered, others get 421; list the names clients use',
      { host: ctx.opts.host },
    )
  }
}
