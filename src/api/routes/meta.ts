import type { FastifyInstance } from 'fastify'
import type { ApiContext } from '../context.ts'
import { ROUTES } from '../openapi/routes.ts'
import type { OpenApiDocument } from '../openapi/types.ts'

/**
 * GET /metrics (Prometheus text format) and GET /openapi.json: the document of the routes this server registered,
 * generated from their schemas.
 */
export function registerMetaRoutes(app: FastifyInstance, ctx: ApiContext, document: () => OpenApiDocument): void {
  app.get(ROUTES.metrics.url, { schema: ROUTES.metrics.schema }, async (_request, reply) => {
    const text = await ctx.registry.metrics()
    return reply.type(ctx.registry.contentType).send(text)
  })

  app.get(ROUTES.openapi.url, { schema: ROUTES.openapi.schema }, async () => document())
}
