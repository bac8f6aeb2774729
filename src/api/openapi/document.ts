import { DACNET_VERSION } from '../version.ts'
import { ROUTES } from './routes.ts'
import { SCHEMAS } from './schemas.ts'
import type {
  ApiRoute,
  ObjectSchema,
  OpenApiDocument,
  Operation,
  Parameter,
  PathItem,
  ResponseObject,
  RouteSchema,
} from './types.ts'

const json = (schema: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } })
const error = (description: string): ResponseObject => ({ description, content: json('Error') })

/**
 * The API's contract, generated from the routes' fastify schemas: each route becomes an operation, its path
 * parameters and query string become parameters, its responses are the schema's. GET /openapi.json serves the
 * document of the routes the server registered.
 */
export function openApiDocument(routes: readonly ApiRoute[]): OpenApiDocument {
  const paths: Record<string, PathItem> = {}
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')
    const method = route.method.toLowerCase() as keyof PathItem
    paths[path] = { ...paths[path], [method]: operationOf(route.schema) }
  }
  return { ...DOCUMENT_FRAME, paths }
}

function operationOf(schema: RouteSchema): Operation {
  const parameters = [...parametersOf(schema.params, 'path'), ...parametersOf(schema.querystring, 'query')]
  const requestBody =
    schema.body === undefined
      ? schema.requestBody
      : {
          required: true,
          description: String(schema.body['description'] ?? 'A JSON body.'),
          content: { 'application/json': { schema: schema.body } },
        }
  return {
    operationId: schema.operationId,
    summary: schema.summary,
    ...(schema.description === undefined ? {} : { description: schema.description }),
    tags: schema.tags,
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(requestBody === undefined ? {} : { requestBody }),
    ...(schema.security === undefined ? {} : { security: schema.security }),
    responses: schema.response,
  }
}

/** The values of a path or query schema as OpenAPI parameters; each value's description moves to the parameter. */
function parametersOf(object: ObjectSchema | undefined, where: 'path' | 'query'): Parameter[] {
  if (object === undefined) return []
  return Object.entries(object.properties).map(([name, { description, ...schema }]) => ({
    name,
    in: where,
    required: where === 'path' || object.required.includes(name),
    description: String(description ?? ''),
    schema,
  }))
}

/** Everything of the document but its paths. */
const DOCUMENT_FRAME: Omit<OpenApiDocument, 'paths'> = {
  openapi: '3.1.0',
  info: {
    title: 'dacnet node HTTP API',
    version: DACNET_VERSION,
    description:
      'Per committee node, on loopback unless configured otherwise. Responses are JSON. Bytes are 0x-prefixed ' +
      'lower-case hex, as in the committee file; integers below 2^53 are numbers; stakes are decimal strings; ' +
      'times are ISO 8601 UTC. Errors are `{"error": {"code", "message"}}` with a stable code (see the ' +
      'ErrorCode schema for the status of each). Path parameters are checked against their schemas before a ' +
      'route runs; a value its schema refuses gets 400 with the code its `x-dacnet-error` names. Every route has a time limit; request bodies are refused ' +
      'except on POST /v1/blobs, whose size is bounded. A request whose Host header the node does not answer ' +
      'to gets 421 before any route runs. Blob and shard reads count against a per-client rate (429) and ' +
      "share the node's read slots with its libp2p sample and retrieve protocols (503 NODE_BUSY).",
  },
  tags: [
    { name: 'node', description: 'Liveness and state.' },
    { name: 'blobs', description: 'What this node holds; dispersal through it.' },
    { name: 'operations', description: 'Metrics and this document.' },
  ],
  components: {
    schemas: SCHEMAS,
    responses: {
      Internal: error('API_INTERNAL (details in the node log) or STORAGE_CORRUPT_ENTRY (a quarantined entry).'),
      Unavailable: error(
        'STORAGE_CLOSED, STORAGE_BUSY or API_CLOSING: the node is stopping or its store is overloaded.',
      ),
      Timeout: error('API_TIMEOUT: the route took longer than its time limit.'),
      HostNotAllowed: error(
        'API_HOST_NOT_ALLOWED: the Host header names no host this node answers to (its loopback names, its ' +
          'bind address, and `api.allowedHosts`; the port is not compared). Refused before any route runs.',
      ),
    },
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'The API token the node was started with (`Authorization: Bearer <token>`).',
      },
    },
  },
}

/** The document of every route of the API: what a server with dispersal enabled or not serves. */
export const OPENAPI_DOCUMENT: OpenApiDocument = openApiDocument(Object.values(ROUTES))
