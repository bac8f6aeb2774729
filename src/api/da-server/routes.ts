import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { certificateBlobId } from '../../attest/certificate.ts'
import { verifyCertificate } from '../../attest/verify-certificate.ts'
import type { CommitteeSource } from '../../committee/source.ts'
import { type DacnetError, isDacnetError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { Disperser } from '../../node/disperser.ts'
import { currentCommittee } from '../../node/epochs.ts'
import { NodeErrorCode } from '../../node/errors.ts'
import type { Retriever } from '../../node/retriever.ts'
import type { DacnetLibp2p } from '../../p2p/node.ts'
import { ApiErrorCode, apiError } from '../errors.ts'
import { decodeCommitment, encodeCommitment, parseCommitmentHex } from './commitment.ts'
import { DaServerErrorCode, daServerError } from './errors.ts'
import { DEFAULT_RECEIVE_TIMEOUT_MS, type ResolvedDaServerOptions } from './options.ts'

/** Seconds a client is told to wait when every slot is taken. */
const BUSY_RETRY_AFTER_SECONDS = 5
/** Fastify's own deadline for a route trails ours by this much: ours answers first, with its own code. */
const BACKSTOP_MARGIN_MS = 5_000
/** Codes of a retrieval that found too few shards of a certified blob: the data is not (or no longer) there. */
const NOT_FOUND_CODES: readonly string[] = [NodeErrorCode.BLOB_NOT_FOUND, NodeErrorCode.NOT_ENOUGH_SHARDS]

export interface DaServerContext {
  opts: ResolvedDaServerOptions
  libp2p: DacnetLibp2p
  committees: CommitteeSource
  disperser: Disperser
  retriever: Retriever
  logger: Logger
  /** Aborted when the server closes: requests under way end. */
  closing: AbortSignal
}

interface CommitmentParams {
  commitment: string
}

/**
 * The OP Stack Alt-DA routes: POST /put (and /put/) disperse the body and answer the commitment, GET
 * /get/0x<commitment> retrieve the certified blob from the network and answer its bytes; POST /put/<commitment>
 * is refused (this server computes its commitments). GET /health says whether the committee is reachable.
 */
export function registerDaRoutes(app: FastifyInstance, ctx: DaServerContext): void {
  // Dispersals still sending to slow members after their certificate hold an encoded blob too: they count.
  const puts = slots(ctx.opts.maxConcurrentPuts, 'puts', () => ctx.disperser.unsettled)
  const gets = slots(ctx.opts.maxConcurrentGets, 'gets')
  const putRoute = {
    onRequest: puts.gate,
    bodyLimit: ctx.opts.maxBlobSize,
    handlerTimeout: DEFAULT_RECEIVE_TIMEOUT_MS + ctx.opts.putTimeoutMs + BACKSTOP_MARGIN_MS,
  }
  const put = (request: FastifyRequest, reply: FastifyReply) => handlePut(ctx, request, reply)
  app.post('/put', putRoute, put)
  app.post('/put/', putRoute, put)

  app.post<{ Params: CommitmentParams }>(
    '/put/:commitment',
    {
      // Refused before a byte of the body is read.
      onRequest: async (_request, reply) => {
        reply.header('connection', 'close')
        throw daServerError(
          DaServerErrorCode.PRECOMPUTED_COMMITMENT,
          'this server makes the commitment once the committee has certified the data: POST the body to /put and use the commitment it answers (rollup config: generic commitments, not keccak256)',
        )
      },
    },
    async () => undefined,
  )

  app.get<{ Params: CommitmentParams }>(
    '/get/:commitment',
    { onRequest: gets.gate, handlerTimeout: ctx.opts.getTimeoutMs + BACKSTOP_MARGIN_MS },
    (request, reply) => gets.held(request, () => handleGet(ctx, request.params.commitment, reply)),
  )

  app.get('/health', { handlerTimeout: ctx.opts.getTimeoutMs }, async (_request, reply) => {
    const committee = await currentCommittee(ctx.committees)
    const connected = new Set(ctx.libp2p.getConnections().map((c) => c.remotePeer.toString()))
    const reachable = committee.members.filter((m) => connected.has(m.peerId))
    const stake = reachable.reduce((sum, m) => sum + m.stake, 0n)
    const body = {
      status: 'ok',
      epoch: committee.epoch,
      members: committee.size,
      connectedMembers: reachable.length,
      connectedStake: stake.toString(),
      totalStake: committee.totalStake.toString(),
      puts: puts.inFlight(),
      gets: gets.inFlight(),
    }
    if (reachable.length === 0) {
      throw daServerError(
        DaServerErrorCode.UNHEALTHY,
        `connected to none of the ${committee.size} members of epoch ${committee.epoch}`,
      )
    }
    return reply.code(200).send(body)
  })
}

async function handlePut(ctx: DaServerContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = request.body
  if (!(body instanceof Uint8Array)) {
    throw apiError(ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send the data as an application/octet-stream body')
  }
  if (body.length === 0) throw daServerError(DaServerErrorCode.EMPTY_BODY, 'the body is empty: nothing to store')
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  const log = ctx.logger.child({ request: request.id })
  const deadline = AbortSignal.timeout(ctx.opts.putTimeoutMs)
  const orphaned = orphanSignal(reply)
  const signal = AbortSignal.any([deadline, orphaned.signal, ctx.closing])
  const started = performance.now()
  log.info('put: received', { bytes: bytes.length, receiveMs: Math.round(reply.elapsedTime) })
  try {
    const result = await ctx.disperser
      .disperse(bytes, {
        signal,
        onEncoded: (info) =>
          log.info('put: encoded', { blobId: info.blobId, shards: info.shards, ms: Math.round(info.encodeMs) }),
        onReceipt: (r) =>
          log.info('put: member stored', {
            member: r.member,
            shards: r.shards,
            signedStake: `${r.signedStake}/${r.totalStake}`,
            thresholdReached: r.thresholdReached,
            ms: Math.round(r.ms),
          }),
        onFailure: (f) => log.warn('put: member failed', { member: f.member, peerId: f.peerId, code: f.code }),
        onUnreachable: (v) =>
          log.warn('put: threshold out of reach', {
            lostStake: `${v.lostStake}/${v.totalStake}`,
            lost: v.lost.map((f) => `${f.member}:${f.code}`),
          }),
      })
      .finally(() => orphaned.settle())
    const commitment = encodeCommitment(result.certificate)
    log.info('put: certified', {
      blobId: result.blob.blobId.toString(),
      bytes: bytes.length,
      epoch: result.certificate.epoch,
      signedStake: result.certificate.signedStake,
      failures: result.failures.length,
      commitmentBytes: commitment.length,
      ms: Math.round(performance.now() - started),
    })
    return reply.code(200).type('application/octet-stream').send(Buffer.from(commitment))
  } catch (err) {
    const failure =
      deadline.aborted && !orphaned.signal.aborted
        ? apiError(ApiErrorCode.TIMEOUT, `no certificate within ${ctx.opts.putTimeoutMs} ms`)
        : err
    log.warn('put: failed', { bytes: bytes.length, error: failure, clientGone: orphaned.signal.aborted })
    throw failure
  }
}

async function handleGet(ctx: DaServerContext, text: string, reply: FastifyReply): Promise<FastifyReply> {
  const certificate = decodeCommitment(parseCommitmentHex(text))
  const blobId = certificateBlobId(certificate).toString()
  const log = ctx.logger.child({ request: reply.request.id, blobId })
  const committee = await ctx.committees.getCommittee(certificate.epoch)
  try {
    verifyCertificate(certificate, committee)
  } catch (err) {
    if (!isDacnetError(err) || !err.code.startsWith('ATTEST_')) throw err
    log.warn('get: certificate refused', { code: err.code })
    throw daServerError(
      DaServerErrorCode.CERTIFICATE_INVALID,
      `the commitment's certificate does not verify against the committee of epoch ${certificate.epoch}: ${err.code}: ${err.message}`,
      { reason: err.code },
    )
  }
  const deadline = AbortSignal.timeout(ctx.opts.getTimeoutMs)
  const orphaned = orphanSignal(reply)
  const signal = AbortSignal.any([deadline, orphaned.signal, ctx.closing])
  const started = performance.now()
  log.info('get: retrieving', { epoch: certificate.epoch, bytes: certificate.header.dataSize, k: certificate.header.k })
  let result: Awaited<ReturnType<Retriever['retrieve']>>
  try {
    result = await ctx.retriever.retrieve(certificate, { signal }).finally(() => orphaned.settle())
  } catch (err) {
    if (ctx.closing.aborted) throw apiError(ApiErrorCode.CLOSING, 'the server is stopping')
    if (deadline.aborted && !orphaned.signal.aborted) {
      log.warn('get: timed out', { ms: ctx.opts.getTimeoutMs })
      throw apiError(ApiErrorCode.TIMEOUT, `the blob was not retrieved within ${ctx.opts.getTimeoutMs} ms`)
    }
    if (isDacnetError(err) && notReached(err)) {
      log.warn('get: holders not reached', { code: err.code, message: err.message })
      throw daServerError(DaServerErrorCode.UNREACHABLE, `${blobId} could not be retrieved now: ${err.message}`, {
        reason: err.code,
      })
    }
    if (isDacnetError(err) && NOT_FOUND_CODES.includes(err.code)) {
      log.warn('get: not found', { code: err.code, message: err.message })
      throw daServerError(DaServerErrorCode.NOT_FOUND, `${blobId} could not be retrieved: ${err.message}`, {
        reason: err.code,
      })
    }
    log.warn('get: failed', { error: err })
    throw err
  }
  if (result.kind === 'bad-encoding') {
    log.warn('get: bad encoding', { reason: result.reason })
    throw daServerError(
      DaServerErrorCode.BAD_ENCODING,
      `${blobId} was certified but is badly encoded (${result.reason}): no data can be derived from it`,
      { reason: result.reason },
    )
  }
  // The retriever decoded against the certificate's header and re-encoded to its Merkle root; the blob id the
  // committee signed and the size it names are checked once more here, before a byte goes out.
  if (result.blobId !== blobId || result.data.length !== certificate.header.dataSize) {
    throw apiError(ApiErrorCode.INTERNAL, `retrieved data does not match the certificate of ${blobId}`)
  }
  log.info('get: served', {
    bytes: result.data.length,
    holders: result.holders.length,
    ms: Math.round(performance.now() - started),
  })
  return reply
    .code(200)
    .type('application/octet-stream')
    .send(Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength))
}

/**
 * Whether a retrieval short of k shards was short because members could not be reached: the shards found and those
 * of members not asked in full could make k (the retriever's `unreachedShards`).
 */
function notReached(err: DacnetError): boolean {
  if (err.code !== NodeErrorCode.NOT_ENOUGH_SHARDS) return false
  const { found, needed, unreachedShards } = err.meta as {
    found?: unknown
    needed?: unknown
    unreachedShards?: unknown
  }
  return (
    typeof found === 'number' &&
    typeof needed === 'number' &&
    typeof unreachedShards === 'number' &&
    found + unreachedShards >= needed
  )
}

/**
 * Aborts when the response closes before the work it waits for settled: the client went away (or fastify's
 * backstop answered), so nobody is left to answer.
 */
function orphanSignal(reply: FastifyReply): { signal: AbortSignal; settle(): void } {
  const controller = new AbortController()
  let settled = false
  reply.raw.once('close', () => {
    if (!settled) controller.abort()
  })
  return {
    signal: controller.signal,
    settle: () => {
      settled = true
    },
  }
}

/**
 * A bounded number of requests of one kind at once; the next is refused with 429 before its body is read. A slot
 * is held until the response has closed and the work `held` wraps has ended, whichever comes last: a client that
 * hangs up does not free its slot while a retrieval (whose decode cannot be stopped) still runs for it.
 */
function slots(max: number, what: string, alsoBusy: () => number = () => 0) {
  let inFlight = 0
  const states = new WeakMap<FastifyRequest, { working: boolean; closed: boolean; released: boolean }>()
  const release = (state: { released: boolean }) => {
    if (state.released) return
    state.released = true
    inFlight--
  }
  const gate = async (request: FastifyRequest, reply: FastifyReply) => {
    const busy = Math.max(inFlight, alsoBusy())
    if (busy >= max) {
      reply.header('retry-after', String(BUSY_RETRY_AFTER_SECONDS)).header('connection', 'close')
      throw daServerError(DaServerErrorCode.BUSY, `${busy} ${what} are under way; retry later`)
    }
    inFlight++
    const state = { working: false, closed: false, released: false }
    states.set(request, state)
    // 'close' comes once per response, however it ends (sent, failed, or the client gone).
    reply.raw.once('close', () => {
      state.closed = true
      if (!state.working) release(state)
    })
  }
  /** Runs the request's work holding its slot past a close that comes first. */
  const held = async <T>(request: FastifyRequest, work: () => Promise<T>): Promise<T> => {
    const state = states.get(request)
    if (state) state.working = true
    try {
      return await work()
    } finally {
      if (state) {
        state.working = false
        if (state.closed) release(state)
      }
    }
  }
  return { gate, held, inFlight: () => inFlight }
}
