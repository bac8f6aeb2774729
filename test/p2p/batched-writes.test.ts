import { once } from 'node:events'
import { createServer, type Socket, connect as tcpConnect } from 'node:net'
import type { MessageStream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, describe, expect, it } from 'vitest'
import { batchSocketWrites } from '../../src/p2p/batched-writes.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

/** A connected pair of TCP sockets on loopback, and everything the accepting side reads. */
async function socketPair(): Promise<{ client: Socket; received: () => Buffer }> {
  const chunks: Buffer[] = []
  const server = createServer((s) => s.on('data', (d: Buffer) => chunks.push(d)))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const client = tcpConnect(port, '127.0.0.1')
  await once(client, 'connect')
  cleanups.push(() => {
    client.destroy()
    server.close()
  })
  return { client, received: () => Buffer.concat(chunks) }
}

/** What @libp2p/tcp's connection looks like to the wrapper: its socket, and sendData writing piece by piece. */
function tcpLikeConnection(socket: Socket) {
  return {
    socket,
    sendData(data: Uint8ArrayList) {
      for (const piece of data) socket.write(piece)
      return { sentBytes: data.byteLength, canSendMore: true }
    },
  }
}

describe('batched socket writes', () => {
  it('sends a batch of pieces as one write, bytes and order unchanged', async () => {
    const { client, received } = await socketPair()
    const calls = { write: 0, writev: 0 }
    const socket = client as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void }
    const write = socket._write.bind(client)
    const writev = socket._writev.bind(client)
    socket._write = (...a) => {
      calls.write++
      write(...a)
    }
    socket._writev = (...a) => {
      calls.writev++
      writev(...a)
    }
    const conn = batchSocketWrites(tcpLikeConnection(client) as unknown as MessageStream) as unknown as ReturnType<
      typeof tcpLikeConnection
    >
    const pieces = [[0, 14], [1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [16], [17, 18]].map(
      (p) => new Uint8Array(p),
    )
    const result = conn.sendData(new Uint8ArrayList(...pieces))
    expect(result).toEqual({ sentBytes: 20, canSendMore: true })
    expect(calls).toEqual({ write: 0, writev: 1 })
    await expect.poll(() => received().length).toBe(20)
    expect([...received()]).toEqual(pieces.flatMap((p) => [...p]))
  })

  it('leaves a connection without a TCP socket as it is', () => {
    const sendData = () => ({ sentBytes: 0, canSendMore: true })
    const conn = { socket: { write: () => true }, sendData }
    expect(batchSocketWrites(conn as unknown as MessageStream)).toBe(conn)
    expect(conn.sendData).toBe(sendData)
  })
})
