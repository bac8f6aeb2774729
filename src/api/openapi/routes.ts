import { ErasureErrorCode } from '../../erasure/errors.ts'
import { MAX_TOTAL_SHARDS } from '../../erasure/params.ts'
import { ApiErrorCode } from '../errors.ts'
import { SCHEMAS } from './schemas.ts'
import type { ApiRoute, JsonSchema, ObjectSchema, ResponseObject, RouteSchema } from './types.ts'

/**
 * Every route of the API with its fastify schema. The routes register with these (fastify validates the path
 * parameters before a handler runs) and the OpenAPI document is generated from the ones registered: a route, a
 * parameter or a response cannot be in one and missing from the other.
 */

const json = (schema: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } })
const response = (name: string) => ({ $ref: `#/components/responses/${name}` })
const error = (description: string): ResponseObject => ({ description, content: json('Error') })

/** Every route can time out, fail inside the node, or meet a store that is closing. */
const COMMON_ERRORS = {
  '500': response('Internal'),
  '503': response('Unavailable'),
  '504': response('Timeout'),
} as const

/** Every request, before any route runs: the Host check. */
const HOST_REFUSAL = { '421': response('HostNotAllowed') } as const

const retryAfter = (description: string) => ({
  'Retry-After': { description, schema: { type: 'integer', minimum: 1 } },
})

/** The blob reads: rate limited per client address and bounded by the node's read slots. */
const READ_REFUSALS = {
  '429': {
    description: 'NODE_RATE_LIMITED: this client (its IPv4 address, or IPv6 /64) is over its read rate.',
    headers: retryAfter('Seconds until the rate window ends.'),
    content: json('Error'),
  },
  '503': {
    description:
      'NODE_BUSY: every shard-read slot of the node stayed taken (retry shortly, or ask another holder); ' +
      'STORAGE_CLOSED, STORAGE_BUSY or API_CLOSING: the node is stopping or its store is overloaded.',
    headers: retryAfter('NODE_BUSY only: seconds to wait.'),
    content: json('Error'),
  },
} as const

/** The `x-dacnet-error` of a value: the code it is refused with when it breaks its schema. */
const ERROR_KEYWORD = 'x-dacnet-error'

/** A blob id in a path: the form of SCHEMAS.BlobId, checked by fastify before any read. */
const blobIdParam: JsonSchema = {
  type: 'string',
  pattern: SCHEMAS.BlobId.pattern,
  description: 'The blob id.',
  [ERROR_KEYWORD]: ErasureErrorCode.INVALID_BLOB_ID,
}

/** A shard index in a path: decimal, no sign, leading zero or exponent; the handler checks it against n. */
const shardIndexParam: JsonSchema = {
  type: 'string',
  pattern: `^(0|[1-9][0-9]{0,${String(MAX_TOTAL_SHARDS - 1).length - 1}})$`,
  description: `Shard index in 0..n-1, decimal (n is at most ${MAX_TOTAL_SHARDS}).`,
  [ERROR_KEYWORD]: ApiErrorCode.INVALID_SHARD_INDEX,
}

function pathParams(properties: Record<string, JsonSchema>): ObjectSchema {
  return { type: 'object', required: Object.keys(properties), additionalProperties: false, properties }
}

const health: RouteSchema = {
  operationId: 'getHealth',
  summary: 'Liveness: 200 while the committee node runs',
  tags: ['node'],
  response: {
    '200': { description: 'The node is running.', content: json('Health') },
    ...HOST_REFUSAL,
    '503': error('API_NODE_NOT_RUNNING: the node is starting or stopping.'),
  },
}

const status: RouteSchema = {
  operationId: 'getStatus',
  summary: "The node's peers, storage, pruning, served, refused and cancelled exchanges, and recent problems",
  tags: ['node'],
  response: { '200': { description: 'The status.', content: json('Status') }, ...HOST_REFUSAL, ...COMMON_ERRORS },
}

const getBlob: RouteSchema = {
  operationId: 'getBlob',
  summary: 'What this node holds of a blob: header, held shard indices, times, and the certificate if kept',
  tags: ['blobs'],
  params: pathParams({ id: blobIdParam }),
  response: {
    '200': { description: 'The blob.', content: json('Blob') },
    '400': error('ERASURE_INVALID_BLOB_ID: the id is not a dacnet blob id.'),
    '404': error('API_BLOB_NOT_FOUND: this node holds no shard of the blob.'),
    ...HOST_REFUSAL,
    ...COMMON_ERRORS,
    ...READ_REFUSALS,
  },
}

const getShard: RouteSchema = {
  operationId: 'getShard',
  summary: 'One shard with its Merkle proof, as JSON or (Accept: application/octet-stream) as raw bytes',
  tags: ['blobs'],
  params: pathParams({ id: blobIdParam, index: shardIndexParam }),
  response: {
    '200': {
      description:
        'The shard. JSON by default; with `Accept: application/octet-stream` the body is the raw shard bytes ' +
        'and the proof travels in a header.',
      headers: {
        'X-Dacnet-Shard-Index': { description: 'Raw form only: the index.', schema: { type: 'integer' } },
        'X-Dacnet-Shard-Proof': { description: 'Raw form only: the proof, 0x hex.', schema: SCHEMAS.Hex },
      },
      content: {
        ...json('Shard'),
        'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
      },
    },
    '400': error('ERASURE_INVALID_BLOB_ID, or API_INVALID_SHARD_INDEX: the index is not in 0..n-1.'),
    '404': error('API_BLOB_NOT_FOUND, or API_SHARD_NOT_HELD: this node holds the blob but not that shard.'),
    ...HOST_REFUSAL,
    ...COMMON_ERRORS,
    ...READ_REFUSALS,
  },
}

const disperse: RouteSchema = {
  operationId: 'disperseBlob',
  summary: 'Disperse a blob through this node and return its certificate',
  description:
    "Encodes the blob, sends every committee member its shards with this node's libp2p identity (which must " +
    'be a registered sequencer), and answers once members holding the signing threshold of stake have ' +
    'attested. Served only when the node was started with a disperser and an API token. Refusals come before ' +
    'any of the body is read: 403, 401, then 503 when every dispersal slot is taken; a body above the ' +
    'upload limit is refused from its Content-Length or as soon as it passes the limit (413).',
  tags: ['blobs'],
  security: [{ bearer: [] }],
  requestBody: {
    required: true,
    description: 'The blob, raw.',
    content: {
      'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
    },
  },
  response: {
    '200': { description: 'Certified.', content: json('Dispersal') },
    '401': {
      description: 'API_UNAUTHORIZED: missing or wrong bearer token.',
      headers: { 'WWW-Authenticate': { description: 'Bearer realm="dacnet"', schema: { type: 'string' } } },
      content: json('Error'),
    },
    '403': error('API_DISPERSE_DISABLED: this node serves no dispersals.'),
    '413': error('API_PAYLOAD_TOO_LARGE (above the upload limit) or ERASURE_BLOB_TOO_LARGE (above the blob limit).'),
    '415': error('API_UNSUPPORTED_MEDIA_TYPE: the body is not application/octet-stream.'),
    ...HOST_REFUSAL,
    '502': error('A NODE_* or P2P_* code: dispersal failed in a way the committee caused.'),
    '503': {
      description:
        'API_BUSY (with Retry-After), NODE_THRESHOLD_UNREACHABLE (members holding too much stake failed; ' +
        'the message names them), COMMITTEE_UNKNOWN_EPOCH (no committee yet), or the node is closing.',
      headers: { 'Retry-After': { description: 'API_BUSY only: seconds to wait.', schema: { type: 'integer' } } },
      content: json('Error'),
    },
    '500': response('Internal'),
    '504': error('API_TIMEOUT: no certificate within the dispersal time limit.'),
  },
}

const metrics: RouteSchema = {
  operationId: 'getMetrics',
  summary: 'Prometheus metrics: dacnet_*, libp2p_* (when libp2p shares the registry), process and nodejs',
  tags: ['operations'],
  response: {
    '200': {
      description: 'Prometheus text exposition format 0.0.4.',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    ...HOST_REFUSAL,
    ...COMMON_ERRORS,
  },
}

const openapi: RouteSchema = {
  operationId: 'getOpenApi',
  summary: 'This document',
  tags: ['operations'],
  response: {
    '200': { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } },
    ...HOST_REFUSAL,
  },
}

/** The API's routes, in the order they register. */
export const ROUTES = {
  health: { method: 'GET', url: '/health', schema: health },
  status: { method: 'GET', url: '/v1/status', schema: status },
  getBlob: { method: 'GET', url: '/v1/blobs/:id', schema: getBlob },
  getShard: { method: 'GET', url: '/v1/blobs/:id/shards/:index', schema: getShard },
  disperse: { method: 'POST', url: '/v1/blobs', schema: disperse },
  metrics: { method: 'GET', url: '/metrics', schema: metrics },
  openapi: { method: 'GET', url: '/openapi.json', schema: openapi },
} as const satisfies Record<string, ApiRoute>

/**
 * The code for a value of a validated part of a request (`params`, `querystring`) that broke its schema: the
 * value's `x-dacnet-error`, else API_BAD_REQUEST.
 */
export function validationErrorCode(schema: RouteSchema | undefined, part: string, name: string): string {
  const parts = schema as Partial<Record<string, ObjectSchema>> | undefined
  const code = parts?.[part]?.properties[name]?.[ERROR_KEYWORD]
  return typeof code === 'string' ? code : ApiErrorCode.BAD_REQUEST
}

/** The keywords of the route schemas that are annotations for ajv, not validation (fastify's ajv is strict). */
export const ANNOTATION_KEYWORDS = [ERROR_KEYWORD] as const
