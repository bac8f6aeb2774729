import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiErrorCode, type ApiStartupErrorCode, documentedStatuses } from '../../src/api/errors.ts'
import { OPENAPI_DOCUMENT } from '../../src/api/openapi/document.ts'
import { type ApiApp, createApiApp } from '../../src/api/server.ts'
import {
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startMember,
} from '../node/harness.ts'
import { TOKEN } from './helpers.ts'
import { expectSchema, validatorOf } from './schema.ts'

let member: RunningMember
let built: ApiApp

beforeAll(async () => {
  const committees = new SwappableCommitteeSource()
  member = await startMember(await memberIdentity(1n), committees)
  committees.registry = registryOf(1, [{ epoch: 0, members: [{ identity: member.identity }], sequencers: [] }])
  built = await createApiApp({ node: member.node, token: TOKEN })
})

afterAll(async () => {
  await built?.close()
  await member?.node.stop()
  await removeDirs(member ? [member.dir] : [])
})

const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const

function documentedRoutes(): string[] {
  return Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
  )
}

describe('the OpenAPI document', () => {
  it('lists exactly the routes the server registers', () => {
    const registered = built.routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`)
    expect(registered.sort()).toEqual(documentedRoutes().sort())
  })

  it('is served at GET /openapi.json as it is in the code', async () => {
    const res = await built.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    const served = res.json()
    expect(served).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)))
    expect(served.openapi).toBe('3.1.0')
  })

  it('declares every path parameter of every route, and every reference resolves', () => {
    const resolve = (ref: string) =>
      ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], OPENAPI_DOCUMENT)
    for (const [path, item] of Object.entries(OPENAPI_DOCUMENT.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
      for (const method of METHODS) {
        const op = item[method]
        if (!op) continue
        const declared = (op.parameters ?? []).map(
          (p) => ('$ref' in p ? (resolve(p.$ref) as { name: string }) : p).name,
        )
        expect(declared.sort(), `${method} ${path}`).toEqual(inPath.sort())
        expect(Object.keys(op.responses).length).toBeGreaterThan(0)
      }
    }
    const refs = [...JSON.stringify(OPENAPI_DOCUMENT).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThan(10)
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined()
  })

  it('lists every error code the API answers with, and its status, as the code does', () => {
    const errorCode = OPENAPI_DOCUMENT.components.schemas['ErrorCode'] as {
      anyOf: [{ enum: string[] }, unknown]
      'x-dacnet-status': Record<string, number>
    }
    expect(errorCode['x-dacnet-status']).toEqual(documentedStatuses())
    expect([...errorCode.anyOf[0].enum].sort()).toEqual(Object.keys(documentedStatuses()).sort())
    const startup: string[] = [ApiErrorCode.INVALID_OPTIONS, ApiErrorCode.LISTEN_FAILED] satisfies ApiStartupErrorCode[]
    for (const code of Object.values(ApiErrorCode).filter((c) => !startup.includes(c))) {
      expect(errorCode.anyOf[0].enum).toContain(code)
    }
  })

  it('has schemas that compile, and describes the error body of a real refusal', async () => {
    for (const name of Object.keys(OPENAPI_DOCUMENT.components.schemas))
      expect(validatorOf(name)).toBeTypeOf('function')
    const res = await built.app.inject({
      method: 'POST',
      url: '/v1/blobs',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(1),
    })
    expect(res.statusCode).toBe(403)
    expectSchema(res.json(), 'Error')
  })
})
