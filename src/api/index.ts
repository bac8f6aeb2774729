/**
 * The node's HTTP API and Prometheus metrics: what `dacnet node` serves to operators, sequencers and scrapers.
 * Endpoints, auth and metric names: docs/OPERATORS.md §6; the exact contract: GET /openapi.json.
 */
export type { ApiNode } from './context.ts'
export { ApiErrorCode, type ErrorBody, httpStatusOf } from './errors.ts'
export { ANY_HOST, DEFAULT_ALLOWED_HOSTS, invalidAllowedHost, LOOPBACK_HOST_NAMES } from './hosts.ts'
export { createNodeMetrics, type NodeMetrics } from './node-metrics.ts'
export { OPENAPI_DOCUMENT, openApiDocument } from './openapi/document.ts'
export type { ApiRoute, RouteSchema } from './openapi/types.ts'
export {
  type ApiServer,
  type ApiServerOptions,
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  DEFAULT_DISPERSE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_DISPERSALS,
  DEFAULT_READ_TIMEOUT_MS,
  isLoopbackHost,
} from './options.ts'
export { startApiServer } from './server.ts'
