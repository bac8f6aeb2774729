import { connect, createServer, type Server, type Socket } from 'node:net'
import type { RunningMember } from './harness.ts'

/**
 * The stand-ins dispersal-silent.test.ts puts in a member's place, plain TCP on loopback: a relay in front of a
 * real member (slow or frozen), a listener that accepts and never writes (silent), and a closed port (down).
 */

const KiB = 1024

/** A TCP relay in front of a real member: `rate` paces the sequencer's bytes (bytes/s); `freeze` stops all traffic. */
export interface Relay {
  port: number
  rate: number
  frozen: boolean
  freeze(): void
  thaw(): void
  close(): Promise<void>
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const pumps = new Set<() => void>()
  const sockets = new Set<Socket>()
  const relay: Relay = {
    port: 0,
    rate: Number.POSITIVE_INFINITY,
    frozen: false,
    freeze() {
      relay.frozen = true
      for (const s of sockets) s.pause()
    },
    thaw() {
      relay.frozen = false
      for (const s of sockets) s.resume()
      for (const pump of pumps) pump()
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const server: Server = createServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1')
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        inbound.destroy()
        outbound.destroy()
      })
    }
    outbound.on('data', (chunk) => inbound.write(chunk))
    // Sequencer to member: paced by `rate`, held back while frozen, with TCP backpressure past 64 KiB.
    const queue: Buffer[] = []
    let queued = 0
    let timer: NodeJS.Timeout | undefined
    const pump = () => {
      if (timer || relay.frozen) return
      let budget = Number.isFinite(relay.rate) ? Math.max(1, Math.floor(relay.rate / 20)) : Number.POSITIVE_INFINITY
      while (queue.length > 0 && budget > 0) {
        const head = queue[0]!
        const take = Math.min(head.length, budget)
        outbound.write(head.subarray(0, take))
        budget -= take
        queued -= take
        if (take === head.length) queue.shift()
        else queue[0] = head.subarray(take)
      }
      if (queued < 64 * KiB && !relay.frozen) inbound.resume()
      if (queue.length > 0) {
        timer = setTimeout(() => {
          timer = undefined
          pump()
        }, 50)
      }
    }
    pumps.add(pump)
    inbound.on('close', () => {
      pumps.delete(pump)
      clearTimeout(timer)
    })
    inbound.on('data', (chunk) => {
      queue.push(chunk)
      queued += chunk.length
      if (queued >= 64 * KiB) inbound.pause()
      pump()
    })
    if (relay.frozen) {
      inbound.pause()
      outbound.pause()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  relay.port = (server.address() as { port: number }).port
  return relay
}

/** A TCP listener that accepts every connection and never writes: a stopped process, seen from outside. */
export interface SilentServer {
  port: number
  server: Server
  open: Set<Socket>
}

export async function startSilent(): Promise<SilentServer> {
  const open = new Set<Socket>()
  const server = createServer((socket) => {
    open.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => open.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as { port: number }).port, server, open }
}

export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export function tcpPortOf(member: RunningMember): number {
  const tcp = member.node.addresses().find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws'))
  return Number(tcp!.split('/')[4])
}
