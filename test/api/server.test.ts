import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { prefersOctetStream } from '../../src/api/accept.ts'
import { bearerTokenChecker } from '../../src/api/auth.ts'
import { describeError } from '../../src/api/error-reply.ts'
import { apiError, httpStatusOf } from '../../src/api/errors.ts'
import { DEFAULT_API_HOST, DEFAULT_API_PORT, startApiServer } from '../../src/api/index.ts'
import { baseUrl, isLoopbackHost, resolveApiOptions } from '../../src/api/options.ts'
import { parseShardIndex } from '../../src/api/routes/blobs.ts'
import type { ChainSourceStatus } from '../../src/chain/committee-source.ts'
import { isDacnetError } from '../../src/errors.ts'
import { createLogger } from '../../src/logger.ts'
import {
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startMember,
} from '../node/harness.ts'
import { call, TOKEN } from './helpers.ts'
import { expectSchema } from './schema.ts'

let member: RunningMember

beforeAll(async () => {
  const committees = new SwappableCommitteeSource()
  member = await startMember(await memberIdentity(1n), committees)
  committees.registry = registryOf(1, [{ epoch: 0, members: [{ identity: member.identity }], sequencers: [] }])
})

afterAll(async () => {
  await member?.node.stop()
  await removeDirs(member ? [member.dir] : [])
})

const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return isDacnetError(err) ? err.code : String(err)
  }
  return 'no error'
}

describe('options', () => {
  it('defaults to loopback on 5380', () => {
    const opts = resolveApiOptions({ node: member.node })
    expect([opts.host, opts.port, DEFAULT_API_HOST, DEFAULT_API_PORT]).toEqual(['127.0.0.1', 5380, '127.0.0.1', 5380])
    expect(opts.maxUploadBytes).toBe(32 * 1024 * 1024)
    expect(opts.disperseEnabled).toBe(false)
  })

  it('refuses values out of range with API_INVALID_OPTIONS', () => {
    const node = member.node
    for (const bad of [
      { port: -1 },
      { port: 65536 },
      { port: 1.5 },
      { maxUploadBytes: 0 },
      { readTimeoutMs: 0 },
      { maxConcurrentDispersals: 0 },
      { token: '' },
      { token: 'has space' },
      { host: '' },
    ]) {
      expect(
        codeOf(() => resolveApiOptions({ node, ...bad })),
        JSON.stringify(bad),
      ).toBe('API_INVALID_OPTIONS')
    }
  })

  it('tells loopback hosts from others, and builds a URL a local client can use', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true)
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false)
    }
    expect(baseUrl('::1', 80)).toBe('http://[::1]:80')
    expect(baseUrl('0.0.0.0', 80)).toBe('http://127.0.0.1:80')
    expect(baseUrl('localhost', 80)).toBe('http://localhost:80')
  })
})

describe('request parsing', () => {
  it('checks bearer tokens exactly', () => {
    const check = bearerTokenChecker(TOKEN)
    expect(check(`Bearer ${TOKEN}`)).toBe(true)
    expect(check(`bearer  ${TOKEN} `)).toBe(true)
    for (const header of [undefined, '', TOKEN, `Bearer`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, `Bearer ${TOKEN} x`]) {
      expect(check(header), String(header)).toBe(false)
    }
  })

  it('parses shard indices strictly', () => {
    expect(parseShardIndex('0')).toBe(0)
    expect(parseShardIndex('65535')).toBe(65535)
    for (const bad of ['', '-0', '00', '+1', '1.0', '0x10', '65536', ' 1']) {
      expect(
        codeOf(() => parseShardIndex(bad)),
        bad,
      ).toBe('API_INVALID_SHARD_INDEX')
    }
  })

  it('prefers raw bytes only when the Accept header says so', () => {
    expect(prefersOctetStream(undefined)).toBe(false)
    expect(prefersOctetStream('*/*')).toBe(false)
    expect(prefersOctetStream('application/octet-stream')).toBe(true)
    expect(prefersOctetStream('application/json, application/octet-stream')).toBe(false)
    expect(prefersOctetStream('application/json;q=0.5, application/octet-stream')).toBe(true)
    expect(prefersOctetStream('application/octet-stream;q=0')).toBe(false)
  })
})

describe('errors on the wire', () => {
  it('maps codes to statuses: API codes, lower layers, then by prefix', () => {
    expect(httpStatusOf('API_SHARD_NOT_HELD')).toBe(404)
    expect(httpStatusOf('ERASURE_INVALID_BLOB_ID')).toBe(400)
    expect(httpStatusOf('NODE_THRESHOLD_UNREACHABLE')).toBe(503)
    expect(httpStatusOf('NODE_NOT_ENOUGH_SHARDS')).toBe(502)
    expect(httpStatusOf('P2P_TIMEOUT')).toBe(502)
    expect(httpStatusOf('STORAGE_CLOSED')).toBe(503)
    expect(httpStatusOf('SOMETHING_ELSE')).toBe(500)
  })

  it('hides the details of unexpected errors', () => {
    expect(describeError(new Error('secret path /home/x'))).toEqual({
      status: 500,
      code: 'API_INTERNAL',
      message: 'internal error; see the node log',
      serverSide: true,
    })
    expect(describeError(apiError('API_BLOB_NOT_FOUND', 'x'.repeat(5000))).message.length).toBe(1024)
    // A reset is the client hanging up only when its own connection is gone; one the handler met on a connection
    // of its own (a chain RPC) is this node's failure, logged.
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    expect(describeError(reset, undefined, true)).toMatchObject({ status: 400, serverSide: false })
    expect(describeError(reset, undefined, false)).toMatchObject({
      status: 500,
      code: 'API_INTERNAL',
      serverSide: true,
    })
  })
})

describe('startApiServer', () => {
  it('fails with API_LISTEN_FAILED on a port in use, and leaves no metrics behind', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const { Registry } = await import('prom-client')
      const registry = new Registry()
      const err = await startApiServer({ node: member.node, port, registry }).catch((e) => e)
      expect(isDacnetError(err, 'API_LISTEN_FAILED')).toBe(true)
      expect(registry.getSingleMetric('dacnet_storage_bytes')).toBeUndefined()
    } finally {
      blocker.close()
    }
  })

  it('with a chain source: /health shows its sync state (schema-checked) and the metrics carry dacnet_chain_*', async () => {
    let status: ChainSourceStatus = {
      state: 'synced',
      safeBlock: 1234,
      epoch: 7,
      lastSyncAt: Date.now(),
      lastError: undefined,
      deepReorgs: 0,
      registryRereads: 0,
    }
    const server = await startApiServer({ node: member.node, port: 0, chain: { status: () => status } })
    try {
      const healthy = await call(`${server.url}/health`)
      expect(healthy.status).toBe(200)
      expectSchema(healthy.body, 'Health')
      expect(healthy.body).toMatchObject({
        status: 'ok',
        chain: { state: 'synced', safeBlock: 1234, epoch: 7, lastError: null },
      })
      // An RPC that fails leaves the node serving: still 200, and the chain part says how stale it is.
      status = { ...status, state: 'stale', lastError: 'CHAIN_UNAVAILABLE', lastSyncAt: Date.now() - 60_000 }
      const stale = await call(`${server.url}/health`)
      expect(stale.status).toBe(200)
      expectSchema(stale.body, 'Health')
      expect(stale.body.chain).toMatchObject({ state: 'stale', lastError: 'CHAIN_UNAVAILABLE' })
      const metrics = await (await fetch(`${server.url}/metrics`)).text()
      expect(metrics).toMatch(/^dacnet_chain_epoch 7$/m)
      expect(metrics).toMatch(/^dacnet_chain_synced 0$/m)
      expect(Number(/^dacnet_chain_sync_age_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(60)
    } finally {
      await server.close()
    }
  })

  it('logs through the Logger (JSON lines), warns on a non-loopback host, and never writes to stdout', async () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'debug', json: true, write: (line) => lines.push(line) })
    const stdout = vi.spyOn(process.stdout, 'write')
    try {
      const server = await startApiServer({ node: member.node, host: '0.0.0.0', port: 0, logger })
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect((await call(`${server.url}/health`)).status).toBe(200)
      expect((await call(`${server.url}/v1/blobs/nope`)).status).toBe(400)
      await server.close()
      await server.close() // idempotent
      expect(stdout).not.toHaveBeenCalled()
    } finally {
      stdout.mockRestore()
    }
    const entries = lines.map((l) => JSON.parse(l))
    expect(entries.find((e) => e.level === 'warn' && /non-loopback/.test(e.msg))).toMatchObject({
      component: 'api',
      host: '0.0.0.0',
    })
    expect(entries.find((e) => e.msg === 'http request' && e.route === '/v1/blobs/:id')).toMatchObject({
      level: 'debug',
      status: 400,
    })
    expect(entries.some((e) => e.msg === 'http api closed')).toBe(true)
  })
})
