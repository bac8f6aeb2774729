import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ApiContext } from '../../src/api/context.ts'
import { hostChecker, hostHeaderName, invalidAllowedHost } from '../../src/api/hosts.ts'
import { startApiServer } from '../../src/api/index.ts'
import type { ApiServerOptions } from '../../src/api/options.ts'
import { requesterOf } from '../../src/api/requester.ts'
import { type ApiApp, createApiApp } from '../../src/api/server.ts'
import { type EncodedBlob, encodeBlob } from '../../src/erasure/encode.ts'
import { isDacnetError } from '../../src/errors.ts'
import { createLogger } from '../../src/logger.ts'
import type { Disperser } from '../../src/node/disperser.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import {
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from '../node/harness.ts'
import { failureOf, gate } from '../p2p/helpers.ts'
import { type ResponseBody, TOKEN } from './helpers.ts'
import { expectError } from './schema.ts'

/**
 * The HTTP API under abuse: Host headers of other names (DNS rebinding), junk and traversal in path parameters,
 * bodies too large or of the wrong type, and one client reading as fast as it can. One real committee node
 * (LevelDB, libp2p on loopback) with a small read rate and a single read slot, so each limit is easy to reach.
 */

const RATE = 5
const READ_WAIT_MS = 100
/** Shards 0..2 of 4 are held; 3 is not. */
const HELD = [0, 1, 2]
let member: RunningMember
let light: DacnetLibp2p
let blob: EncodedBlob
let blobId: string
const apps: ApiApp[] = []
let nextClient = 1

beforeAll(async () => {
  const committees = new SwappableCommitteeSource()
  member = await startMember(await memberIdentity(1n), committees, {
    sampleRatePerSecond: RATE,
    maxConcurrentShardReads: 1,
    shardReadWaitMs: READ_WAIT_MS,
    announceProviders: false,
  })
  committees.registry = registryOf(1, [{ epoch: 0, members: [{ identity: member.identity }], sequencers: [] }])
  blob = encodeBlob(randomData(4_000, prng(421)), { networkId: 1, epoch: 0, k: 2, n: 4 })
  blobId = blob.blobId.toString()
  const shards = withProofs(blob)
  await member.node.store.putBlob(
    blob.headerBytes,
    HELD.map((i) => shards[i]!),
  )
  light = await startClient()
})

afterAll(async () => {
  for (const app of apps) await app.close()
  await light?.stop()
  await member?.node.stop()
  await removeDirs(member ? [member.dir] : [])
})

async function appWith(opts: Omit<ApiServerOptions, 'node'> = {}): Promise<ApiApp> {
  const built = await createApiApp({ node: member.node, ...opts })
  apps.push(built)
  return built
}

/** A client address of its own, so that each test starts with a full read budget. */
function freshClient(): string {
  return `198.51.100.${nextClient++}`
}

async function get(
  app: ApiApp,
  url: string,
  opts: { host?: string; from?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: ResponseBody }> {
  const res = await app.app.inject({
    method: 'GET',
    url,
    remoteAddress: opts.from ?? freshClient(),
    headers: { host: opts.host ?? '127.0.0.1:5380', ...opts.headers },
  })
  const type = String(res.headers['content-type'] ?? '')
  return { status: res.statusCode, headers: res.headers, body: type.includes('json') ? res.json() : res.body }
}

/** A request over a real socket, with any Host header (fetch does not let a caller set it). */
function rawGet(url: string, host: string): Promise<{ status: number; body: ResponseBody }> {
  const { hostname, port, pathname } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: pathname, headers: { host } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Makes the store's shard reads wait until the gate opens. */
function holdShardReads() {
  const held = gate()
  const store = member.node.store
  const read = store.getShard
  store.getShard = async (id, index) => {
    await held.promise
    return read.call(store, id, index)
  }
  return { open: held.open, restore: () => (store.getShard = read) }
}

describe('the Host check (DNS rebinding)', () => {
  it('answers loopback names with or without a port, and refuses any other Host with 421 API_HOST_NOT_ALLOWED', async () => {
    const app = await appWith()
    for (const host of [
      '127.0.0.1:5380',
      '127.0.0.1',
      'localhost',
      'LOCALHOST:80',
      'localhost.',
      '[::1]:5380',
      '127.0.0.2',
    ]) {
      expect((await get(app, '/health', { host })).status, host).toBe(200)
    }
    for (const host of [
      'evil.example',
      'evil.example:5380',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      'evil.example@localhost',
      'localhost:99999',
      '[::1',
      'a b',
    ]) {
      expectError(await get(app, '/health', { host }), 421, 'API_HOST_NOT_ALLOWED')
    }
  })

  it('refuses before any route runs: no read, no body, no 404, not even for a URL the router cannot parse', async () => {
    const disperse = vi.fn()
    const app = await appWith({ token: TOKEN, disperser: { unsettled: 0, disperse } as unknown as Disperser })
    const reads = vi.spyOn(member.node.reads, 'blob')
    try {
      const host = 'evil.example'
      expectError(await get(app, `/v1/blobs/${blobId}`, { host }), 421, 'API_HOST_NOT_ALLOWED')
      expectError(await get(app, '/no/such/route', { host }), 421, 'API_HOST_NOT_ALLOWED')
      expectError(await get(app, '/v1/blobs/%zz', { host }), 421, 'API_HOST_NOT_ALLOWED')
      expectError(await get(app, `/v1/blobs/${'a'.repeat(300)}`, { host }), 421, 'API_HOST_NOT_ALLOWED')
      const post = await app.app.inject({
        method: 'POST',
        url: '/v1/blobs',
        headers: { host, authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
        payload: Buffer.alloc(64 * 1024),
      })
      expectError({ status: post.statusCode, body: post.json() }, 421, 'API_HOST_NOT_ALLOWED')
      expect(reads).not.toHaveBeenCalled()
      expect(disperse).not.toHaveBeenCalled()
    } finally {
      reads.mockRestore()
    }
  })

  it('answers the names allowedHosts lists (any port) and a specific bind address; "*" answers any Host', async () => {
    const listed = await appWith({
      host: '10.1.2.3',
      allowedHosts: ['node.example.org', 'Dac.Example.NET.', '2001:db8::1'],
    })
    for (const host of [
      'node.example.org',
      'node.example.org:443',
      'dac.example.net',
      '[2001:db8::1]:5380',
      '10.1.2.3:5380',
    ]) {
      expect((await get(listed, '/health', { host })).status, host).toBe(200)
    }
    for (const host of ['evil.example', 'example.org', 'other.node.example.org', '10.1.2.4']) {
      expectError(await get(listed, '/health', { host }), 421, 'API_HOST_NOT_ALLOWED')
    }
    const any = await appWith({ allowedHosts: ['*'] })
    expect((await get(any, '/health', { host: 'evil.example' })).status).toBe(200)
  })

  it('over a real socket: `Host: evil.example` gets 421 from a server on the defaults, its own address 200', async () => {
    const server = await startApiServer({ node: member.node, port: 0 })
    try {
      const { port } = new URL(server.url)
      expectError(await rawGet(`${server.url}/health`, 'evil.example'), 421, 'API_HOST_NOT_ALLOWED')
      expectError(await rawGet(`${server.url}/health`, `evil.example:${port}`), 421, 'API_HOST_NOT_ALLOWED')
      expect((await rawGet(`${server.url}/health`, `127.0.0.1:${port}`)).status).toBe(200)
      expect((await rawGet(`${server.url}/health`, `localhost:${port}`)).status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('on a wildcard bind without allowedHosts answers loopback names only, and warns in the log', async () => {
    const lines: { level: string; msg: string }[] = []
    const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push(JSON.parse(line)) })
    const server = await startApiServer({ node: member.node, host: '0.0.0.0', port: 0, logger })
    try {
      expectError(await rawGet(`${server.url}/health`, '192.0.2.10'), 421, 'API_HOST_NOT_ALLOWED')
      expect((await rawGet(`${server.url}/health`, '127.0.0.1')).status).toBe(200)
    } finally {
      await server.close()
    }
    expect(lines.some((l) => l.level === 'warn' && /allowedHosts is empty/.test(l.msg))).toBe(true)
    // With names listed there is nothing to warn about.
    lines.length = 0
    const listed = await startApiServer({
      node: member.node,
      host: '0.0.0.0',
      port: 0,
      logger,
      allowedHosts: ['192.0.2.10'],
    })
    try {
      expect((await rawGet(`${listed.url}/health`, '192.0.2.10:8080')).status).toBe(200)
    } finally {
      await listed.close()
    }
    expect(lines.some((l) => /allowedHosts/.test(l.msg))).toBe(false)
  })

  it('refuses allowedHosts entries that are not bare host names, with API_INVALID_OPTIONS', async () => {
    for (const entry of ['node.example.org:5380', '[::1]:80', 'http://node.example.org', 'a b', '', '-bad-.example']) {
      expect(invalidAllowedHost(entry), entry).toBeTypeOf('string')
      const err = await createApiApp({ node: member.node, allowedHosts: [entry] }).catch((e) => e)
      expect(isDacnetError(err, 'API_INVALID_OPTIONS'), entry).toBe(true)
    }
    for (const entry of ['node.example.org', 'dacnet_node_1', '10.0.0.5', '::1', '[2001:db8::1]', '*']) {
      expect(invalidAllowedHost(entry), entry).toBeUndefined()
    }
  })

  it('reads the name out of a Host header: case, trailing dot, brackets and port', () => {
    expect(hostHeaderName('Node.Example.ORG.:443')).toBe('node.example.org')
    expect(hostHeaderName('[2001:DB8:0::1]:5380')).toBe('[2001:db8::1]')
    expect(hostHeaderName('10.0.0.1')).toBe('10.0.0.1')
    for (const bad of [undefined, '', ':80', '::1', 'a/b', 'x:y', 'h:123456'])
      expect(hostHeaderName(bad), bad).toBeUndefined()
    const check = hostChecker('::', [])
    expect(check('[::1]:5380')).toBe(true)
    expect(check('')).toBe(false)
    expect(check(undefined)).toBe(false)
    expect(check('[::]:5380')).toBe(false)
  })
})

describe('junk in blob ids and shard indices', () => {
  it('path traversal and junk in a blob id are 400 with a stable code, and read nothing', async () => {
    const app = await appWith()
    const reads = vi.spyOn(member.node.reads, 'blob')
    const shardReads = vi.spyOn(member.node.reads, 'shard')
    try {
      for (const id of [
        '..%2F..%2Fetc%2Fpasswd',
        '..%5C..%5Cwindows',
        '%00',
        'not-a-blob-id',
        '%F0%9F%98%80',
        `${blobId}%00`,
        blobId.slice(0, -1),
        'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
      ]) {
        expectError(await get(app, `/v1/blobs/${id}`), 400, 'ERASURE_INVALID_BLOB_ID')
        expectError(await get(app, `/v1/blobs/${id}/shards/0`), 400, 'ERASURE_INVALID_BLOB_ID')
      }
      // Paths the router cannot take: undecodable percent-encoding, or a parameter far longer than any blob id.
      for (const url of ['/v1/blobs/%zz', `/v1/blobs/${blobId}/shards/%E0%A4%A`, `/v1/blobs/${'b'.repeat(300)}`]) {
        expectError(await get(app, url), 400, 'API_BAD_REQUEST')
      }
      // Dot segments are not resolved into another route: nothing is read through them.
      expectError(await get(app, '/v1/blobs/../../etc/passwd'), 404, 'API_ROUTE_NOT_FOUND')
      expect(reads).not.toHaveBeenCalled()
      expect(shardReads).not.toHaveBeenCalled()
    } finally {
      reads.mockRestore()
      shardReads.mockRestore()
    }
  })

  it('junk shard indices are 400 API_INVALID_SHARD_INDEX before any read; one past n after it', async () => {
    const app = await appWith()
    const shardReads = vi.spyOn(member.node.reads, 'shard')
    try {
      for (const index of ['..%2F0', '-1', '1e3', '0x1', '%20', '1%00', '65536', '999999999999', 'NaN']) {
        expectError(await get(app, `/v1/blobs/${blobId}/shards/${index}`), 400, 'API_INVALID_SHARD_INDEX')
      }
      expect(shardReads).not.toHaveBeenCalled()
      expectError(await get(app, `/v1/blobs/${blobId}/shards/4`), 400, 'API_INVALID_SHARD_INDEX')
      expectError(await get(app, `/v1/blobs/${blobId}/shards/3`), 404, 'API_SHARD_NOT_HELD')
    } finally {
      shardReads.mockRestore()
    }
  })
})

describe('request bodies', () => {
  const disperserStub = () => {
    const disperse = vi.fn()
    return { disperse, disperser: { unsettled: 0, disperse } as unknown as Disperser }
  }
  const post = (app: ApiApp, type: string, payload: string | Buffer) =>
    app.app
      .inject({
        method: 'POST',
        url: '/v1/blobs',
        headers: { host: 'localhost', authorization: `Bearer ${TOKEN}`, 'content-type': type },
        payload,
      })
      .then((res) => ({ status: res.statusCode, body: res.json() as ResponseBody }))

  it('a body over the upload limit is 413 API_PAYLOAD_TOO_LARGE, and the disperser never sees it', async () => {
    const { disperse, disperser } = disperserStub()
    const app = await appWith({ token: TOKEN, disperser, maxUploadBytes: 1024 })
    expectError(await post(app, 'application/octet-stream', Buffer.alloc(1025)), 413, 'API_PAYLOAD_TOO_LARGE')
    expectError(
      await post(app, 'application/octet-stream', Buffer.alloc(4 * 1024 * 1024)),
      413,
      'API_PAYLOAD_TOO_LARGE',
    )
    expect(disperse).not.toHaveBeenCalled()
  })

  it('JSON, broken or well formed, is 415 API_UNSUPPORTED_MEDIA_TYPE: no route parses JSON', async () => {
    const { disperse, disperser } = disperserStub()
    const app = await appWith({ token: TOKEN, disperser })
    for (const payload of ['{"bad', '{"a":1}', '\u0000\u0001', '{"__proto__":{"polluted":1}}']) {
      expectError(await post(app, 'application/json', payload), 415, 'API_UNSUPPORTED_MEDIA_TYPE')
    }
    expectError(await post(app, 'text/plain', 'x'), 415, 'API_UNSUPPORTED_MEDIA_TYPE')
    expect(disperse).not.toHaveBeenCalled()
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('a body sent to a read route is not parsed: the read answers as without it', async () => {
    const app = await appWith()
    const res = await app.app.inject({
      method: 'GET',
      url: `/v1/blobs/${blobId}`,
      remoteAddress: freshClient(),
      headers: { host: 'localhost', 'content-type': 'application/json' },
      payload: '{"broken',
    })
    expect(res.statusCode).toBe(200)
    expect(res.json().blobId).toBe(blobId)
  })
})

describe('the read guard: node-wide read slots and a per-client rate, shared with libp2p', () => {
  it('one client over its rate gets 429 NODE_RATE_LIMITED with Retry-After, while another client is still served', async () => {
    const app = await appWith()
    const greedy = freshClient()
    for (let i = 0; i < RATE; i++) {
      const url = i % 2 === 0 ? `/v1/blobs/${blobId}` : `/v1/blobs/${blobId}/shards/${HELD[i % HELD.length]}`
      expect((await get(app, url, { from: greedy })).status, `request ${i}`).toBe(200)
    }
    const refused = await get(app, `/v1/blobs/${blobId}/shards/0`, { from: greedy })
    expectError(refused, 429, 'NODE_RATE_LIMITED')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expectError(await get(app, `/v1/blobs/${blobId}`, { from: greedy }), 429, 'NODE_RATE_LIMITED')
    // Another address has a budget of its own; the status and health routes are not reads.
    expect((await get(app, `/v1/blobs/${blobId}/shards/0`, { from: freshClient() })).status).toBe(200)
    expect((await get(app, '/v1/status', { from: greedy })).status).toBe(200)
  })

  it('counts IPv6 clients by /64 and IPv4-mapped addresses as IPv4', async () => {
    expect(requesterOf('2001:db8:1:2:aaaa::1')).toBe(requesterOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'))
    expect(requesterOf('2001:db8:1:2::1')).not.toBe(requesterOf('2001:db8:1:3::1'))
    expect(requesterOf('2001:0db8:0001:0002::1')).toBe(requesterOf('2001:db8:1:2::9'))
    expect(requesterOf('::ffff:192.0.2.1')).toBe(requesterOf('192.0.2.1'))
    expect(requesterOf('fe80::1%eth0')).toBe(requesterOf('fe80::2'))
    const app = await appWith()
    for (let i = 0; i < RATE; i++) {
      expect((await get(app, `/v1/blobs/${blobId}`, { from: `2001:db8:77:1::${i + 1}` })).status).toBe(200)
    }
    expectError(await get(app, `/v1/blobs/${blobId}`, { from: '2001:db8:77:1::ffff' }), 429, 'NODE_RATE_LIMITED')
    expect((await get(app, `/v1/blobs/${blobId}`, { from: '2001:db8:77:2::1' })).status).toBe(200)
  })

  it('with every read slot taken, a read gets 503 NODE_BUSY with Retry-After, and is served once a slot is back', async () => {
    const app = await appWith()
    const hold = holdShardReads()
    try {
      const first = get(app, `/v1/blobs/${blobId}/shards/0`)
      await vi.waitFor(() => expect(member.node.reads.slotsTaken).toBe(1))
      const start = performance.now()
      const busy = await get(app, `/v1/blobs/${blobId}/shards/1`)
      expectError(busy, 503, 'NODE_BUSY')
      expect(busy.headers['retry-after']).toBe('1')
      expect(performance.now() - start).toBeGreaterThanOrEqual(READ_WAIT_MS - 10)
      expectError(await get(app, `/v1/blobs/${blobId}`), 503, 'NODE_BUSY')
      hold.open()
      expect((await first).status).toBe(200)
    } finally {
      hold.open()
      hold.restore()
    }
    expect(member.node.reads.slotsTaken).toBe(0)
    expect((await get(app, `/v1/blobs/${blobId}/shards/1`)).status).toBe(200)
  })

  it('an HTTP read holding the only slot makes a libp2p sample NODE_BUSY: one set of slots for both', async () => {
    const app = await appWith()
    const hold = holdShardReads()
    try {
      const httpRead = get(app, `/v1/blobs/${blobId}/shards/0`)
      await vi.waitFor(() => expect(member.node.reads.slotsTaken).toBe(1))
      const sampled = await failureOf(
        requestSamples(light, member.node.libp2p.getMultiaddrs(), blob.blobId, [1], {
          shardSize: blob.header.shardSize,
        }),
      )
      expect([sampled?.code, sampled?.meta?.remote]).toEqual([NodeErrorCode.BUSY, true])
      hold.open()
      expect((await httpRead).status).toBe(200)
    } finally {
      hold.open()
      hold.restore()
    }
  })

  it('gives routes no way to the store: the API context types the node without one', async () => {
    const app = await appWith()
    const ctx: ApiContext = app.ctx
    // The object is a CommitteeNode at run time; what matters is that route code does not compile against its store.
    // @ts-expect-error the API's node has no store: every read goes through `reads`
    expect(ctx.node.store).toBeDefined()
  })
})
