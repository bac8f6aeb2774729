import { DACNET_VERSION } from '../version.ts'
import { SCHEMAS } from './schemas.ts'
import type { OpenApiDocument, Operation, ResponseObject } from './types.ts'

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

const health: Operation = {
  operationId: 'getHealth',
  summary: 'Liveness: 200 while the committee node runs',
  tags: ['node'],
  responses: {
    '200': { description: 'The node is running.', content: json('Health') },
    ...HOST_REFUSAL,
    '503': error('API_NODE_NOT_RUNNING: the node is starting or stopping.'),
  },
}

const status: Operation = {
  operationId: 'getStatus',
  summary: "The node's peers, storage, pruning, served exchanges and recent problems",
  tags: ['node'],
  responses: { '200': { description: 'The status.', content: json('Status') }, ...HOST_REFUSAL, ...COMMON_ERRORS },
}

const getBlob: Operation = {
  operationId: 'getBlob',
  summary: 'What this node holds of a blob: header, held shard indices, times, and the certificate if kept',
  tags: ['blobs'],
  parameters: [{ $ref: '#/components/parameters/BlobIdParam' }],
  responses: {
    '200': { description: 'The blob.', content: json('Blob') },
    '400': error('ERASURE_INVALID_BLOB_ID: the id is not a dacnet blob id.'),
    '404': error('API_BLOB_NOT_FOUND: this node holds no shard of the blob.'),
    ...HOST_REFUSAL,
    ...COMMON_ERRORS,
    ...READ_REFUSALS,
  },
}

const getShard: Operation = {
  operationId: 'getShard',
  summary: 'One shard with its Merkle proof, as JSON or (Accept: application/octet-stream) as raw bytes',
  tags: ['blobs'],
  parameters: [
    { $ref: '#/components/parameters/BlobIdParam' },
    {
      name: 'index',
      in: 'path',
      required: true,
      description: 'Shard index in 0..n-1, decimal.',
      schema: { type: 'string', pattern: '^(0|[1-9][0-9]{0,4})$' },
    },
  ],
  responses: {
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

const disperse: Operation = {
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
  responses: {
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

const metrics: Operation = {
  operationId: 'getMetrics',
  summary: 'Prometheus metrics: dacnet_*, libp2p_* (when libp2p shares the registry), process and nodejs',
  tags: ['operations'],
  responses: {
    '200': {
      description: 'Prometheus text exposition format 0.0.4.',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    ...HOST_REFUSAL,
    ...COMMON_ERRORS,
  },
}

const openapi: Operation = {
  operationId: 'getOpenApi',
  summary: 'This document',
  tags: ['operations'],
  responses: {
    '200': { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } },
    ...HOST_REFUSAL,
  },
}

/** The API's contract, served at GET /openapi.json. Tests hold it to the routes fastify registers. */
export const OPENAPI_DOCUMENT: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'dacnet node HTTP API',
    version: DACNET_VERSION,
    description:
      'Per committee node, on loopback unless configured otherwise. Responses are JSON. Bytes are 0x-prefixed ' +
      'lower-case hex, as in the committee file; integers below 2^53 are numbers; stakes are decimal strings; ' +
      'times are ISO 8601 UTC. Errors are `{"error": {"code", "message"}}` with a stable code (see the ' +
      'ErrorCode schema for the status of each). Every route has a time limit; request bodies are refused ' +
      'except on POST /v1/blobs, whose size is bounded. A request whose Host header the node does not answer ' +
      'to gets 421 before any route runs. Blob and shard reads count against a per-client rate (429) and ' +
      "share the node's read slots with its libp2p sample and retrieve protocols (503 NODE_BUSY).",
  },
  tags: [
    { name: 'node', description: 'Liveness and state.' },
    { name: 'blobs', description: 'What this node holds; dispersal through it.' },
    { name: 'operations', description: 'Metrics and this document.' },
  ],
  paths: {
    '/health': { get: health },
    '/v1/status': { get: status },
    '/v1/blobs': { post: disperse },
    '/v1/blobs/{id}': { get: getBlob },
    '/v1/blobs/{id}/shards/{index}': { get: getShard },
    '/metrics': { get: metrics },
    '/openapi.json': { get: openapi },
  },
  components: {
    schemas: SCHEMAS,
    parameters: {
      BlobIdParam: {
        name: 'id',
        in: 'path',
        required: true,
        description: 'The blob id.',
        schema: { $ref: '#/components/schemas/BlobId' },
      },
    },
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
