import { randomInt } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'

/** The lowest port drawn: clear of the well-known and most registered services' ports. */
const LOWEST_DRAWN_PORT = 10_000
/** Linux's default start of the ephemeral range, when /proc does not say. */
const DEFAULT_EPHEMERAL_START = 32_768
/** Draws tried per port wanted before the rest are left to the OS (port 0). */
const DRAWS_PER_PORT = 20

/**
 * `count` distinct free TCP ports on loopback, each bound to check it is free and released only once all are bound.
 * They are drawn at random below the kernel's ephemeral range: the OS hands ports of that range to every outbound
 * connection and to every bind to port 0, so a port of it chosen now could be taken by some other process's
 * connection before the node binds it (a test suite running devnets beside many libp2p nodes met that). Ports below
 * it are taken only by a process that asks for that very port. When too few are free there, the OS picks the rest.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    const highest = (await ephemeralStart()) - 1
    const tried = new Set<number>()
    for (let draws = 0; servers.length < count && draws < count * DRAWS_PER_PORT; draws++) {
      if (highest <= LOWEST_DRAWN_PORT) break
      const port = randomInt(LOWEST_DRAWN_PORT, highest + 1)
      if (tried.has(port)) continue
      tried.add(port)
      const server = await bound(port)
      if (server) servers.push(server)
    }
    while (servers.length < count) {
      const server = await bound(0)
      if (!server) throw new Error('no free TCP port on loopback')
      servers.push(server)
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

/** A server listening on `port` of loopback, or undefined if it cannot be bound. */
async function bound(port: number): Promise<Server | undefined> {
  const server = createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    return server
  } catch {
    server.close()
    return undefined
  }
}

/** The first port of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range). */
async function ephemeralStart(): Promise<number> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '')
  const start = Number(text.trim().split(/\s+/)[0])
  return Number.isInteger(start) && start > 0 ? start : DEFAULT_EPHEMERAL_START
}
