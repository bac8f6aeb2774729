import { randomInt } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PeerId } from '@libp2p/interface'
import type { Certificate } from '../attest/certificate.ts'
import { decodeCertificate } from '../attest/certificate-codec.ts'
import { verifyCertificate } from '../attest/verify-certificate.ts'
import { type Assignment, assignShards } from '../committee/assignment.ts'
import type { Committee } from '../committee/committee.ts'
import type { Member } from '../committee/member.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { type BlobId, blobIdOf } from '../erasure/blob-id.ts'
import { checkShard } from '../erasure/decode.ts'
import { type BlobHeader, encodeHeader } from '../erasure/header.ts'
import { DacnetError } from '../errors.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { P2pErrorCode, p2pError } from '../p2p/errors.ts'
import { MAX_SAMPLE_INDICES } from '../p2p/limits.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { requestSamples } from '../p2p/sample.ts'
import { availabilityConfidence, samplesForTarget } from './confidence.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { Hedge, RecentSlowest, silenceIn, silenceReason, silentPastTimeout } from './hedge.ts'
import { memberPeer } from './peers.ts'
import { DEFAULT_SILENT_MEMORY_MS, SilentHolders } from './silent-holders.ts'

/** Default target: the chance that an unavailable blob looks available is below one in a million. */
export const DEFAULT_TARGET_CONFIDENCE = 1 - 1e-6
/** Samples at most per call: enough to reach the default target with a third of the stake offline. */
export const DEFAULT_MAX_SAMPLES = 256
/** Time allowed for one holder to answer one request. */
export const DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS = 5_000

export interface LightClientInit {
  /** Started; a light client runs its DHT in client mode. */
  libp2p: DacnetLibp2p
  committees: CommitteeSource
  logger?: Logger
  /**
   * How long a holder found silent is skipped by later checks (its samples fail at once as NODE_SILENT while one
   * request to it goes out in the background; its first answer ends this). Default DEFAULT_SILENT_MEMORY_MS; 0
   * remembers nothing.
   */
  silentMemoryMs?: number
}

export interface SampleOptions {
  /** Target confidence in (0, 1). Default DEFAULT_TARGET_CONFIDENCE. */
  confidence?: number
  maxSamples?: number
  /** Time allowed for one holder to answer one request. Default DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number
  /**
   * How long a holder may stay silent before its request is cut and it counts as silent for the call (its
   * samples fail with NODE_SILENT). Undefined (the default): the adaptive rule of hedge.ts — none until a
   * holder has answered in this call, then max(HEDGE_FLOOR_MS, HEDGE_MULTIPLIER × the slowest comparable
   * answer so far), new connections compared with new connections. A number > 0: that fixed delay for every
   * request. 0: no hedging, only the request timeout ends a wait.
   */
  hedgeDelayMs?: number
  signal?: AbortSignal
  /** Called once per distinct index as its outcome is known: a page can draw the samples as they come in. */
  onOutcome?: (outcome: SampleOutcome) => void
}

/** One sampled index's outcome: the holder asked and whether the shard came back with a valid proof. */
export interface SampleOutcome {
  index: number
  member: number
  peerId: string
  ok: boolean
  /** The failure's code when not ok. */
  code?: string
}

export interface SampleFailure {
  index: number
  member: number
  peerId: string
  code: string
  reason: string
}

export interface SampleResult {
  blobId: string
  available: boolean
  /** 1 - P[seeing this many successes | fewer than k shards retrievable] (see confidence.ts). */
  confidence: number
  /** Samples drawn (with replacement, so an index may count more than once). */
  samples: number
  successes: number
  /** Distinct indices that came back with a valid proof. */
  distinctSuccesses: number
  failures: SampleFailure[]
  /**
   * Bytes of shard data and proofs that arrived from holders, counted as they came: every shard a holder sent,
   * valid or not, including those of a request that failed afterwards. Wire framing is not counted.
   */
  bytes: number
  ms: number
}

/**
 * Samples random shards of a certified blob from their holders and reports a confidence that the blob is
 * available. The certificate is verified first; indices are drawn privately with a CSPRNG, asked of their
 * holders in parallel and checked against the commitment. A holder that is down, slow or lying turns its
 * samples into failures — never a hang — and sampling goes on in rounds until the target or the cap. A holder
 * that stays silent past the hedge delay (hedge.ts) is cut and its samples fail as NODE_SILENT, so the round
 * ends and the next one draws fresh indices instead of waiting out the request timeout.
 */
export class LightClient {
  readonly #init: LightClientInit
  readonly #logger: Logger
  /** How long new connections took to answer lately, across calls: the hedge's guide for a new connection. */
  readonly #coldAnswers = new RecentSlowest()
  readonly #silent: SilentHolders

  constructor(init: LightClientInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    const memoryMs = init.silentMemoryMs ?? DEFAULT_SILENT_MEMORY_MS
    if (!(memoryMs >= 0)) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `silentMemoryMs must be 0 or more, got ${memoryMs}`)
    }
    this.#silent = new SilentHolders(memoryMs)
  }

  /** Verifies a certificate against the committee of the epoch it names; throws its typed error if invalid. */
  async verify(certificate: Certificate | Uint8Array): Promise<{ certificate: Certificate; committee: Committee }> {
    const cert = certificate instanceof Uint8Array ? decodeCertificate(certificate) : certificate
    const committee = await this.#init.committees.getCommittee(cert.epoch)
    verifyCertificate(cert, committee)
    return { certificate: cert, committee }
  }

  async sample(certificate: Certificate | Uint8Array, opts: SampleOptions = {}): Promise<SampleResult> {
    const start = performance.now()
    const target = opts.confidence ?? DEFAULT_TARGET_CONFIDENCE
    if (!(target > 0 && target < 1)) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `confidence must be in (0, 1), got ${target}`)
    }
    const maxSamples = opts.maxSamples ?? DEFAULT_MAX_SAMPLES
    const { hedgeDelayMs } = opts
    if (hedgeDelayMs !== undefined && !(hedgeDelayMs >= 0)) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `hedgeDelayMs must be 0 or more, got ${hedgeDelayMs}`)
    }
    const { certificate: cert, committee } = await this.verify(certificate)
    const { header } = cert
    const headerBytes = encodeHeader(header)
    const blobId = blobIdOf(headerBytes)
    const session: Session = {
      header,
      blobId,
      assignment: assignShards(committee, blobId.bytes, header.n),
      committee,
      outcomes: new Map(),
      deadHolders: new Map(),
      hedge: new Hedge(hedgeDelayMs, this.#coldAnswers.ms),
      failures: [],
      bytes: 0,
    }
    let samples = 0
    let successes = 0
    let confidence = 0
    let available = false
    // Each round looks at the evidence again: round r may conclude "available" only once the chance of a false one
    // is at most (1 - target) / 2^r, so that over every round together it stays below 1 - target (PROTOCOL §3.9).
    const allowed = (round: number) => (1 - target) / 2 ** round
    const firstRound = samplesForTarget(1 - allowed(1), header.k, header.n)
    let round = 0
    while (samples < maxSamples) {
      round++
      opts.signal?.throwIfAborted()
      const want = Math.min(maxSamples - samples, samples === 0 ? firstRound : Math.max(8, Math.ceil(samples / 2)))
      const drawn = Array.from({ length: want }, () => randomInt(header.n))
      await this.#ask(session, [...new Set(drawn)], opts)
      for (const index of drawn) if (session.outcomes.get(index) === true) successes++
      samples += want
      const distinct = [...session.outcomes.values()].filter(Boolean).length
      confidence = availabilityConfidence(samples, successes, distinct, header.k, header.n)
      if (1 - confidence <= allowed(round)) {
        available = true
        break
      }
    }
    const distinctSuccesses = [...session.outcomes.values()].filter(Boolean).length
    return {
      blobId: blobId.toString(),
      available,
      confidence,
      samples,
      successes,
      distinctSuccesses,
      failures: session.failures,
      bytes: session.bytes,
      ms: performance.now() - start,
    }
  }

  /** Asks the holders of `indices` not asked before, in parallel; records one outcome per index. */
  async #ask(session: Session, indices: number[], opts: SampleOptions): Promise<void> {
    const byHolder = new Map<number, number[]>()
    for (const index of indices) {
      if (session.outcomes.has(index)) continue
      const holder = session.assignment.holderOf(index)
      const list = byHolder.get(holder) ?? []
      list.push(index)
      byHolder.set(holder, list)
    }
    await Promise.all(
      [...byHolder].map(async ([holder, wanted]) => {
        for (let i = 0; i < wanted.length; i += MAX_SAMPLE_INDICES) {
          await this.#askHolder(session, holder, wanted.slice(i, i + MAX_SAMPLE_INDICES), opts)
        }
      }),
    )
  }

  async #askHolder(session: Session, holder: number, indices: number[], opts: SampleOptions): Promise<void> {
    const member = session.committee.members[holder]!
    const fail = (index: number, code: string, reason: string) => {
      session.outcomes.set(index, false)
      session.failures.push({ index, member: holder, peerId: member.peerId, code, reason })
      opts.onOutcome?.({ index, member: holder, peerId: member.peerId, ok: false, code })
    }
    const dead = session.deadHolders.get(holder)
    if (dead) {
      for (const index of indices) fail(index, dead.code, dead.message)
      return
    }
    const silentFor = this.#silent.silentFor(member.peerId)
    if (silentFor !== undefined) {
      const error = nodeError(
        NodeErrorCode.SILENT,
        `silent in a check ${(silentFor / 1000).toFixed(1)} s ago; asked again in the background`,
      )
      session.deadHolders.set(holder, error)
      for (const index of indices) fail(index, error.code, error.message)
      this.#silent.probe(member.peerId, () => this.#probe(session, member, indices[0]!, opts))
      return
    }
    let answers: Awaited<ReturnType<typeof requestSamples>>
    try {
      answers = await this.#request(session, member, indices, opts)
      this.#silent.markAnswered(member.peerId)
    } catch (err) {
      const error = err instanceof DacnetError ? err : p2pError(P2pErrorCode.STREAM_ENDED, String(err))
      if (error.code === NodeErrorCode.SILENT) this.#silent.markSilent(member.peerId)
      session.deadHolders.set(holder, error)
      this.#logger.debug('holder failed', { member: holder, error })
      for (const index of indices) fail(index, error.code, error.message)
      return
    }
    for (const index of indices) {
      const answer = answers.get(index)
      if (!answer) {
        fail(index, NodeErrorCode.SHARD_NOT_HELD, 'the holder does not have this shard')
        continue
      }
      const problem = checkShard(session.header, answer)
      if (problem) fail(index, problem.code, problem.reason)
      else {
        session.outcomes.set(index, true)
        opts.onOutcome?.({ index, member: holder, peerId: member.peerId, ok: true })
      }
    }
  }

  /** One request to a remembered silent holder, outside any check: it resolves only if the holder answers. */
  async #probe(session: Session, member: Member, index: number, opts: SampleOptions): Promise<void> {
    const peer = await memberPeer(this.#init.libp2p, member)
    await requestSamples(this.#init.libp2p, peer, session.blobId, [index], {
      shardSize: session.header.shardSize,
      timeoutMs: opts.requestTimeoutMs ?? DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS,
    })
  }

  /**
   * One sample request to a holder, asked once more after a failure that says nothing about the holder's data: a
   * stream that ended (a connection dropped under it) or NODE_BUSY (every shard-read slot taken), after a pause.
   * Both attempts share the one request timeout, so a holder never costs more than it did without the retry. A
   * timeout, a refused dial, silence or a bad answer is not retried: the holder counts as failed for the session.
   */
  async #request(session: Session, member: Member, indices: number[], opts: SampleOptions) {
    const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS
    const deadline = performance.now() + timeoutMs
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(session, member, indices, { deadline, timeoutMs }, opts)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        const retryable = code === P2pErrorCode.STREAM_ENDED || code === NodeErrorCode.BUSY
        const timeLeft = deadline - performance.now() - SAMPLE_RETRY_DELAY_MS
        if (attempt > 0 || !retryable || timeLeft < MIN_RETRY_TIME_MS) throw err
        this.#logger.debug('sample request retried', { member: member.index, code })
        try {
          await sleep(SAMPLE_RETRY_DELAY_MS, undefined, opts.signal ? { signal: opts.signal } : {})
        } catch {
          throw p2pError(P2pErrorCode.ABORTED, 'sampling was stopped')
        }
      }
    }
  }

  /**
   * One attempt of a request, cut when the holder stays silent: past the session's hedge delay (timed from this
   * attempt's start, so a holder that answered NODE_BUSY or dropped a stream is not silent) or past the request's
   * deadline. Either way it fails NODE_SILENT, whatever stage the stalled exchange was at (dial, handshake,
   * request): a refused dial or a dropped stream fails first with its own code. The cut aborts the exchange.
   */
  async #attempt(
    session: Session,
    member: Member,
    indices: number[],
    limit: { deadline: number; timeoutMs: number },
    opts: SampleOptions,
  ) {
    const peer: PeerId = await memberPeer(this.#init.libp2p, member)
    const started = performance.now()
    // Whether the request must open a connection first: the hedge compares it with answers of its kind.
    const cold = this.#init.libp2p.getConnections(peer).length === 0
    const cut = new AbortController()
    const disarm = session.hedge.watch(started, cold, (report) => {
      cut.abort(nodeError(NodeErrorCode.SILENT, silenceReason(report)))
    })
    const timer = setTimeout(
      () => cut.abort(silentPastTimeout(limit.timeoutMs)),
      Math.max(0, Math.ceil(limit.deadline - started)),
    )
    const signal = opts.signal ? AbortSignal.any([opts.signal, cut.signal]) : cut.signal
    try {
      const request = requestSamples(this.#init.libp2p, peer, session.blobId, indices, {
        shardSize: session.header.shardSize,
        onShard: (shard) => {
          session.bytes += shard.data.length + shard.proof.length
        },
        timeoutMs: Math.max(1, Math.round(limit.deadline - started)),
        signal,
      })
      const answers = await untilAborted(request, signal)
      const ms = performance.now() - started
      session.hedge.answered(ms, cold)
      if (cold) this.#coldAnswers.record(ms)
      this.#logger.debug('holder answered', { member: member.index, ms: Math.round(ms), cold })
      return answers
    } catch (err) {
      if (opts.signal?.aborted) throw p2pError(P2pErrorCode.ABORTED, 'sampling was stopped')
      if (cut.signal.aborted) {
        this.#logger.debug('holder silent', { member: member.index, reason: (cut.signal.reason as Error).message })
        throw cut.signal.reason
      }
      throw silenceIn(err, performance.now() - started, limit.timeoutMs) ?? err
    } finally {
      disarm()
      clearTimeout(timer)
    }
  }
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it aborts: a stalled exchange that is
 * slow to notice its abort does not hold the round up. The exchange got the same signal and cleans up behind.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {})
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** Pause before asking a holder again after a dropped stream or NODE_BUSY. */
export const SAMPLE_RETRY_DELAY_MS = 200
/** A retry is only worth making with at least this much of the request's time left. */
const MIN_RETRY_TIME_MS = 250

interface Session {
  header: BlobHeader
  blobId: BlobId
  assignment: Assignment
  committee: Committee
  /** Index -> whether it came back with a valid proof. */
  outcomes: Map<number, boolean>
  /** Holders that failed outright (or stayed silent) this session: their other indices fail without a dial. */
  deadHolders: Map<number, DacnetError>
  /** When a silent holder's request is cut (hedge.ts). */
  hedge: Hedge
  failures: SampleFailure[]
  /** Shard and proof bytes received so far (SampleResult.bytes). */
  bytes: number
}
