import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freeLoopbackPorts } from '../../src/cli/devnet/ports.ts'

describe('devnet ports', () => {
  it('are distinct, free, and below the ephemeral range that outbound connections and port 0 take from', async () => {
    const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    const ports = await freeLoopbackPorts(16)
    expect(new Set(ports).size).toBe(16)
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000)
      expect(port).toBeLessThan(ephemeral)
      const server = createServer()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => resolve())
      })
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
