import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import type { ApiContext } from './context.ts'
import { clientGoneOf, describeError } from './error-reply.ts'
import { ApiErrorCode, errorBody, httpStatusOf } from './errors.ts'
import { hostChecker } from './hosts.ts'
import { openApiDocument } from './openapi/document.ts'
import { ANNOTATION_KEYWORDS } from './openapi/routes.ts'
import type { OpenApiDocument, RouteSchema } from './openapi/types.ts'
import { DEFAULT_REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, MAX_OTHER_BODY_BYTES } from './options.ts'
import { registerBlobRoutes } from './routes/blobs.ts'
import { registerDisperseRoute } from './routes/disperse.ts'
import { registerMetaRoutes } from './routes/meta.ts'
import { registerNodeRoutes } from './routes/node.ts'

/** Longest path parameter: a blob id is 59 characters; anything much longer is not one. */
const MAX_PARAM_LENGTH = 128

/** A route as fastify registered it, e.g. `{ method: 'GET', url: '/v1/blobs/:id', schema }`. */
export interface RegisteredRoute {
  method: string
  url: string
  /** The route's schema (routes/*.ts attach one from openapi/routes.ts); absent on a route registered without. */
  schema?: RouteSchema
}

/**
 * The fastify application with every route, hook and handler, not yet listening. Fastify's own logger is
 * off: the API logs through the dacnet Logger, and never to stdout.
 */
export async function buildApiApp(ctx: ApiContext): Promise<{ app: FastifyInstance; routes: RegisteredRoute[] }> {
  const hostAllowed = hostChecker(ctx.opts.host, ctx.opts.allowedHosts)
  const refuseHost = (reply: FastifyReply) =>
    reply
      .code(httpStatusOf(ApiErrorCode.HOST_NOT_ALLOWED))
      .type('application/json')
      .send(
        errorBody(
          ApiErrorCode.HOST_NOT_ALLOWED,
          'this node does not answer to that Host; use a name its api.allowedHosts lists',
        ),
      )
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_OTHER_BODY_BYTES,
    connectionTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
    handlerTimeout: ctx.opts.readTimeoutMs,
    exposeHeadRoutes: false,
    // Requests that arrive while closing get dacnet's error body (API_CLOSING, below), not fastify's own.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The route schemas carry annotations of their own (x-dacnet-error: the code a refused value is answered with).
    ajv: { customOptions: { keywords: [...ANNOTATION_KEYWORDS] } },
    // A URL the router cannot take (bad percent-encoding, a path parameter over MAX_PARAM_LENGTH) never reaches
    // the hooks: it gets the Host check and dacnet's error body here instead of fastify's own.
    frameworkErrors: (err, request, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply
      reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store')
      if (!hostAllowed(request.headers.host)) return refuseHost(reply)
      const message =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`
          : 'the path is not valid percent-encoded UTF-8'
      return reply
        .code(httpStatusOf(ApiErrorCode.BAD_REQUEST))
        .type('application/json')
        .send(errorBody(ApiErrorCode.BAD_REQUEST, message))
    },
  })
  // First of all hooks: a request for a host this API does not answer to is refused before anything else runs.
  app.addHook('onRequest', async (request, reply) => {
    if (!hostAllowed(request.headers.host)) return refuseHost(reply)
  })
  app.addHook('onRequest', async (_request, reply) => {
    if (!ctx.closing.aborted) return
    reply.header('connection', 'close')
    return reply
      .code(503)
      .type('application/json')
      .send(errorBody(ApiErrorCode.CLOSING, 'the node is stopping; retry on another node or once it is back'))
  })
  // A response sent while the API closes ends its connection: a keep-alive connection that turned idle after
  // the close began would otherwise hold the server open until its keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (ctx.closing.aborted) reply.header('connection', 'close')
  })
  const routes: RegisteredRoute[] = []
  app.addHook('onRoute', (route) => {
    const schema = route.schema as RouteSchema | undefined
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, ...(schema ? { schema } : {}) })
  })
  // Response schemas document the bodies (and generate the OpenAPI document); bodies are written with
  // JSON.stringify as before, not by a serializer compiled from them, which would drop a field the schema lacks
  // without a word. The tests validate real responses against the schemas instead.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))

  // Only raw blobs are ever parsed; any other body is refused before it is read.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  )

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff')
    reply.header('cache-control', 'no-store')
    return payload
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const status = reply.statusCode
    ctx.apiMetrics.requests.inc({ method: request.method, route, status: String(status) })
    ctx.apiMetrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000)
    ctx.logger.debug('http request', { method: request.method, route, status, ms: Math.round(reply.elapsedTime) })
  })

  app.setErrorHandler((err, request, reply) => {
    const described = describeError(
      err,
      request.routeOptions.schema as RouteSchema | undefined,
      clientGoneOf(request.raw),
    )
    if (described.serverSide) {
      ctx.logger.warn('http request failed', {
        method: request.method,
        url: request.url,
        status: described.status,
        error: err,
      })
    }
    if (described.retryAfterSeconds !== undefined) reply.header('retry-after', String(described.retryAfterSeconds))
    return reply.code(described.status).type('application/json').send(errorBody(described.code, described.message))
  })
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(ApiErrorCode.ROUTE_NOT_FOUND, `no route for ${request.method} ${pathOf(request.url)}`)),
  )

  registerNodeRoutes(app, ctx)
  registerBlobRoutes(app, ctx)
  registerDisperseRoute(app, ctx)
  let document: OpenApiDocument | undefined
  registerMetaRoutes(app, ctx, () => {
    document ??= openApiDocument(routes.flatMap((r) => (r.schema ? [{ ...r, schema: r.schema }] : [])))
    return document
  })
  await app.ready()
  return { app, routes }
}

/** The path of a request URL without its query, cut short: it is echoed back in a 404. */
function pathOf(url: string): string {
  const path = url.split('?')[0] ?? ''
  return path.length > 200 ? `${path.slice(0, 199)}…` : path
}
