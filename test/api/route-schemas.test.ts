import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { OPENAPI_DOCUMENT, openApiDocument } from '../../src/api/openapi/document.ts'
import { ROUTES } from '../../src/api/openapi/routes.ts'
import type { Operation, Parameter } from '../../src/api/openapi/types.ts'
import { type ApiApp, createApiApp } from '../../src/api/server.ts'
import { blobIdOf } from '../../src/erasure/blob-id.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startMember,
} from '../node/harness.ts'
import { TOKEN } from './helpers.ts'
import { expectError } from './schema.ts'

/**
 * The routes carry their JSON schemas (fastify validates the path parameters before a handler runs) and the
 * OpenAPI document is generated from the schemas of the routes the server registered.
 */

let member: RunningMember
let built: ApiApp

beforeAll(async () => {
  const committees = new SwappableCommitteeSource()
  member = await startMember(await memberIdentity(1n), committees, { announceProviders: false })
  committees.registry = registryOf(1, [{ epoch: 0, members: [{ identity: member.identity }], sequencers: [] }])
  built = await createApiApp({ node: member.node, token: TOKEN })
})

afterAll(async () => {
  await built?.close()
  await member?.node.stop()
  await removeDirs(member ? [member.dir] : [])
})

const pathOf = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}')

async function servedDocument() {
  const res = await built.app.inject({ method: 'GET', url: '/openapi.json' })
  expect(res.statusCode).toBe(200)
  return res.json() as typeof OPENAPI_DOCUMENT
}

describe('route schemas', () => {
  it('every registered route has a schema, and the served document has it as an operation with its schemas', async () => {
    const served = await servedDocument()
    expect(built.routes.length).toBe(Object.keys(ROUTES).length)
    for (const route of built.routes) {
      const what = `${route.method} ${route.url}`
      expect(route.schema, what).toBeDefined()
      const schema = route.schema!
      const op = (served.paths[pathOf(route.url)] as Record<string, Operation> | undefined)?.[
        route.method.toLowerCase()
      ]
      expect(op, what).toBeDefined()
      expect(op!.operationId).toBe(schema.operationId)
      expect(op!.responses, what).toEqual(JSON.parse(JSON.stringify(schema.response)))
      // Every path parameter fastify validates is a parameter of the operation, with the same schema.
      const params = (op!.parameters ?? []) as Parameter[]
      const declared = Object.entries(schema.params?.properties ?? {})
      expect(params.map((p) => p.name).sort(), what).toEqual(declared.map(([name]) => name).sort())
      for (const [name, { description, ...valueSchema }] of declared) {
        const param = params.find((p) => p.name === name)!
        expect(param).toMatchObject({ in: 'path', required: true, description })
        expect(param.schema).toEqual(valueSchema)
      }
      expect([...pathOf(route.url).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()).toEqual(
        declared.map(([name]) => name).sort(),
      )
    }
  })

  it('the served document is the one generated from the registered routes, and the static one', async () => {
    const served = await servedDocument()
    const generated = openApiDocument(built.routes.map((r) => ({ ...r, schema: r.schema! })))
    expect(served).toEqual(JSON.parse(JSON.stringify(generated)))
    expect(served).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)))
    expect(Object.keys(served.paths).sort()).toEqual(
      Object.values(ROUTES)
        .map((r) => pathOf(r.url))
        .sort(),
    )
  })

  it('fastify refuses a path parameter against its schema, with the code the schema names, before the handler', async () => {
    const blobReads = vi.spyOn(member.node.reads, 'blob')
    const shardReads = vi.spyOn(member.node.reads, 'shard')
    try {
      const blobId = blobIdOf(randomData(65, prng(5))).toString()
      const bad = await built.app.inject({ method: 'GET', url: '/v1/blobs/bafkreiNOT-A-BLOB' })
      expectError({ status: bad.statusCode, body: bad.json() }, 400, 'ERASURE_INVALID_BLOB_ID')
      expect(bad.json().error.message).toMatch(/^params\/id must match pattern/)
      const index = await built.app.inject({ method: 'GET', url: `/v1/blobs/${blobId}/shards/007` })
      expectError({ status: index.statusCode, body: index.json() }, 400, 'API_INVALID_SHARD_INDEX')
      expect(index.json().error.message).toMatch(/^params\/index must match pattern/)
      expect(blobReads).not.toHaveBeenCalled()
      expect(shardReads).not.toHaveBeenCalled()
      // A value the schema takes reaches the handler: an unknown blob is the handler's 404.
      const unknown = await built.app.inject({ method: 'GET', url: `/v1/blobs/${blobId}` })
      expectError({ status: unknown.statusCode, body: unknown.json() }, 404, 'API_BLOB_NOT_FOUND')
      expect(blobReads).toHaveBeenCalledTimes(1)
    } finally {
      blobReads.mockRestore()
      shardReads.mockRestore()
    }
  })

  it('response bodies are written as before: no field is dropped by a serializer compiled from a schema', async () => {
    const res = await built.app.inject({ method: 'GET', url: '/v1/status' })
    const body = res.json()
    expect(res.body).toBe(JSON.stringify(body))
    expect(Object.keys(body)).toEqual(
      expect.arrayContaining(['served', 'refused', 'cancelled', 'samplesServed', 'recentErrors']),
    )
  })
})
