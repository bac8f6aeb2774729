import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { DacnetError } from '../../errors.ts'
import { silentLogger } from '../../logger.ts'
import { gracefulClose } from '../closing.ts'
import { clientGoneOf, describeError, type ErrorReply } from '../error-reply.ts'
import { ApiErrorCode, apiError, errorBody, httpStatusOf } from '../errors.ts'
import { hostChecker, isWildcardHost } from '../hosts.ts'
import { baseUrl, isLoopbackHost, KEEP_ALIVE_TIMEOUT_MS, MAX_OTHER_BODY_BYTES } from '../options.ts'
import { MAX_COMMITMENT_HEX_LENGTH } from './commitment.ts'
import { daServerStatusOf } from './errors.ts'
import {
  type DaServerOptions,
  DEFAULT_RECEIVE_TIMEOUT_MS,
  type ResolvedDaServerOptions,
  resolveDaServerOptions,
} from './options.ts'
import { type DaServerContext, registerDaRoutes } from './routes.ts'

/** Refusals that leave the rest of a request body unread. */
const UNREAD_BODY_CODES: readonly string[] = [ApiErrorCode.PAYLOAD_TOO_LARGE, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE]

export interface DaServer {
  /** Base URL, e.g. http://127.0.0.1:3100: what the batcher's and op-node's `altda.da-server` flag takes. */
  url: string
  /** Stops taking requests, ends those under way, closes the listener. Idempotent. The libp2p node stays up. */
  close(): Promise<void>
}

/**
 * Starts the OP Stack Alt-DA server (docs/DA-SERVER.md): the batcher puts its frames, dacnet disperses them to
 * the committee and answers a commitment that carries the certificate; op-node gets the frames back by that
 * commitment, retrieved from any k shards through the network and checked against the certificate.
 */
export async function startDaServer(opts: DaServerOptions): Promise<DaServer> {
  const built = await createDaServerApp(opts)
  const { app, resolved } = built
  try {
    await app.listen({ host: resolved.host, port: resolved.port })
  } catch (err) {
    await built.close()
    const reason = (err as { code?: string }).code ?? (err as Error).message
    throw apiError(ApiErrorCode.LISTEN_FAILED, `cannot listen on ${resolved.host}:${resolved.port}: ${reason}`, {
      host: resolved.host,
      port: resolved.port,
      reason,
    })
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : resolved.port
  const url = baseUrl(resolved.host, port)
  if (!isLoopbackHost(resolved.host)) {
    built.logger.warn('the DA server listens on a non-loopback address; it has no TLS and no authentication', {
      host: resolved.host,
    })
  }
  if (isWildcardHost(resolved.host) && resolved.allowedHosts.length === 0) {
    built.logger.warn('listening on every interface with no allowed hosts: only loopback Host names are answered', {
      host: resolved.host,
    })
  }
  built.logger.info('da server listening', { url, maxBlobSize: resolved.maxBlobSize })
  return { url, close: built.close }
}

export interface DaServerApp {
  app: FastifyInstance
  resolved: ResolvedDaServerOptions
  logger: DaServerContext['logger']
  close(): Promise<void>
}

/** The application without listening: what `startDaServer` serves. */
export async function createDaServerApp(opts: DaServerOptions): Promise<DaServerApp> {
  const resolved = resolveDaServerOptions(opts)
  const logger = (opts.logger ?? silentLogger).child({ component: 'da-server' })
  const closing = new AbortController()
  const ctx: DaServerContext = {
    opts: resolved,
    libp2p: opts.libp2p,
    committees: opts.committees,
    disperser: opts.disperser,
    retriever: opts.retriever,
    logger,
    closing: closing.signal,
  }
  const hostAllowed = hostChecker(resolved.host, resolved.allowedHosts)
  const send = (reply: FastifyReply, code: string, message: string) =>
    reply.code(statusOf(code)).type('application/json').send(errorBody(code, message))
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_OTHER_BODY_BYTES,
    // No socket inactivity timeout: a put waits quietly for the committee (see KEEP_ALIVE_TIMEOUT_MS).
    connectionTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: DEFAULT_RECEIVE_TIMEOUT_MS,
    handlerTimeout: resolved.getTimeoutMs,
    exposeHeadRoutes: false,
    return503OnClosing: false,
    // A commitment is written in the path: up to 0x and two hex digits per byte of the largest one.
    routerOptions: { maxParamLength: MAX_COMMITMENT_HEX_LENGTH },
    frameworkErrors: (err, request, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply
      reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store')
      if (!hostAllowed(request.headers.host)) return send(reply, ApiErrorCode.HOST_NOT_ALLOWED, hostMessage)
      const message =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `a path parameter is longer than ${MAX_COMMITMENT_HEX_LENGTH} characters (the longest commitment)`
          : 'the path is not valid percent-encoded UTF-8'
      return send(reply, ApiErrorCode.BAD_REQUEST, message)
    },
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!hostAllowed(request.headers.host)) return send(reply, ApiErrorCode.HOST_NOT_ALLOWED, hostMessage)
    if (closing.signal.aborted) {
      reply.header('connection', 'close')
      return send(reply, ApiErrorCode.CLOSING, 'the DA server is stopping; retry once it is back')
    }
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store')
    if (closing.signal.aborted) reply.header('connection', 'close')
    return payload
  })
  app.addHook('onResponse', async (request, reply) => {
    logger.debug('http request', {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    })
  })
  // Only raw bytes are ever parsed; any other body is refused (415) before it is read.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  )
  app.setErrorHandler((err, request, reply) => {
    const own = err instanceof DacnetError ? daServerStatusOf(err.code) : undefined
    const described: ErrorReply =
      own !== undefined
        ? {
            status: own,
            code: (err as DacnetError).code,
            message: (err as DacnetError).message,
            serverSide: own >= 500,
          }
        : describeError(err, undefined, clientGoneOf(request.raw))
    if (described.retryAfterSeconds !== undefined) reply.header('retry-after', String(described.retryAfterSeconds))
    // A body refused unread (too large, or of another type): closing spares receiving the rest only to drop it.
    if (UNREAD_BODY_CODES.includes(described.code)) reply.header('connection', 'close')
    if (described.serverSide && described.code === ApiErrorCode.INTERNAL) {
      logger.warn('http request failed', { method: request.method, url: request.url.slice(0, 200), error: err })
    }
    return reply.code(described.status).type('application/json').send(errorBody(described.code, described.message))
  })
  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      ApiErrorCode.ROUTE_NOT_FOUND,
      `no route for ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`,
    ),
  )
  registerDaRoutes(app, ctx)
  await app.ready()

  const close = gracefulClose(app, closing, () => logger.info('da server closed'))
  return { app, resolved, logger, close }
}

const hostMessage = 'this server does not answer to that Host; use a name its allowed hosts list'

function statusOf(code: string): number {
  return daServerStatusOf(code) ?? httpStatusOf(code)
}
