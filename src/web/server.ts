/**
 * The HTTP side of `dacnet web`: the page, its bundle, committees by epoch as committee files (from a file or
 * the registry on the chain: whatever CommitteeSource the caller gives), and certificates by blob id —
 * from a directory of certificate files (a devnet's `--out DIR/certificates`) or from a node's HTTP API
 * (GET /v1/blobs/:id), fetched here so the page needs no cross-origin access to the node. Sampling does not pass
 * through this server: the page's worker dials the holders itself over libp2p WebSockets.
 */
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiErrorCode, apiError } from '../api/errors.ts'
import { hostChecker, invalidAllowedHost, isWildcardHost } from '../api/hosts.ts'
import { isLoopbackHost } from '../api/options.ts'
import { CommitteeErrorCode } from '../committee/errors.ts'
import { toCommitteeFile } from '../committee/file.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { parseBlobId } from '../erasure/blob-id.ts'
import { isDacnetError } from '../errors.ts'
import { readAtMost } from '../http-body.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { CERTIFICATE_PATH, COMMITTEE_PATH, COMMITTEES_PATH } from './paths.ts'

/** Time allowed for a node's API to answer a certificate request. */
export const DEFAULT_API_TIMEOUT_MS = 10_000
/** Largest answer read from a node's API for one certificate (a blob view holds one certificate, ~8 KiB at most). */
export const MAX_API_ANSWER_BYTES = 256 * 1024

export interface WebServerOptions {
  /** Where the page's light client gets its committees (a committee file's, or the chain's). */
  committees: CommitteeSource
  /** Where certificates come from by blob id: a directory of `<blobId>.json` files, and/or a node's API URL. */
  certificateDir?: string
  apiUrl?: string
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0: a free port. */
  port?: number
  /**
   * Host names the page is answered for besides loopback names and a specific `host` (DNS-rebinding defence, as
   * the node API's `api.allowedHosts`): others get 421. `*` allows any (only behind a proxy that checks Host).
   */
  allowedHosts?: readonly string[]
  /**
   * A bundle built by scripts/build-browser.ts. Default: the built package's dist/bundle, or in a checkout one
   * built in memory at start (with rolldown, a development dependency).
   */
  bundleDir?: string
  logger?: Logger
}

export interface WebServer {
  url: string
  close(): Promise<void>
}

const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}

/**
 * The bundle's files by URL path: from `bundleDir`; else from the built package's own bundle (dist/bundle, beside
 * this module's folder once compiled); else, in a checkout, built in memory with rolldown.
 */
async function loadBundle(bundleDir: string | undefined): Promise<Map<string, string>> {
  const packaged = fileURLToPath(new URL('../bundle/', import.meta.url))
  const dir = bundleDir ?? (existsSync(join(packaged, 'web', 'app.js')) ? packaged : undefined)
  const files = new Map<string, string>()
  if (dir === undefined) {
    const { buildBrowser } = await import('../browser/build.ts')
    for (const file of await buildBrowser()) files.set(`/${file.fileName}`, file.code)
    return files
  }
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue
    const path = join(entry.parentPath, entry.name)
    files.set(`/${relative(dir, path).replaceAll('\\', '/')}`, await readFile(path, 'utf8'))
  }
  if (!files.has('/web/app.js') || !files.has('/web/worker.js')) {
    throw new Error(`${dir} holds no web/app.js and web/worker.js: build it with scripts/build-browser.ts`)
  }
  return files
}

/**
 * What the page may load and reach: its own files (scripts, the worker, the BLS WebAssembly), the server's API, and
 * members over WebSockets; no inline script, no framing, no form posting elsewhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "style-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const logger = opts.logger ?? silentLogger
  const bundle = await loadBundle(opts.bundleDir)
  const pageDir = new URL('.', import.meta.url)
  const page = new Map<string, string>()
  for (const { file } of Object.values(PAGE_FILES)) page.set(file, await readFile(new URL(file, pageDir), 'utf8'))

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'referrer-policy': 'no-referrer',
    })
    res.end(body)
  }
  const sendError = (res: ServerResponse, status: number, message: string) =>
    send(res, status, 'application/json', JSON.stringify({ error: message }))

  async function certificate(blobText: string): Promise<{ status: number; body: string }> {
    let blobId: string
    try {
      blobId = parseBlobId(blobText).toString()
    } catch (err) {
      return { status: 400, body: JSON.stringify({ error: (err as Error).message }) }
    }
    if (opts.certificateDir !== undefined) {
      try {
        return { status: 200, body: await readFile(join(opts.certificateDir, `${blobId}.json`), 'utf8') }
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOENT') throw err
      }
    }
    if (opts.apiUrl !== undefined) {
      const badGateway = (error: string) => ({ status: 502, body: JSON.stringify({ error }) })
      let response: Response
      let text: string | undefined
      try {
        response = await fetch(new URL(`/v1/blobs/${blobId}`, opts.apiUrl), {
          signal: AbortSignal.timeout(DEFAULT_API_TIMEOUT_MS),
        })
        text = response.ok ? await readAtMost(response, MAX_API_ANSWER_BYTES) : undefined
      } catch (err) {
        // The node's address and the reason stay in this server's log; the page learns only that it failed.
        logger.warn('the node API did not answer a certificate request', { blobId, error: err })
        const timedOut = (err as { name?: string })?.name === 'TimeoutError'
        return badGateway(timedOut ? "the node's API did not answer in time" : "the node's API could not be reached")
      }
      if (response.ok) {
        if (text === undefined) return badGateway(`the node's API answered more than ${MAX_API_ANSWER_BYTES} bytes`)
        let view: { certificate?: unknown }
        try {
          view = JSON.parse(text) as { certificate?: unknown }
        } catch {
          return badGateway("the node's API answered something that is not JSON")
        }
        if (view?.certificate) return { status: 200, body: JSON.stringify(view.certificate) }
      } else {
        await response.body?.cancel()
        if (response.status !== 404) {
          return { status: 502, body: JSON.stringify({ error: `the node's API answered ${response.status}` }) }
        }
      }
    }
    return { status: 404, body: JSON.stringify({ error: `no certificate is known for ${blobId}` }) }
  }

  for (const entry of opts.allowedHosts ?? []) {
    const why = invalidAllowedHost(entry)
    if (why !== undefined) {
      throw apiError(ApiErrorCode.INVALID_OPTIONS, `allowedHosts entry ${JSON.stringify(entry)} ${why}`)
    }
  }
  const hostAllowed = hostChecker(opts.host ?? '127.0.0.1', opts.allowedHosts ?? [])
  if (!isLoopbackHost(opts.host ?? '127.0.0.1')) {
    logger.warn(
      'the page is served on a non-loopback address, without TLS: browsers on https pages need /wss members',
      {
        host: opts.host,
      },
    )
  }
  if (isWildcardHost(opts.host ?? '127.0.0.1') && (opts.allowedHosts ?? []).length === 0) {
    logger.warn('listening on every interface with no allowed hosts: only loopback Host names are answered', {
      host: opts.host,
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) return sendError(res, 421, 'this Host is not served here (see --allowed-host)')
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'only GET')
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const pageFile = PAGE_FILES[path]
    if (pageFile) return send(res, 200, pageFile.type, page.get(pageFile.file)!)
    const script = bundle.get(path)
    if (script !== undefined) return send(res, 200, 'text/javascript; charset=utf-8', script)
    if (path === COMMITTEES_PATH) {
      const epochs = await opts.committees.epochs()
      const first = epochs[0] === undefined ? undefined : await opts.committees.getCommittee(epochs[0])
      return send(res, 200, 'application/json', JSON.stringify({ networkId: first?.networkId ?? null, epochs }))
    }
    if (path.startsWith(COMMITTEE_PATH)) {
      const text = path.slice(COMMITTEE_PATH.length)
      const epoch = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN
      if (!Number.isSafeInteger(epoch)) return sendError(res, 400, `not an epoch: ${text}`)
      try {
        const committee = await opts.committees.getCommittee(epoch)
        const file = toCommitteeFile({ networkId: committee.networkId, committees: [committee] })
        return send(res, 200, 'application/json', JSON.stringify(file))
      } catch (err) {
        if (isDacnetError(err, CommitteeErrorCode.UNKNOWN_EPOCH)) return sendError(res, 404, (err as Error).message)
        throw err
      }
    }
    if (path.startsWith(CERTIFICATE_PATH)) {
      let blobText: string
      try {
        blobText = decodeURIComponent(path.slice(CERTIFICATE_PATH.length))
      } catch {
        return sendError(res, 400, 'the blob id is not valid percent-encoding')
      }
      const { status, body } = await certificate(blobText)
      return send(res, status, 'application/json', body)
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end()
      return
    }
    sendError(res, 404, 'not found')
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // What failed (a chain RPC's URL and answer, a path on this machine) is for the log, not for the page.
      logger.warn('web request failed', { url: req.url, error: err })
      if (!res.headersSent) sendError(res, 500, "this server failed to answer; its operator's log says why")
      else res.destroy()
    })
  })
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => done())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}
