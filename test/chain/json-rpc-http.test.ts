/**
 * The kept-alive JSON-RPC transport against a real HTTP server on loopback: answers and JSON-RPC errors as viem
 * reports them over its own `http` transport, one connection for many requests, and the limits — a slow endpoint
 * times out, an oversized answer is cut off, a server error is retried once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type BaseError,
  createPublicClient,
  HttpRequestError,
  type PublicClient,
  ResponseBodyTooLargeError,
  RpcRequestError,
  TimeoutError,
} from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type JsonRpcHttp, jsonRpcHttp } from '../../src/chain/json-rpc-http.ts'

type Handler = (
  body: { id: number; method: string; params: unknown[] },
  req: IncomingMessage,
  res: ServerResponse,
) => void

let server: Server
let url: string
let handler: Handler
const sockets = new Set<unknown>()
const seen: { method: string; authorization: string | undefined }[] = []
const opened: JsonRpcHttp[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    sockets.add(req.socket)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      seen.push({ method: body.method, authorization: req.headers.authorization })
      handler(body, req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})

afterEach(() => {
  for (const rpc of opened.splice(0)) rpc.close()
  sockets.clear()
  seen.length = 0
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function reply(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** The error of class `type` in the cause chain of `err`. */
function causeOf<T>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  return (err as BaseError).walk?.((e) => e instanceof type) as T | undefined
}

function client(options: Parameters<typeof jsonRpcHttp>[1] = {}, target = url): PublicClient {
  const rpc = jsonRpcHttp(target, options)
  opened.push(rpc)
  return createPublicClient({ transport: rpc.transport, cacheTime: 0 })
}

describe('jsonRpcHttp', () => {
  it('answers requests over one kept connection', async () => {
    handler = (body, _req, res) => reply(res, 200, { jsonrpc: '2.0', id: body.id, result: '0x2a' })
    const c = client()
    for (let i = 0; i < 5; i++) expect(await c.getBlockNumber()).toBe(42n)
    expect(seen.map((s) => s.method)).toEqual(Array(5).fill('eth_blockNumber'))
    expect(sockets.size).toBe(1)
  })

  it('reports a JSON-RPC error with its code and message, not retried', async () => {
    handler = (body, _req, res) =>
      reply(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: -32602, message: 'bad block tag' } })
    const err = await client()
      .getBlockNumber()
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(causeOf(err, RpcRequestError)).toBeInstanceOf(RpcRequestError)
    expect((err as { code: number }).code).toBe(-32602)
    expect(String((err as Error).message)).toContain('bad block tag')
    expect(seen).toHaveLength(1)
  })

  it('retries a server error once and reports its status', async () => {
    handler = (_body, _req, res) => reply(res, 503, { message: 'overloaded' })
    const err = await client()
      .getBlockNumber()
      .catch((e: unknown) => e)
    expect(causeOf(err, HttpRequestError)?.status).toBe(503)
    expect(seen).toHaveLength(2)
  })

  it('refuses an answer that is not JSON', async () => {
    handler = (_body, _req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>captive portal</html>')
    }
    const err = await client({ retryCount: 0 })
      .getBlockNumber()
      .catch((e: unknown) => e)
    expect(String((err as Error).message)).toContain('not JSON')
  })

  it('times out a slow endpoint within the bound', async () => {
    handler = () => {} // never answers
    const started = performance.now()
    const err = await client({ timeoutMs: 200, retryCount: 0 })
      .getBlockNumber()
      .catch((e: unknown) => e)
    expect(causeOf(err, TimeoutError)).toBeInstanceOf(TimeoutError)
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('cuts off an answer over the size limit, declared or streamed', async () => {
    const big = 'x'.repeat(64 * 1024)
    handler = (body, _req, res) => reply(res, 200, { jsonrpc: '2.0', id: body.id, result: big })
    const declared = await client({ maxResponseBytes: 16 * 1024, retryCount: 0 })
      .request({ method: 'eth_chainId' })
      .catch((e: unknown) => e)
    expect(causeOf(declared, ResponseBodyTooLargeError)).toBeInstanceOf(ResponseBodyTooLargeError)
    handler = (_body, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }) // chunked: no declared length
      for (let i = 0; i < 8; i++) res.write(big)
      res.end()
    }
    const streamed = await client({ maxResponseBytes: 16 * 1024, retryCount: 0 })
      .request({ method: 'eth_chainId' })
      .catch((e: unknown) => e)
    expect(causeOf(streamed, ResponseBodyTooLargeError)).toBeInstanceOf(ResponseBodyTooLargeError)
  })

  it('sends the credentials of the URL as basic auth, and keeps them out of the request line', async () => {
    handler = (body, _req, res) => reply(res, 200, { jsonrpc: '2.0', id: body.id, result: '0x1' })
    const withCredentials = url.replace('http://', 'http://alice:s%3Acret@')
    await client({}, withCredentials).getBlockNumber()
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('alice:s:cret').toString('base64')}`)
  })

  it('works again after close, on a new connection', async () => {
    handler = (body, _req, res) => reply(res, 200, { jsonrpc: '2.0', id: body.id, result: '0x7' })
    const rpc = jsonRpcHttp(url)
    opened.push(rpc)
    const c = createPublicClient({ transport: rpc.transport, cacheTime: 0 })
    expect(await c.getBlockNumber()).toBe(7n)
    rpc.close()
    expect(await c.getBlockNumber()).toBe(7n)
    expect(sockets.size).toBe(2)
  })
})
