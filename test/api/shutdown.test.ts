import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApiServer } from '../../src/api/index.ts'
import { createApiApp } from '../../src/api/server.ts'
import { STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import { type ApiCommittee, postBlob, startApiCommittee, TOKEN } from './helpers.ts'

let committee: ApiCommittee

beforeAll(async () => {
  committee = await startApiCommittee([30n, 30n, 40n], 5381)
  // Members 1 and 2 take store streams and never answer: a dispersal waits for their member timeouts.
  for (const member of committee.members.slice(1)) {
    await member.node.libp2p.unhandle(STORE_PROTOCOL)
    await member.node.libp2p.handle(STORE_PROTOCOL, async () => {})
  }
})

afterAll(async () => {
  await committee?.close()
})

describe('closing the API', () => {
  it('ends a dispersal under way instead of waiting for it, so a node stops promptly', async () => {
    const server = await startApiServer({
      node: committee.apiNode,
      disperser: committee.disperser,
      token: TOKEN,
      port: 0,
    })
    const posted = postBlob(server.url, randomData(50_000, prng(77))).catch((err: unknown) => err)
    // Let the dispersal start: the API node stores its own share, the other two never answer.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const start = performance.now()
    await server.close()
    // The member timeout is 10 s (and a retry): without the abort, close would wait for it.
    expect(performance.now() - start).toBeLessThan(5_000)
    // The client still gets an answer (the dispersal was stopped), not a cut connection.
    const outcome = (await posted) as { status: number; body: { error?: { code?: string } } }
    expect(outcome.status).toBeGreaterThanOrEqual(500)
    expect(outcome.body.error?.code).toMatch(/^[A-Z][A-Z0-9_]+$/)
  }, 30_000)

  it('answers a request that arrives while closing with API_CLOSING in the usual error body', async () => {
    const built = await createApiApp({ node: committee.apiNode, disperser: committee.disperser, token: TOKEN })
    const posted = built.app
      .inject({
        method: 'POST',
        url: '/v1/blobs',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(randomData(50_000, prng(78))),
      })
      .catch((err: unknown) => err)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const closed = built.close()
    const late = await built.app.inject({ method: 'GET', url: '/v1/health' })
    expect(late.statusCode).toBe(503)
    expect(late.headers['connection']).toBe('close')
    expect(late.json()).toEqual({ error: { code: 'API_CLOSING', message: expect.stringContaining('stopping') } })
    await closed
    await posted
  }, 30_000)
})
