import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A JSON-RPC relay in front of anvil that a test can take down (its connections are cut) and bring back, make
 * answer like a backend some blocks behind, or make fail one method.
 */
export interface Relay {
  readonly url: string
  down: boolean
  /** Answers as a backend this many blocks behind: `eth_blockNumber` that much lower, no block above it. */
  lagBlocks: number
  /** Methods answered with a JSON-RPC error instead of being relayed. */
  readonly failing: Set<string>
  /**
   * The next this many `eth_getLogs` are answered with no log at all, as a load-balanced backend that has not indexed
   * the blocks yet does.
   */
  emptyLogs: number
  /**
   * An `eth_getLogs` over more blocks than this is refused the way providers refuse too many results (-32005,
   * "query returned more than 10000 results"). Infinity: no cap.
   */
  maxLogRange: number
  /** JSON-RPC requests relayed so far with this method (batches counted per request). */
  calls(method: string): number
  close(): Promise<void>
}

interface RpcRequest {
  id: unknown
  method: string
  params?: unknown[]
}

/** One request's answer: relayed, or made up as the relay's settings say. */
async function answer(target: string, request: RpcRequest, relay: Relay): Promise<unknown> {
  const { id, method } = request
  if (relay.failing.has(method)) return { jsonrpc: '2.0', id, error: { code: -32000, message: `${method} failed` } }
  const filter = request.params?.[0] as { fromBlock?: string; toBlock?: string } | undefined
  if (method === 'eth_getLogs' && filter?.fromBlock?.startsWith('0x') && filter.toBlock?.startsWith('0x')) {
    if (Number(BigInt(filter.toBlock) - BigInt(filter.fromBlock)) + 1 > relay.maxLogRange) {
      return { jsonrpc: '2.0', id, error: { code: -32005, message: 'query returned more than 10000 results' } }
    }
  }
  if (method === 'eth_getLogs' && relay.emptyLogs > 0) {
    relay.emptyLogs--
    return { jsonrpc: '2.0', id, result: [] }
  }
  const reply = (await (
    await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    })
  ).json()) as { result?: unknown }
  if (relay.lagBlocks === 0) return reply
  const head = BigInt(
    (
      (await (
        await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] }),
        })
      ).json()) as { result: string }
    ).result,
  )
  const behind = head - BigInt(relay.lagBlocks)
  if (method === 'eth_blockNumber') return { ...reply, result: `0x${behind.toString(16)}` }
  const asked = request.params?.[0]
  if (
    method === 'eth_getBlockByNumber' &&
    typeof asked === 'string' &&
    asked.startsWith('0x') &&
    BigInt(asked) > behind
  ) {
    return { ...reply, result: null }
  }
  return reply
}

export async function startRelay(target: string): Promise<Relay> {
  let down = false
  const calls = new Map<string, number>()
  const server: Server = createServer(async (req, res) => {
    if (down) {
      req.socket.destroy()
      return
    }
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RpcRequest | RpcRequest[]
    const requests = Array.isArray(body) ? body : [body]
    for (const { method } of requests) calls.set(method, (calls.get(method) ?? 0) + 1)
    const answers = await Promise.all(requests.map((request) => answer(target, request, relay)))
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(Array.isArray(body) ? answers : answers[0]))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const relay: Relay = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: (method) => calls.get(method) ?? 0,
    get down() {
      return down
    },
    set down(value: boolean) {
      down = value
    },
    lagBlocks: 0,
    failing: new Set(),
    emptyLogs: 0,
    maxLogRange: Number.POSITIVE_INFINITY,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  return relay
}
