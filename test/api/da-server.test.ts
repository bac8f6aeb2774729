/**
 * The OP Stack Alt-DA server end to end: a real committee (libp2p on loopback, LevelDB), the server on a real
 * port, and an HTTP client that does what op-alt-da's DAClient does — POST /put with an octet-stream body,
 * the response body decoded as the commitment (type byte, then the rest), GET /get/0x<hex of the whole
 * commitment>?l1_inclusion_block_number=N, 404 read as "not found".
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMITMENT_PREFIX_SIZE, DACNET_DA_LAYER_BYTE, encodeCommitment } from '../../src/api/da-server/commitment.ts'
import { DaServerErrorCode } from '../../src/api/da-server/errors.ts'
import { type DaServer, startDaServer } from '../../src/api/da-server/server.ts'
import { ApiErrorCode } from '../../src/api/errors.ts'
import { certificateBlobId, certificateSigners } from '../../src/attest/certificate.ts'
import { decodeCertificate } from '../../src/attest/certificate-codec.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { createLogger } from '../../src/logger.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { NodeErrorCode, nodeError } from '../../src/node/errors.ts'
import { Retriever } from '../../src/node/retriever.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { signedCertificate } from '../attest/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from '../node/harness.ts'

const NETWORK = 5381
/** Total 100; q = 2/3. Member 0 holds 32: just under a third, and the other 68 still reach q. */
const STAKES = [32n, 24n, 18n, 14n, 12n]
const MAX_BLOB = 512 * 1024

/** op-alt-da's DAClient, restated: what a batcher and an op-node send and how they read the answers. */
class AltDaClient {
  readonly url: string
  constructor(url: string) {
    this.url = url
  }

  /** setInput: POST /put, 200 with the commitment's bytes as the body; DecodeCommitmentData reads byte 0 as its type. */
  async setInput(img: Uint8Array, path = '/put'): Promise<{ type: number; data: Uint8Array }> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: img,
    })
    const body = new Uint8Array(await res.arrayBuffer())
    if (res.status !== 200) throw new Error(`failed to store data: ${res.status} ${Buffer.from(body).toString()}`)
    if (body.length === 0 || (body[0] !== 0 && body[0] !== 1)) throw new Error('invalid commitment')
    return { type: body[0]!, data: body.subarray(1) }
  }

  /** getInput: GET /get/0x<Encode()>, Encode() being the type byte followed by the commitment. */
  async getInput(comm: { type: number; data: Uint8Array }): Promise<Uint8Array | 'not found'> {
    const encoded = Buffer.concat([Buffer.from([comm.type]), comm.data]).toString('hex')
    const res = await fetch(`${this.url}/get/0x${encoded}?l1_inclusion_block_number=0`)
    if (res.status === 404) return 'not found'
    if (res.status !== 200) throw new Error(`failed to get preimage: ${res.status} ${await res.text()}`)
    return new Uint8Array(await res.arrayBuffer())
  }
}

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
const libp2ps: DacnetLibp2p[] = []
const closers: (() => Promise<void>)[] = []
const logLines: string[] = []
let pool: ErasurePool
let server: DaServer
/** A second server on another libp2p node that never saw a put: it can only answer from the network. */
let fresh: DaServer
let client: AltDaClient

async function startServer(libp2p: DacnetLibp2p, logged: boolean, maxConcurrentPuts = 2): Promise<DaServer> {
  const disperser = new Disperser({ libp2p, committees, pool }, { memberTimeoutMs: 10_000, retryDelayMs: 100 })
  const retriever = new Retriever({ libp2p, committees, pool })
  const started = await startDaServer({
    libp2p,
    committees,
    disperser,
    retriever,
    port: 0,
    maxBlobSize: MAX_BLOB,
    putTimeoutMs: 30_000,
    getTimeoutMs: 30_000,
    maxConcurrentPuts,
    ...(logged ? { logger: createLogger({ level: 'info', write: (line) => logLines.push(line) }) } : {}),
  })
  closers.push(
    () => started.close(),
    () => disperser.close(),
    () => retriever.close(),
  )
  return started
}

beforeAll(async () => {
  pool = new ErasurePool({ size: 1 })
  for (const stake of STAKES) members.push(await startMember(await memberIdentity(stake), committees))
  const sequencer = await startClient()
  const other = await startClient()
  libp2ps.push(sequencer, other)
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
      sequencers: [sequencer.peerId.toString()],
    },
  ])
  server = await startServer(sequencer, true)
  fresh = await startServer(other, false, 1)
  client = new AltDaClient(server.url)
}, 60_000)

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {})
  for (const libp2p of libp2ps) await Promise.resolve(libp2p.stop()).catch(() => {})
  for (const m of members) await m.node.stop().catch(() => {})
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
}, 30_000)

async function errorOf(res: Response): Promise<{ status: number; code: string }> {
  const body = (await res.json()) as { error: { code: string } }
  return { status: res.status, code: body.error.code }
}

describe('dacnet da-server (OP Stack Alt-DA)', () => {
  let first: { type: number; data: Uint8Array }
  const firstBytes = new Uint8Array(randomBytes(200 * 1024))

  it('puts: 200 with a da-service commitment carrying a certificate that verifies, and logs the progress', async () => {
    first = await client.setInput(firstBytes)
    expect(first.type).toBe(1)
    expect(first.data[0]).toBe(DACNET_DA_LAYER_BYTE)
    expect(first.data[1]).toBe(1)
    const certificate = decodeCertificate(first.data.subarray(COMMITMENT_PREFIX_SIZE - 1))
    expect(certificate.header.dataSize).toBe(firstBytes.length)
    expect(() => verifyCertificate(certificate, committees.registry!.committees[0]!)).not.toThrow()
    const blobId = certificateBlobId(certificate).toString()
    const logged = logLines.join('\n')
    for (const step of ['put: received', 'put: encoded', 'put: member stored', 'put: certified']) {
      expect(logged).toContain(step)
    }
    expect(logged).toContain(blobId)
  }, 30_000)

  it('gets the identical bytes back, also from a server that never saw the put (retrieved from the shards)', async () => {
    expect(Buffer.from((await client.getInput(first)) as Uint8Array).equals(firstBytes)).toBe(true)
    const other = await new AltDaClient(fresh.url).getInput(first)
    expect(Buffer.from(other as Uint8Array).equals(firstBytes)).toBe(true)
    expect(logLines.join('\n')).toContain('get: served')
  }, 30_000)

  it('answers 404 for a well-formed commitment whose certified blob nobody holds', async () => {
    const identities = members.map((m) => m.identity)
    const committee = committees.registry!.committees[0]!
    const certificate = signedCertificate(committee, [0, 1, 2, 3, 4], {
      encoding: committee.shapeFor(1000),
      seed: 'never dispersed',
      secretKeyOf: (i) => identities[i]!.secretKey,
    })
    const unknown = encodeCommitment(certificate)
    expect(await client.getInput({ type: unknown[0]!, data: unknown.subarray(1) })).toBe('not found')
    const res = await fetch(`${server.url}/get/0x${Buffer.from(unknown).toString('hex')}`)
    expect(await errorOf(res)).toEqual({ status: 404, code: DaServerErrorCode.NOT_FOUND })
  }, 30_000)

  it('answers 503 when members holding enough shards could not be reached, 404 only when the shards are not there', async () => {
    // A retriever short of k: with the shards of members it could not reach counted, k is (503) or is not (404)
    // within reach. op-node takes a 404 past the challenge window for data gone for good, and halts.
    let unreachedShards = 0
    const shortRetriever = {
      retrieve: async () => {
        throw nodeError(NodeErrorCode.NOT_ENOUGH_SHARDS, 'found 2 of the 6 shards needed', {
          found: 2,
          needed: 6,
          unreachedShards,
          errors: [],
        })
      },
      close: async () => undefined,
    } as unknown as Retriever
    const disperser = new Disperser({ libp2p: libp2ps[1]!, committees, pool })
    const short = await startDaServer({
      libp2p: libp2ps[1]!,
      committees,
      disperser,
      retriever: shortRetriever,
      port: 0,
    })
    try {
      const url = `${short.url}/get/0x${Buffer.concat([Buffer.from([first.type]), first.data]).toString('hex')}`
      unreachedShards = 4
      expect(await errorOf(await fetch(url))).toEqual({ status: 503, code: DaServerErrorCode.UNREACHABLE })
      unreachedShards = 3
      expect(await errorOf(await fetch(url))).toEqual({ status: 404, code: DaServerErrorCode.NOT_FOUND })
    } finally {
      await short.close()
      await disperser.close()
    }
  })

  it('answers 422 for a commitment whose certificate does not verify against the committee', async () => {
    const tampered = Buffer.concat([Buffer.from([first.type]), first.data])
    // A byte of the header's Merkle root: the blob id changes, so the aggregate signature no longer verifies.
    tampered[COMMITMENT_PREFIX_SIZE + 9 + 40]! ^= 0x01
    const res = await fetch(`${server.url}/get/0x${tampered.toString('hex')}`)
    expect(await errorOf(res)).toEqual({ status: 422, code: DaServerErrorCode.CERTIFICATE_INVALID })
  })

  it('answers 400 with a code for malformed and foreign commitments', async () => {
    const whole = Buffer.concat([Buffer.from([first.type]), first.data]).toString('hex')
    const cases: [string, string][] = [
      ['0xzz', DaServerErrorCode.MALFORMED_COMMITMENT],
      [whole, DaServerErrorCode.MALFORMED_COMMITMENT], // no 0x
      ['0x0', DaServerErrorCode.MALFORMED_COMMITMENT], // odd length
      ['0x', DaServerErrorCode.MALFORMED_COMMITMENT],
      ['0x0164', DaServerErrorCode.MALFORMED_COMMITMENT],
      [`0x${whole.slice(0, -2)}`, DaServerErrorCode.MALFORMED_COMMITMENT], // truncated certificate
      [`0x${whole}00`, DaServerErrorCode.MALFORMED_COMMITMENT], // trailing byte
      [`0x0164ff${whole.slice(6)}`, DaServerErrorCode.MALFORMED_COMMITMENT], // unknown payload version
      [`0x07${whole.slice(2)}`, DaServerErrorCode.MALFORMED_COMMITMENT], // no Alt-DA commitment type
      [`0x00${'ab'.repeat(32)}`, DaServerErrorCode.UNSUPPORTED_COMMITMENT], // keccak256
      [`0x0100${whole.slice(4)}`, DaServerErrorCode.UNSUPPORTED_COMMITMENT], // EigenDA's layer byte
    ]
    for (const [commitment, code] of cases) {
      const res = await fetch(`${server.url}/get/${commitment}`)
      expect(await errorOf(res), commitment.slice(0, 12)).toEqual({ status: 400, code })
    }
    const precomputed = await fetch(`${server.url}/put/0x00${'ab'.repeat(32)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(10),
    })
    expect(await errorOf(precomputed)).toEqual({ status: 400, code: DaServerErrorCode.PRECOMPUTED_COMMITMENT })
    const empty = await fetch(`${server.url}/put`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(0),
    })
    expect(await errorOf(empty)).toEqual({ status: 400, code: DaServerErrorCode.EMPTY_BODY })
    const form = await fetch(`${server.url}/put`, { method: 'POST', body: 'a=b' })
    expect(await errorOf(form)).toEqual({ status: 415, code: ApiErrorCode.UNSUPPORTED_MEDIA_TYPE })
  })

  it('refuses a body over the blob limit with 413: from its Content-Length, and as a chunked body streams', async () => {
    const declared = await rawPut(server.url, { contentLength: MAX_BLOB + 1, send: 0 })
    expect(declared).toMatchObject({ status: 413, code: ApiErrorCode.PAYLOAD_TOO_LARGE })
    // Announced as huge, not one byte sent: refused from the header alone.
    const huge = await rawPut(server.url, { contentLength: 1024 ** 4, send: 0 })
    expect(huge).toMatchObject({ status: 413, code: ApiErrorCode.PAYLOAD_TOO_LARGE })
    // Chunked, without a length: cut off once the limit is passed, long before the 64 times the limit the client would send.
    const chunked = await rawPut(server.url, { send: 64 * MAX_BLOB })
    expect(chunked).toMatchObject({ status: 413, code: ApiErrorCode.PAYLOAD_TOO_LARGE, connection: 'close' })
    expect(chunked.sent).toBeLessThan(64 * MAX_BLOB)
  }, 20_000)

  it('refuses a put beyond its slots with 429 and Retry-After, before reading its body', async () => {
    // One put holds the fresh server's only slot: its headers are in, its body never completes.
    const held = httpRequest(`${fresh.url}/put`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': 1000 },
    })
    held.on('error', () => {})
    held.write(Buffer.alloc(10))
    try {
      // Its slot is taken once /health counts it.
      await waitUntil(async () => {
        const health = (await (await fetch(`${fresh.url}/health`)).json()) as { puts: number }
        return health.puts === 1 ? true : undefined
      })
      const refused = await fetch(`${fresh.url}/put`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(10),
      })
      expect(refused.headers.get('retry-after')).toBe('5')
      expect(await errorOf(refused)).toEqual({ status: 429, code: DaServerErrorCode.BUSY })
    } finally {
      held.destroy()
    }
  })

  it("takes a client hanging up mid-upload as the client's doing: no warning in the log", async () => {
    const before = logLines.length
    const cut = httpRequest(`${server.url}/put`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': 100_000 },
    })
    cut.on('error', () => {})
    cut.write(Buffer.alloc(1_000))
    await new Promise((resolve) => setTimeout(resolve, 100))
    cut.destroy()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(logLines.slice(before).filter((line) => line.includes('request failed'))).toEqual([])
  })

  it('reports its health', async () => {
    const res = await fetch(`${server.url}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ok', epoch: 0, members: STAKES.length })
  })

  it('keeps putting and getting with members holding just under a third of the stake stopped', async () => {
    await members[0]!.node.stop()
    // An earlier blob, retrieved from what the other members hold.
    expect(Buffer.from((await client.getInput(first)) as Uint8Array).equals(firstBytes)).toBe(true)
    // A new one, put through the legacy "/put/" path op-alt-da used before, then read by both servers.
    const bytes = new Uint8Array(randomBytes(64 * 1024 + 3))
    const comm = await client.setInput(bytes, '/put/')
    const certificate = decodeCertificate(comm.data.subarray(COMMITMENT_PREFIX_SIZE - 1))
    expect(certificateSigners(certificate)).not.toContain(0)
    expect(Buffer.from((await client.getInput(comm)) as Uint8Array).equals(bytes)).toBe(true)
    expect(Buffer.from((await new AltDaClient(fresh.url).getInput(comm)) as Uint8Array).equals(bytes)).toBe(true)
  }, 45_000)

  it('answers a put with 503 once q is out of reach: what op-batcher reads as "the DA layer is down"', async () => {
    await members[3]!.node.stop() // with member 0: 46 of 100 offline
    const res = await fetch(`${server.url}/put`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(randomBytes(10_000)),
    })
    expect(await errorOf(res)).toEqual({ status: 503, code: NodeErrorCode.THRESHOLD_UNREACHABLE })
    expect(logLines.join('\n')).toContain('put: threshold out of reach')
  }, 30_000)
})

async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * A POST /put over a raw socket: with `contentLength` the header announces that many bytes, else the body is
 * chunked; up to `send` bytes are written in 16 KiB chunks, stopping as soon as the answer arrives.
 */
function rawPut(
  url: string,
  opts: { contentLength?: number; send: number },
): Promise<{ status: number; code: string; sent: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' }
    if (opts.contentLength !== undefined) headers['content-length'] = opts.contentLength
    const req = httpRequest(`${url}/put`, { method: 'POST', headers })
    let sent = 0
    let answered = false
    req.on('response', (res) => {
      answered = true
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { error: { code: string } }
        resolve({ status: res.statusCode ?? 0, code: body.error.code, sent, connection: res.headers.connection })
        req.destroy()
      })
    })
    // The server may close the connection while bytes are still going out: only a missing answer is a failure.
    req.on('error', (err) => {
      if (!answered) reject(err)
    })
    const chunk = Buffer.alloc(16 * 1024, 7)
    const write = () => {
      while (!answered && sent < opts.send) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', write)
      }
      if (!answered && opts.contentLength === undefined) req.end()
    }
    if (opts.send === 0) req.flushHeaders()
    else write()
  })
}
