/**
 * `dacnet web`'s HTTP side and command: the page, its bundle, committees by epoch as committee files, certificates
 * from a directory — and the command, as its own process, serving them until SIGTERM.
 */
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificateBlobId } from '../../src/attest/certificate.ts'
import { certificateToJson } from '../../src/attest/certificate-codec.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { HttpCommitteeSource } from '../../src/browser/committees.ts'
import { parseCommitteeFile, toCommitteeFile } from '../../src/committee/file.ts'
import type { CommitteeSource } from '../../src/committee/source.ts'
import { StaticCommitteeSource } from '../../src/committee/source.ts'
import { startWebServer, type WebServer } from '../../src/web/server.ts'
import { realCommittee, signedCertificate } from '../attest/helpers.ts'
import { cli, killLeftovers, spawnCli } from '../cli/helpers.ts'

const committee = realCommittee([40n, 30n, 20n, 10n])
const certificate = signedCertificate(committee, [0, 1, 2], { seed: 'web server' })
const blobId = certificateBlobId(certificate).toString()
let dir: string
let server: WebServer

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dacnet-web-'))
  await writeFile(join(dir, `${blobId}.json`), JSON.stringify(certificateToJson(certificate)))
  await writeFile(
    join(dir, 'committee.json'),
    JSON.stringify(toCommitteeFile({ networkId: committee.networkId, committees: [committee] })),
  )
  server = await startWebServer({
    committees: new StaticCommitteeSource({ networkId: committee.networkId, committees: [committee] }),
    certificateDir: dir,
  })
}, 60_000)

afterAll(async () => {
  killLeftovers()
  await server?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const get = (path: string) => fetch(new URL(path, server.url))

describe('the web server', () => {
  it('serves the page, its stylesheet and its bundle', async () => {
    const page = await get('/')
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain('data-testid="status"')
    expect(html).toContain('data-testid="confidence"')
    for (const path of ['/style.css', '/web/app.js', '/web/worker.js', '/dacnet.js']) {
      expect((await get(path)).status, path).toBe(200)
    }
    expect((await get('/web/app.js')).headers.get('content-type')).toContain('text/javascript')
    // No inline script, no framing, nothing sent elsewhere: the page in a real browser (web.test.ts) runs under it.
    const policy = page.headers.get('content-security-policy') ?? ''
    expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval'")
    expect(policy).toContain("frame-ancestors 'none'")
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('serves each epoch’s committee as a committee file that parses to the same committee', async () => {
    expect(await (await get('/api/committees')).json()).toEqual({ networkId: committee.networkId, epochs: [0] })
    const file = await (await get('/api/committees/0')).text()
    const parsed = parseCommitteeFile(file, { verifier: blsKeyVerifier }).committees[0]!
    expect(parsed.members.map((m) => m.peerId)).toEqual(committee.members.map((m) => m.peerId))
    expect(parsed.totalStake).toBe(committee.totalStake)
    expect((await get('/api/committees/7')).status).toBe(404)
    expect((await get('/api/committees/x')).status).toBe(400)
  })

  it('serves certificates by blob id: 404 for an unknown one, 400 for a malformed id', async () => {
    const found = await get(`/api/certificates/${blobId}`)
    expect(found.status).toBe(200)
    expect(await found.json()).toEqual(certificateToJson(certificate))
    const other = certificateBlobId(signedCertificate(committee, [0, 1, 2], { seed: 'elsewhere' })).toString()
    expect((await get(`/api/certificates/${other}`)).status).toBe(404)
    expect((await get('/api/certificates/not-a-blob')).status).toBe(400)
    expect((await get('/api/certificates/%E0')).status).toBe(400)
    expect((await get('/etc/passwd')).status).toBe(404)
  })

  it('answers loopback Host names only (421 otherwise): a rebound DNS name cannot read through it', async () => {
    const statusFor = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(new URL(`/api/certificates/${blobId}`, server.url), { headers: { host } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.once('error', reject)
        req.end()
      })
    expect(await statusFor('evil.example')).toBe(421)
    expect(await statusFor('evil.example:8080')).toBe(421)
    expect(await statusFor(new URL(server.url).host)).toBe(200)
    expect(await statusFor('localhost')).toBe(200)
  })

  it('refuses an allowedHosts entry that is no host name at start, instead of answering 421 to it ever after', async () => {
    const started = startWebServer({
      committees: new StaticCommitteeSource({ networkId: committee.networkId, committees: [committee] }),
      certificateDir: dir,
      allowedHosts: ['dac.example.org:8080'],
    })
    await expect(started).rejects.toMatchObject({ code: 'API_INVALID_OPTIONS' })
  })
})

describe('the web server when what it asks fails', () => {
  it('tells the page what failed, not the node API’s address nor a chain client’s error', async () => {
    const secret = 'https://rpc.example/v3/SECRET-KEY'
    const broken: CommitteeSource = {
      getCommittee: () => Promise.reject(new Error(`HTTP request failed. URL: ${secret}`)),
      epochs: () => Promise.reject(new Error(`HTTP request failed. URL: ${secret}`)),
    }
    // A port nothing listens on, for the node's API.
    const closed = createTcpServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const apiUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((done) => closed.close(done))
    const failing = await startWebServer({ committees: broken, apiUrl })
    try {
      const at = (path: string) => fetch(new URL(path, failing.url))
      const listed = await at('/api/committees')
      expect(listed.status).toBe(500)
      const body = await listed.text()
      expect(body).not.toContain('SECRET')
      expect(JSON.parse(body).error).toContain("operator's log")
      const unreachable = await at(`/api/certificates/${blobId}`)
      expect(unreachable.status).toBe(502)
      const text = await unreachable.text()
      expect(JSON.parse(text).error).toBe("the node's API could not be reached")
      expect(text).not.toContain(apiUrl)
    } finally {
      await failing.close()
    }
  })

  it('a page server that never answers fails the browser’s committee fetch in its timeout, typed', async () => {
    const sockets = new Set<Socket>()
    const silent = createTcpServer((socket) => {
      // Accepts, reads, answers nothing.
      sockets.add(socket.on('error', () => undefined))
    })
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    try {
      const base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/committees`
      const source = new HttpCommitteeSource(base, { timeoutMs: 300 })
      const started = performance.now()
      await expect(source.getCommittee(0)).rejects.toMatchObject({
        code: 'COMMITTEE_READ_FAILED',
        message: 'the committee of epoch 0 could not be fetched: the server did not answer within 0.3 s',
      })
      await expect(source.epochs()).rejects.toMatchObject({ code: 'COMMITTEE_READ_FAILED' })
      expect(performance.now() - started).toBeLessThan(3_000)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })
})

describe('dacnet web', () => {
  it('needs a certificate source', async () => {
    const result = await cli(['web', '--committee', join(dir, 'committee.json')])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--certificates')
  })

  it('prints its URL, serves the page and the certificates, and stops on SIGTERM', async () => {
    const child = spawnCli(['web', '--committee', join(dir, 'committee.json'), '--certificates', dir, '--port', '0'])
    let stdout = ''
    child.stdout!.on('data', (chunk) => {
      stdout += chunk
    })
    for (let i = 0; i < 600 && !stdout.includes('\n'); i++) await new Promise((r) => setTimeout(r, 100))
    const url = stdout.trim()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect((await fetch(url)).status).toBe(200)
    expect((await fetch(new URL(`/api/certificates/${blobId}`, url))).status).toBe(200)
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
  }, 90_000)
})
