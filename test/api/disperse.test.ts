import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApiServer } from '../../src/api/index.ts'
import type { ApiServer } from '../../src/api/options.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import { type ApiCommittee, call, postBlob, startApiCommittee, TOKEN } from './helpers.ts'
import { expectError, expectSchema } from './schema.ts'

let committee: ApiCommittee
const servers: ApiServer[] = []

async function serve(opts: Partial<Parameters<typeof startApiServer>[0]> = {}): Promise<ApiServer> {
  const server = await startApiServer({
    node: committee.apiNode,
    disperser: committee.disperser,
    token: TOKEN,
    port: 0,
    ...opts,
  })
  servers.push(server)
  return server
}

beforeAll(async () => {
  committee = await startApiCommittee([30n, 30n, 40n])
})

afterAll(async () => {
  for (const s of servers) await s.close()
  await committee?.close()
})

describe('POST /v1/blobs refusals', () => {
  it('403 API_DISPERSE_DISABLED without a disperser or without a token, whatever the credentials', async () => {
    const noDisperser = await serve({ disperser: undefined })
    const noToken = await serve({ token: undefined })
    for (const server of [noDisperser, noToken]) {
      expectError(await postBlob(server.url, new Uint8Array(10)), 403, 'API_DISPERSE_DISABLED')
      expectError(await postBlob(server.url, new Uint8Array(10), null), 403, 'API_DISPERSE_DISABLED')
    }
  })

  it('401 API_UNAUTHORIZED for a missing or wrong token, with WWW-Authenticate', async () => {
    const server = await serve()
    for (const token of [null, 'wrong', `${TOKEN}x`, TOKEN.slice(1)]) {
      const res = await postBlob(server.url, new Uint8Array(10), token)
      expectError(res, 401, 'API_UNAUTHORIZED')
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="dacnet"')
      expect(res.headers.get('connection')).toBe('close')
    }
    const basic = await call(`${server.url}/v1/blobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', authorization: `Basic ${TOKEN}` },
      body: new Uint8Array(10),
    })
    expectError(basic, 401, 'API_UNAUTHORIZED')
  })

  it('413 API_PAYLOAD_TOO_LARGE above maxUploadBytes, from Content-Length or while streaming', async () => {
    const server = await serve({ maxUploadBytes: 4096 })
    expectError(await postBlob(server.url, new Uint8Array(4097)), 413, 'API_PAYLOAD_TOO_LARGE')
    // Chunked: no Content-Length, so the limit is enforced as the bytes arrive.
    const chunks = [new Uint8Array(3000), new Uint8Array(3000)]
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift()
        if (next) controller.enqueue(next)
        else controller.close()
      },
    })
    const res = await postBlob(server.url, new Uint8Array(0), TOKEN, { body, duplex: 'half' } as RequestInit)
    expectError(res, 413, 'API_PAYLOAD_TOO_LARGE')
  })

  it('415 API_UNSUPPORTED_MEDIA_TYPE for a body that is not application/octet-stream', async () => {
    const server = await serve()
    const res = await call(`${server.url}/v1/blobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"data":"0x00"}',
    })
    expectError(res, 415, 'API_UNSUPPORTED_MEDIA_TYPE')
  })

  it('503 API_BUSY with Retry-After when every dispersal slot is taken', async () => {
    const server = await serve({ maxConcurrentDispersals: 1 })
    // The first request holds the only slot while its body is still arriving.
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent) {
          await held
          controller.close()
          return
        }
        sent = true
        controller.enqueue(randomData(1000, prng(7)))
      },
    })
    const first = postBlob(server.url, new Uint8Array(0), TOKEN, { body, duplex: 'half' } as RequestInit)
    let busy: Awaited<ReturnType<typeof postBlob>> | undefined
    for (let attempt = 0; attempt < 50; attempt++) {
      busy = await postBlob(server.url, new Uint8Array(10))
      if (busy.status === 503) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expectError(busy!, 503, 'API_BUSY')
    expect(busy!.headers.get('retry-after')).toBe('5')
    release()
    expect((await first).status).toBe(200)
    // The slot is free again.
    expect((await postBlob(server.url, randomData(100, prng(8)))).status).toBe(200)
  })

  it('504 API_TIMEOUT when no certificate comes within disperseTimeoutMs', async () => {
    const server = await serve({ disperseTimeoutMs: 1 })
    expectError(await postBlob(server.url, randomData(200_000, prng(9))), 504, 'API_TIMEOUT')
  })

  it('503 NODE_THRESHOLD_UNREACHABLE when the members refuse: the node is no registered sequencer', async () => {
    const server = await serve()
    committee.publish({ sequencer: false })
    try {
      const res = await postBlob(server.url, randomData(1000, prng(10)))
      expectError(res, 503, 'NODE_THRESHOLD_UNREACHABLE')
      expect(res.body.error.message).toContain('NODE_UNREGISTERED_SEQUENCER')
    } finally {
      committee.publish()
    }
  })
})

describe('POST /v1/blobs dispersal', () => {
  it('certifies a blob, an empty one included', async () => {
    const server = await serve()
    for (const size of [0, 1, 70_000]) {
      const res = await postBlob(server.url, randomData(size, prng(size)))
      expect(res.status).toBe(200)
      expectSchema(res.body, 'Dispersal')
      expect(res.body.header.dataSize).toBe(size)
      expect(BigInt(res.body.signedStake) * 3n).toBeGreaterThanOrEqual(2n * 100n)
    }
  })
})
