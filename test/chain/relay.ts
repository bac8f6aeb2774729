import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A JSON-RPC relay in front of anvil that a test can take down (its connections are cut) and bring back. */
export interface Relay {
  readonly url: string
  down: boolean
  close(): Promise<void>
}

export async function startRelay(target: string): Promise<Relay> {
  let down = false
  const server: Server = createServer(async (req, res) => {
    if (down) {
      req.socket.destroy()
      return
    }
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
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
