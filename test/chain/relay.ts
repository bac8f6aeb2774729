import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A JSON-RPC relay in front of anvil that a test can take down (its connections are cut) and bring back. */
export interface Relay {
  readonly url: string
  down: boolean
  /** JSON-RPC requests relayed so far with this method (batches counted per request). */
  calls(method: string): number
  close(): Promise<void>
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
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { method: string } | { method: string }[]
    for (const { method } of Array.isArray(body) ? body : [body]) calls.set(method, (calls.get(method) ?? 0) + 1)
    const reply = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat(chunks),
    })
    res.writeHead(reply.status, { 'content-type': 'application/json' })
    res.end(Buffer.from(await reply.arrayBuffer()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: (method) => calls.get(method) ?? 0,
    get down() {
      return down
    },
    set down(value: boolean) {
      down = value
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
