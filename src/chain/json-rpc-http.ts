/**
 * A viem transport for one JSON-RPC endpoint over node:http / node:https with kept-alive connections.
 *
 * Every node polls its chain for as long as it runs (a head request a poll, a block header a new block), so what
 * one request costs is paid all day. viem's `http` transport goes through `fetch`: a Request, a Response, Headers,
 * a ReadableStream and two AbortSignals a request, ~1.1 ms of CPU for a head and a header on a warm process, and
 * the garbage is most of an idle member's collector time. This transport posts the same JSON body on a socket the
 * agent keeps (~0.26 ms for the pair) and reports failures with viem's own error classes, so that viem's retries,
 * its error mapping by JSON-RPC code and revert decoding behave as they do over `http`:
 *
 * - a non-2xx status or a body that is not JSON → `HttpRequestError` (with the status and headers; 408, 429, 5xx
 *   are retried);
 * - a JSON-RPC error → `RpcRequestError` (code, message, data);
 * - no whole answer within `timeoutMs` → `TimeoutError`; an answer over `maxResponseBytes` →
 *   `ResponseBodyTooLargeError` (the socket is dropped at the first byte past the limit).
 *
 * Credentials in the URL (`https://user:pass@host/`) are sent as HTTP basic auth, as viem does.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import {
  custom,
  HttpRequestError,
  ResponseBodyTooLargeError,
  RpcRequestError,
  TimeoutError,
  type Transport,
} from 'viem'

/** One request, the answer read whole included: viem's default. */
export const DEFAULT_JSON_RPC_TIMEOUT_MS = 10_000
/** The largest answer read: viem's default (an eth_getLogs of a busy range stays well within it). */
export const DEFAULT_JSON_RPC_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
/** Connections kept to the endpoint: a node's requests are mostly one at a time. */
export const DEFAULT_JSON_RPC_MAX_SOCKETS = 4
/** Retries of a failed request that viem deems worth retrying. */
export const DEFAULT_JSON_RPC_RETRY_COUNT = 1

export interface JsonRpcHttpOptions {
  /** Default DEFAULT_JSON_RPC_TIMEOUT_MS. */
  timeoutMs?: number
  /** Default DEFAULT_JSON_RPC_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number
  /** Default DEFAULT_JSON_RPC_MAX_SOCKETS. */
  maxSockets?: number
  /** Default DEFAULT_JSON_RPC_RETRY_COUNT. */
  retryCount?: number
}

/** The transport and the end of its kept connections. */
export interface JsonRpcHttp {
  readonly transport: Transport
  /** Closes the kept connections; requests after it open new ones. */
  close(): void
}

interface Reply {
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

/** A transport for `rpcUrl` (http or https). */
export function jsonRpcHttp(rpcUrl: string, options: JsonRpcHttpOptions = {}): JsonRpcHttp {
  const timeoutMs = options.timeoutMs ?? DEFAULT_JSON_RPC_TIMEOUT_MS
  const maxBytes = options.maxResponseBytes ?? DEFAULT_JSON_RPC_MAX_RESPONSE_BYTES
  const parsed = new URL(rpcUrl)
  const secure = parsed.protocol === 'https:'
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_JSON_RPC_MAX_SOCKETS }
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions)
  const send = secure ? httpsRequest : httpRequest
  const authorization = parsed.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`
    : undefined
  parsed.username = ''
  parsed.password = ''
  const url = parsed.toString()
  let nextId = 0

  const exchange = (body: { method: string; params?: unknown }, signal?: AbortSignal): Promise<unknown> => {
    const payload = JSON.stringify({ jsonrpc: '2.0', id: ++nextId, method: body.method, params: body.params ?? [] })
    return new Promise((resolve, reject) => {
      let settled = false
      const settle = (err: Error | undefined, result?: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err) {
          req.destroy()
          reject(err)
        } else resolve(result)
      }
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      }
      if (authorization) headers['authorization'] = authorization
      const req = send(parsed, { method: 'POST', agent, headers, ...(signal ? { signal } : {}) }, (res) => {
        readBody(res, maxBytes).then(
          (text) => settle(...answerOf(res, text, body, url)),
          (err: Error) => settle(err),
        )
      })
      const timer = setTimeout(() => settle(new TimeoutError({ body, url })), timeoutMs)
      req.on('error', (err) => settle(new HttpRequestError({ body, url, cause: err, details: err.message })))
      req.end(payload)
    })
  }

  const transport = custom(
    { request: ({ method, params }, opts?: { signal?: AbortSignal }) => exchange({ method, params }, opts?.signal) },
    { key: 'http', name: 'HTTP JSON-RPC', retryCount: options.retryCount ?? DEFAULT_JSON_RPC_RETRY_COUNT },
  )
  return { transport, close: () => agent.destroy() }
}

/** The body as text, refused at the first byte past `maxBytes` (or at once when its length says so). */
function readBody(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length'])
    if (declared > maxBytes) {
      res.destroy()
      reject(new ResponseBodyTooLargeError({ maxSize: maxBytes, size: declared }))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        res.destroy()
        reject(new ResponseBodyTooLargeError({ maxSize: maxBytes, size }))
        return
      }
      chunks.push(chunk)
    })
    res.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')))
    res.on('error', reject)
    res.on('close', () => {
      if (!res.complete) reject(new Error('the connection closed before the whole answer came'))
    })
  })
}

/** What an answer settles the request with: an error, or the result. */
function answerOf(
  res: IncomingMessage,
  text: string,
  body: { method: string; params?: unknown },
  url: string,
): [Error | undefined, unknown?] {
  const status = res.statusCode ?? 0
  let reply: Reply | undefined
  try {
    reply = JSON.parse(text) as Reply
  } catch {
    reply = undefined
  }
  if (status < 200 || status > 299 || reply === null || typeof reply !== 'object') {
    const headers = new Headers()
    for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value)
    const details =
      reply === undefined && status >= 200 && status <= 299 ? 'the answer is not JSON' : text.slice(0, 500)
    return [new HttpRequestError({ body, url, status, headers, details })]
  }
  if (reply.error) return [new RpcRequestError({ body, error: reply.error, url })]
  return [undefined, reply.result]
}
