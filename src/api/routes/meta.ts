import type { FastifyInstance } from 'fastify'
import type { ApiContext } from '../context.ts'
import { OPENAPI_DOCUMENT } from '../openapi/document.ts'

/** GET /metrics (Prometheus text format) and GET /openapi.json (this API's description). */
export function registerMetaRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.registry.metrics()
    return reply.type(ctx.registry.contentType).send(text)
  })

  app.get('/openapi.json', async () => OPENAPI_DOCUMENT)
}
