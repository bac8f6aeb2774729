import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DacnetError } from '../../errors.ts'
import type { ApiContext } from '../context.ts'
import { ApiErrorCode, apiError } from '../errors.ts'
import { codeLabel } from '../metric-set.ts'
import { ROUTES } from '../openapi/routes.ts'
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../options.ts'
import { dispersalView } from '../views.ts'

/** Seconds a client is told to wait when every dispersal slot is taken. */
const BUSY_RETRY_AFTER_SECONDS = 5
/** Fastify's deadline for the route counts from the first byte: it trails the body's receipt plus ours. */
const BACKSTOP_MARGIN_MS = 5_000

/**
 * POST /v1/blobs: the raw blob in, its certificate out, dispersed with the node's libp2p identity.
 *
 * Order, cheapest refusal first and before a byte of the body is buffered: disabled (403), token (401),
 * a free slot (503); then the body, bounded by maxUploadBytes from its Content-Length and as it streams
 * (413); then the dispersal, bounded by disperseTimeoutMs (504) and cancelled if the client goes away.
 */
export function registerDisperseRoute(app: FastifyInstance, ctx: ApiContext): void {
  let inFlight = 0

  const gate = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      admit(request, reply)
    } catch (err) {
      // The body was not read: closing the connection spares receiving it only to throw it away.
      reply.header('connection', 'close')
      throw err
    }
    inFlight++
    // 'close' comes once per response, however it ends (sent, failed, or the client gone).
    reply.raw.once('close', () => inFlight--)
  }

  const admit = (request: FastifyRequest, reply: FastifyReply) => {
    if (ctx.dispersal === undefined) {
      throw apiError(
        ApiErrorCode.DISPERSE_DISABLED,
        'dispersal through this API is disabled; start the node with a disperser and an API token',
      )
    }
    if (!ctx.dispersal.checkToken(request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer realm="dacnet"')
      throw apiError(ApiErrorCode.UNAUTHORIZED, 'a valid bearer token is required')
    }
    // Requests under way, and dispersals still sending to slow members after their certificate went out: both
    // hold an encoded blob in memory.
    const busy = Math.max(inFlight, ctx.dispersal.disperser.unsettled)
    if (busy >= ctx.opts.maxConcurrentDispersals) {
      reply.header('retry-after', String(BUSY_RETRY_AFTER_SECONDS))
      throw apiError(ApiErrorCode.BUSY, `${busy} dispersals are under way; retry later`)
    }
  }

  app.post(
    ROUTES.disperse.url,
    {
      schema: ROUTES.disperse.schema,
      onRequest: gate,
      bodyLimit: ctx.opts.maxUploadBytes,
      handlerTimeout: DEFAULT_REQUEST_TIMEOUT_MS + ctx.opts.disperseTimeoutMs + BACKSTOP_MARGIN_MS,
    },
    async (request, reply) => {
      const dispersal = ctx.dispersal!
      const body = request.body
      if (!(body instanceof Uint8Array)) {
        throw apiError(ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send the blob as an application/octet-stream body')
      }
      const receiveMs = reply.elapsedTime
      // fastify's request.signal fires as soon as the body is read, so the deadline and the hang-up are ours.
      // A response that closes before the dispersal settled (client gone, or fastify's own deadline) has
      // nobody left to give a certificate to.
      const deadline = AbortSignal.timeout(ctx.opts.disperseTimeoutMs)
      const orphaned = new AbortController()
      let settled = false
      reply.raw.once('close', () => {
        if (!settled) orphaned.abort()
      })
      const signal = AbortSignal.any([deadline, orphaned.signal, ctx.closing])
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
      try {
        const result = await dispersal.disperser.disperse(bytes, { signal }).finally(() => {
          settled = true
        })
        const totalMs = reply.elapsedTime
        ctx.apiMetrics.dispersals.inc({ outcome: 'ok' })
        ctx.apiMetrics.dispersalSeconds.observe((totalMs - receiveMs) / 1000)
        ctx.apiMetrics.dispersedBytes.inc(bytes.length)
        ctx.logger.info('dispersed', {
          blobId: result.blob.blobId.toString(),
          bytes: bytes.length,
          signedStake: result.certificate.signedStake,
          failures: result.failures.length,
        })
        return dispersalView(result, receiveMs, totalMs)
      } catch (err) {
        const failure =
          deadline.aborted && !orphaned.signal.aborted
            ? apiError(ApiErrorCode.TIMEOUT, `no certificate within ${ctx.opts.disperseTimeoutMs} ms`)
            : err
        const code = failure instanceof DacnetError ? failure.code : ApiErrorCode.INTERNAL
        ctx.apiMetrics.dispersals.inc({ outcome: codeLabel(code) })
        ctx.logger.warn('dispersal failed', { bytes: bytes.length, error: failure, orphaned: orphaned.signal.aborted })
        throw failure
      }
    },
  )
}
