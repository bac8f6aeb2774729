import type { FastifyInstance } from 'fastify'
import type { ApiContext } from '../context.ts'
import { ApiErrorCode, apiError } from '../errors.ts'
import { ROUTES } from '../openapi/routes.ts'
import { chainView, statusView } from '../views.ts'

/** GET /health for load balancers and supervisors; GET /v1/status for operators. */
export function registerNodeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // A node whose chain RPC fails still serves what it holds and the committees it knows: it stays healthy, and
  // says how stale its view of the chain is.
  app.get(ROUTES.health.url, { schema: ROUTES.health.schema }, async () => {
    if (!ctx.node.running) throw apiError(ApiErrorCode.NODE_NOT_RUNNING, 'the committee node is not running')
    return ctx.chain ? { status: 'ok', chain: chainView(ctx.chain.status()) } : { status: 'ok' }
  })

  app.get(ROUTES.status.url, { schema: ROUTES.status.schema }, async () => {
    // The on-disk size is a nicety: a directory that cannot be read must not fail the status.
    const diskBytes = await ctx.nodeMetrics.diskUsage.bytes().catch((err: unknown) => {
      ctx.logger.debug('measuring the store directory failed', { error: err })
      return null
    })
    return statusView(ctx.node.status(), diskBytes, ctx.dispersal !== undefined)
  })
}
