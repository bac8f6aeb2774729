import { createServer, type Server } from 'node:net'

/**
 * `count` distinct free TCP ports on loopback: each is bound to port 0 (the OS picks), read, and released
 * only once all are bound, so no two are the same. Another process could take one before the node binds
 * it; on a developer machine that is rare, and the node then fails to start with a clear log line.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve())
      })
    }
    return servers.map((s) => {
      const address = s.address()
      if (address === null || typeof address === 'string') throw new Error('no TCP address')
      return address.port
    })
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}
