import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getJson, MAX_API_ANSWER_BYTES } from '../../src/cli/client/api.ts'
import { CliErrorCode } from '../../src/cli/errors.ts'

/**
 * The CLI's reads of a node's HTTP API (`dacnet status`, `sample --api`, the devnet's summary) against a server
 * that answers badly: too much, not an object, or an error whose text would drive the terminal.
 */

let server: Server
let base: string
let streamedBytes = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/huge') {
      // No length announced: the body streams until the client stops reading.
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (streamedBytes < 64 * MAX_API_ANSWER_BYTES) {
          streamedBytes += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end()
      }
      res.on('close', () => res.destroy())
      pump()
      return
    }
    if (req.url === '/null') return void res.writeHead(200).end('null')
    if (req.url === '/escape') {
      return void res
        .writeHead(503)
        .end(JSON.stringify({ error: { code: 'NODE_BUSY', message: 'busy \u001b[2J\u001b[31mred' } }))
    }
    if (req.url === '/badcode') {
      return void res.writeHead(500).end(JSON.stringify({ error: { code: 'x\u001b[2J', message: 'm' } }))
    }
    res.writeHead(200).end(JSON.stringify({ ok: true }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

async function refusal(path: string): Promise<{ code: string; message: string }> {
  const err = await getJson(base, path).then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string },
  )
  if (err === undefined) throw new Error(`${path} was not refused`)
  return err
}

describe('reading a node API answer', () => {
  it('stops reading past 1 MiB, with CLI_API_ERROR, instead of buffering what the server sends', async () => {
    const err = await refusal('/huge')
    expect(err.code).toBe(CliErrorCode.API_ERROR)
    expect(err.message).toContain(`more than ${MAX_API_ANSWER_BYTES} bytes`)
    // The server was stopped well short of what it meant to send.
    expect(streamedBytes).toBeLessThan(16 * MAX_API_ANSWER_BYTES)
  })

  it('refuses JSON that is not an object, and prints a remote error without its control characters', async () => {
    expect((await refusal('/null')).code).toBe(CliErrorCode.API_ERROR)
    const busy = await refusal('/escape')
    expect(busy.code).toBe('NODE_BUSY')
    expect(busy.message.includes('\u001b')).toBe(false)
    expect(busy.message).toContain('busy')
    expect((await refusal('/badcode')).code).toBe(CliErrorCode.API_ERROR)
    expect(await getJson(base, '/ok')).toEqual({ ok: true })
  })
})
