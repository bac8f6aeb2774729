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
import { availabilityConfidence, roundAllowance, roundEnds, samplesForTarget } from './confidence.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { Hedge, RecentSlowest, silenceIn, silenceReason, silentPastTimeout } from './hedge.ts'
import { dialFailure, dialHolder, untilAborted } from './holder-dial.ts'
import { type Session, startWaiting } from './light-session.ts'
import { memberPeer } from './peers.ts'
import { DEFAULT_SILENT_MEMORY_MS, SilentHolders } from './silent-holders.ts'

/** Default target: the chance that an unavailable blob looks available is below one in a million. */
export const DEFAULT_TARGET_CONFIDENCE = 1 - 1e-6
/** Samples at most per call: enough to reach the default target with a third of the stake offline. */
export const DEFAULT_MAX_SAMPLES = 256
/** Pause before asking a holder again after a dropped stream or NODE_BUSY. */
export const SAMPLE_RETRY_DELAY_MS = 200
/** A retry is only worth making with at least this much of the request's time left. */
const MIN_RETRY_TIME_MS = 250
/** The most samples a check may be allowed (SampleOptions.maxSamples). */
export const MAX_MAX_SAMPLES = 100_000
/** Time allowed for one holder to answer one request. */
export const DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS = 5_000
/**
 * Dials a check opens ahead at once, to the holders it has no connection to (SampleOptions.dialAhead): none by
 * default. Measured on 16 members on loopback, dialling every holder ahead made a fresh client's healthy check
 * 1.6x slower (every new connection costs handshakes and identify on both sides) and one with holders stopped or
 * down no faster: drawing the next round early (speculation) already keeps those within 2x.
 */
export const DEFAULT_DIAL_AHEAD = 0

export interface LightClientInit {
  /** Started; a light client runs its DHT in client mode. */
  libp2p: DacnetLibp2p
  committees: CommitteeSource
  logger?: Logger
  /**
   * How long a holder found silent, or down (its dial refused), is remembered by later checks: a down one's samples
   * fail at once (P2P_DIAL_FAILED); a silent one's are not waited for, and go to it once one request to it, the
   * probe, has an answer (NODE_SILENT if it gets none). Its first answer ends this. Default
   * DEFAULT_SILENT_MEMORY_MS; 0 remembers nothing.
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
   * How long a holder may stay silent before the client remembers it silent, so that its later checks skip it
   * (its request runs on to the request timeout: only that, a refusal or a failure it reports fails it), and
   * the base of the speculation delay past which this check draws its next round without waiting for it.
   * Undefined (the default): the adaptive rule of hedge.ts — none until a holder has answered in this call, then
   * max(HEDGE_FLOOR_MS, HEDGE_MULTIPLIER × the slowest comparable answer so far), new connections compared with
   * new connections. A number > 0: that fixed delay for every request. 0: no hedging, no speculation: every
   * round waits for its holders, each at most the request timeout.
   */
  hedgeDelayMs?: number
  /**
   * Connections to open as the check starts, at most this many dials at once: to every holder of the blob the
   * client has no connection to and does not remember silent or down, the holders of most shards first, so that
   * later rounds find their connections open and a holder that refuses is known down before its samples are
   * drawn. Worth it where a new connection costs many round trips and little work (a distant committee); on a
   * near one it costs more than it saves. Default DEFAULT_DIAL_AHEAD (0: only the holders drawn are dialled, as
   * they are drawn).
   */
  dialAhead?: number
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

/** A counted sample whose holder had not answered when the check concluded. */
export interface SampleUnanswered {
  index: number
  member: number
  peerId: string
  /** How long the holder had been asked (or dialled) without a word when the check concluded. */
  waitedMs: number
}

export interface SampleResult {
  blobId: string
  available: boolean
  /** 1 - P[seeing this many successes | fewer than k shards retrievable] (see confidence.ts). */
  confidence: number
  /**
   * Samples the verdict rests on: the first `samples` indices drawn (with replacement, so an index may count more
   * than once), the draws of the rounds up to the one that concluded. Draws of a later round that went out early
   * are not counted.
   */
  samples: number
  /** Of those, the ones whose index came back with a valid proof. */
  successes: number
  /** Distinct indices that came back with a valid proof. */
  distinctSuccesses: number
  /** Indices among the counted samples that failed, each once, with the failure's code. */
  failures: SampleFailure[]
  /**
   * Indices among the counted samples whose holder had not answered when the check concluded: counted as failures,
   * never as successes. Their requests run on after the check returns, until the holder answers or the request
   * times out (a holder silent past the hedge delay is remembered silent meanwhile).
   */
  unanswered: SampleUnanswered[]
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
 * samples into failures — never a hang — and sampling goes on in rounds until the target or the cap. The rounds
 * end at fixed sample counts (roundEnds): a round's draws go out as soon as the rounds before it can no longer
 * pass without holders that failed or have been silent past the speculation delay, and a round concludes as
 * soon as its own draws suffice, counting what has not come back as failed. A holder is failed only by its own
 * failure, a refused dial or the request timeout (NODE_SILENT), never for being slower than the others: a check
 * concludes "unavailable" only once no round could pass even if every holder still out answered. One silent past
 * the hedge delay (hedge.ts) or down is remembered: later checks fail a down one's samples at once, and draw past a
 * silent one without waiting, asking it again once a probe of it answers (its samples fail if the probe does not).
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
    if (!(Number.isInteger(maxSamples) && maxSamples >= 1 && maxSamples <= MAX_MAX_SAMPLES)) {
      throw nodeError(
        NodeErrorCode.INVALID_OPTIONS,
        `maxSamples must be a whole number from 1 to ${MAX_MAX_SAMPLES}, got ${maxSamples}`,
      )
    }
    const { hedgeDelayMs } = opts
    if (hedgeDelayMs !== undefined && !(hedgeDelayMs >= 0)) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `hedgeDelayMs must be 0 or more, got ${hedgeDelayMs}`)
    }
    const dialAhead = opts.dialAhead ?? DEFAULT_DIAL_AHEAD
    if (!(Number.isInteger(dialAhead) && dialAhead >= 0)) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `dialAhead must be a whole number, 0 or more, got ${dialAhead}`)
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
      opts,
      outcomes: new Map(),
      pending: new Map(),
      askedAt: new Map(),
      queues: new Map(),
      asking: new Set(),
      waiting: new Map(),
      deadHolders: new Map(),
      holderStops: new Map(),
      presumedSilent: new Set(),
      hedge: new Hedge(hedgeDelayMs, this.#coldAnswers.ms),
      failures: [],
      bytes: 0,
      concluded: false,
      ended: new AbortController(),
      wake: () => {},
    }
    if (dialAhead > 0) this.#dialAhead(session, dialAhead)
    // Round r may conclude "available" only once the chance of a false one is at most (1 - target) / 2^r, so that
    // over every round together it stays below 1 - target (PROTOCOL §3.9). A round's evidence is the first
    // ends[r - 1] draws, whatever else is out: the next round's draws go out as soon as the rounds drawn so far can
    // no longer pass without holders that failed or stay silent, not once every holder has answered.
    const ends = roundEnds(samplesForTarget(1 - roundAllowance(target, 1), header.k, header.n), maxSamples)
    const draws: number[] = []
    /** Rounds whose draws went out: the draws always end where a round does. */
    const drawnRounds = () => ends.indexOf(draws.length) + 1
    const drawRound = () => {
      const from = draws.length
      const end = ends[drawnRounds()]!
      while (draws.length < end) draws.push(randomInt(header.n))
      this.#ask(session, [...new Set(draws.slice(from))])
    }
    const evidence = (round: number, count: (index: number) => boolean) => {
      const samples = ends[round - 1]!
      let successes = 0
      const distinct = new Set<number>()
      for (let i = 0; i < samples; i++) {
        if (count(draws[i]!)) successes++
      }
      for (const [index, ok] of session.outcomes) if (ok) distinct.add(index)
      for (const index of session.pending.keys()) if (count(index)) distinct.add(index)
      const confidence = availabilityConfidence(samples, successes, distinct.size, header.k, header.n)
      return { round, samples, successes, confidence, passes: 1 - confidence <= roundAllowance(target, round) }
    }
    /** The first round drawn whose evidence passes, counting as successes those indices `count` says. */
    const passing = (count: (index: number) => boolean) => {
      for (let round = 1; round <= drawnRounds(); round++) {
        const seen = evidence(round, count)
        if (seen.passes) return seen
      }
      return undefined
    }
    const succeeded = (index: number) => session.outcomes.get(index) === true
    /** Looks at the evidence whenever something changed, drawing rounds as they are needed, until a verdict. */
    const decide = async (): Promise<ReturnType<typeof evidence>> => {
      drawRound()
      while (true) {
        opts.signal?.throwIfAborted()
        if (session.failed !== undefined) throw session.failed
        const verdict = passing(succeeded)
        if (verdict) return verdict
        const now = performance.now()
        // Still out and not silent past the speculation delay: may yet succeed.
        const answerable = (index: number) => {
          if (succeeded(index)) return true
          const holder = session.pending.get(index)
          return holder !== undefined && !this.#suspect(session, holder, now)
        }
        if (drawnRounds() < ends.length) {
          if (!passing(answerable)) {
            drawRound()
            continue
          }
        } else if (
          [...session.pending.values()].every((holder) => this.#suspect(session, holder, now)) &&
          !passing((index) => succeeded(index) || session.pending.has(index))
        ) {
          // Every round is drawn, every holder that may still answer soon has, and none can pass even if the
          // silent ones answer after all: unavailable. Until then the verdict waits for them, each at most its
          // request timeout: a holder is never failed for being slower than the others, only for its own failure,
          // a refused dial or the timeout.
          return evidence(ends.length, succeeded)
        }
        await this.#progress(session, now)
      }
    }
    let verdict: ReturnType<typeof evidence>
    try {
      verdict = await decide()
    } finally {
      session.concluded = true
      session.ended.abort()
    }
    const counted = new Set(draws.slice(0, verdict.samples))
    const ended = performance.now()
    const unanswered: SampleUnanswered[] = []
    for (const [index, holder] of session.pending) {
      if (!counted.has(index)) continue
      const since = session.waiting.get(holder)?.since ?? session.askedAt.get(index)
      const member = session.committee.members[holder]!
      unanswered.push({
        index,
        member: holder,
        peerId: member.peerId,
        waitedMs: since === undefined ? 0 : ended - since,
      })
    }
    const distinctSuccesses = [...session.outcomes.values()].filter(Boolean).length
    return {
      blobId: blobId.toString(),
      available: verdict.passes,
      confidence: verdict.confidence,
      samples: verdict.samples,
      successes: verdict.successes,
      distinctSuccesses,
      failures: session.failures.filter((f) => counted.has(f.index)),
      unanswered,
      bytes: session.bytes,
      ms: ended - start,
    }
  }

  /** Whether `holder`, asked and not heard from, has been silent past the speculation delay (hedge.ts). */
  #suspect(session: Session, holder: number, now: number): boolean {
    if (session.presumedSilent.has(holder)) return true
    const waiting = session.waiting.get(holder)
    if (waiting === undefined) return false
    const delayMs = session.hedge.speculationMs(waiting.cold)
    return delayMs !== undefined && now - waiting.since >= delayMs
  }

  /**
   * Waits until something that may change the verdict or the draws happens: an outcome, a holder failing, a
   * holder asked becoming silent past the speculation delay, or the caller aborting.
   */
  #progress(session: Session, now: number): Promise<void> {
    let nextSuspicion = Number.POSITIVE_INFINITY
    const asked = new Set(session.pending.values())
    for (const holder of asked) {
      const waiting = session.waiting.get(holder)
      const delayMs = waiting && session.hedge.speculationMs(waiting.cold)
      if (waiting === undefined || delayMs === undefined) continue
      const at = waiting.since + delayMs
      if (at > now) nextSuspicion = Math.min(nextSuspicion, at)
    }
    const { signal } = session.opts
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        session.wake = () => {}
        resolve()
      }
      const timer =
        nextSuspicion === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(done, Math.max(0, Math.ceil(nextSuspicion - now)))
      signal?.addEventListener('abort', done, { once: true })
      session.wake = done
    })
  }

  /**
   * Opens connections to the committee's holders as the check starts, up to `limit` dials at once, the holders
   * of most shards first: a holder drawn in a later round is then asked on a connection already open, and one
   * that refuses is known down before its samples are drawn. Holders remembered silent or down are left to their
   * probes. Dials still under way when the check concludes are abandoned.
   */
  #dialAhead(session: Session, limit: number): void {
    const { counts } = session.assignment
    const holders = session.committee.members
      .filter((m) => (counts[m.index] ?? 0) > 0 && this.#silent.recall(m.peerId) === undefined)
      .sort((a, b) => counts[b.index]! - counts[a.index]!)
    const timeoutMs = session.opts.requestTimeoutMs ?? DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS
    let next = 0
    const lane = async () => {
      while (next < holders.length && !session.ended.signal.aborted) {
        const member = holders[next++]!
        try {
          await this.#dialOne(session, member, timeoutMs)
        } catch (err) {
          this.#logger.debug('dial ahead failed', { member: member.index, error: err })
        }
      }
    }
    for (let i = 0; i < Math.min(limit, holders.length); i++) void lane()
  }

  async #dialOne(session: Session, member: Member, timeoutMs: number): Promise<void> {
    const peer = await memberPeer(this.#init.libp2p, member)
    if (this.#init.libp2p.getConnections(peer).length > 0 || session.deadHolders.has(member.index)) return
    const since = performance.now()
    startWaiting(session, member.index, since, true)
    const { signal: caller } = session.opts
    const signal = AbortSignal.any([session.ended.signal, AbortSignal.timeout(timeoutMs), ...(caller ? [caller] : [])])
    try {
      await this.#init.libp2p.dial(peer, { signal })
      const asked = [...session.pending.values()].includes(member.index)
      if (!asked && session.waiting.get(member.index)?.since === since) session.waiting.delete(member.index)
    } catch (err) {
      if (signal.aborted) return
      const error = dialFailure(err, peer)
      if (silenceIn(error, performance.now() - since, timeoutMs) !== undefined) return
      this.#silent.markDown(member.peerId)
      this.#holderFailed(session, member.index, error)
    }
  }

  /** `holder` failed for the session: its indices still out fail with `error`, and its requests are aborted. */
  #holderFailed(session: Session, holder: number, error: DacnetError): void {
    if (!session.deadHolders.has(holder)) session.deadHolders.set(holder, error)
    session.waiting.delete(holder)
    session.holderStops.get(holder)?.abort(error)
    for (const [index, asked] of [...session.pending]) {
      if (asked === holder) this.#settle(session, holder, index, false, error.code, error.message)
    }
    session.wake()
  }

  /** Records an index's outcome once; later reports of it (a request abandoned, a holder failed) are ignored. */
  #settle(session: Session, holder: number, index: number, ok: boolean, code?: string, reason?: string): void {
    if (session.outcomes.has(index)) return
    const member = session.committee.members[holder]!
    session.outcomes.set(index, ok)
    session.pending.delete(index)
    if (!ok) session.failures.push({ index, member: holder, peerId: member.peerId, code: code!, reason: reason! })
    if (!session.concluded) {
      try {
        session.opts.onOutcome?.({
          index,
          member: holder,
          peerId: member.peerId,
          ok,
          ...(ok ? {} : { code: code! }),
        })
      } catch (err) {
        // The caller's callback failed: the check rejects with its error (the outcome itself stands).
        session.failed ??= err
      }
    }
    session.wake()
  }

  /**
   * Asks the holders of `indices` not asked before, in parallel, without waiting for them: each outcome is
   * recorded as it comes (#settle) and wakes the check. One request at a time per holder: indices drawn while
   * one is out wait for it, and go in the next (at once, failed, if the holder failed meanwhile).
   */
  #ask(session: Session, indices: number[]): void {
    const byHolder = new Map<number, number[]>()
    for (const index of indices) {
      if (session.outcomes.has(index) || session.pending.has(index)) continue
      const holder = session.assignment.holderOf(index)
      session.pending.set(index, holder)
      session.askedAt.set(index, performance.now())
      const list = byHolder.get(holder) ?? []
      list.push(index)
      byHolder.set(holder, list)
    }
    for (const [holder, wanted] of byHolder) {
      if (this.#failKnown(session, holder, wanted)) continue
      this.#queue(session, holder, wanted)
      this.#startAsking(session, holder)
    }
  }

  /**
   * Sends `holder` the indices queued for it, a request (of at most MAX_SAMPLE_INDICES) at a time. The first goes
   * out once the check's current turn is over: the rounds it draws at once, after failures it knew of, share it.
   */
  async #askInTurn(session: Session, holder: number): Promise<void> {
    session.asking.add(holder)
    try {
      await Promise.resolve()
      const queue = session.queues.get(holder)!
      // Once the check has its verdict, what is still queued is no longer asked: nothing would count it.
      while (queue.length > 0 && !session.concluded && !session.presumedSilent.has(holder)) {
        await this.#askHolder(session, holder, queue.splice(0, MAX_SAMPLE_INDICES))
      }
    } finally {
      session.asking.delete(holder)
    }
  }

  /**
   * Settles or holds back `indices` without a request when `holder` is known: failed at once if it already failed
   * in this check or the client remembers it down (a refused dial; a probe of it goes out in the background). One
   * the client remembers silent is asked again only once its probe answers (one request at a time to a holder that
   * may be stopped): its indices stay out meanwhile, not waited for (#suspect), and fail if the probe gets no
   * answer. A holder merely slow in an earlier check is so never counted against availability. Returns whether it
   * took the indices.
   */
  #failKnown(session: Session, holder: number, indices: number[]): boolean {
    const dead = session.deadHolders.get(holder)
    if (dead) {
      for (const index of indices) this.#settle(session, holder, index, false, dead.code, dead.message)
      return true
    }
    // What the client remembers is from earlier checks: a holder this check has asked already is waited for as
    // any other, even if it was found silent meanwhile (its request runs on to the timeout).
    if (session.holderStops.has(holder)) return false
    const member = session.committee.members[holder]!
    if (session.presumedSilent.has(holder)) {
      this.#queue(session, holder, indices)
      return true
    }
    const remembered = this.#silent.recall(member.peerId)
    if (remembered === undefined) return false
    const ago = `${(remembered.ageMs / 1000).toFixed(1)} s ago`
    const probe = this.#silent.probe(member.peerId, () => this.#probe(session, member, indices[0]!, session.opts))
    if (remembered.down) {
      const error = p2pError(
        P2pErrorCode.DIAL_FAILED,
        `refused a dial in a check ${ago}; asked again in the background`,
      )
      this.#holderFailed(session, holder, error)
      for (const index of indices) this.#settle(session, holder, index, false, error.code, error.message)
      return true
    }
    session.presumedSilent.add(holder)
    this.#queue(session, holder, indices)
    session.wake()
    void probe.then((answered) => {
      session.presumedSilent.delete(holder)
      if (session.concluded) return
      if (!answered) {
        session.queues.get(holder)?.splice(0)
        const error = nodeError(NodeErrorCode.SILENT, `silent in a check ${ago}, and to a probe since`)
        this.#holderFailed(session, holder, error)
        return
      }
      this.#startAsking(session, holder)
      session.wake()
    })
    return true
  }

  /** Adds `indices` to what `holder` is to be asked. */
  #queue(session: Session, holder: number, indices: number[]): void {
    const queue = session.queues.get(holder) ?? []
    queue.push(...indices)
    session.queues.set(holder, queue)
  }

  /** Starts sending `holder` its queued indices, unless that is under way. */
  #startAsking(session: Session, holder: number): void {
    if (session.asking.has(holder)) return
    this.#askInTurn(session, holder).catch((err: unknown) => {
      // Nothing is meant to throw past #askHolder; should anything, the check ends with it, not the process.
      session.failed ??= err
      session.wake()
    })
  }

  async #askHolder(session: Session, holder: number, indices: number[]): Promise<void> {
    const member = session.committee.members[holder]!
    const { opts } = session
    if (this.#failKnown(session, holder, indices)) return
    let answers: Awaited<ReturnType<typeof requestSamples>>
    try {
      answers = await this.#request(session, member, indices, opts)
      this.#silent.markAnswered(member.peerId)
      session.waiting.delete(holder)
    } catch (err) {
      const error = err instanceof DacnetError ? err : p2pError(P2pErrorCode.STREAM_ENDED, String(err))
      if (error.code === NodeErrorCode.SILENT) this.#silent.markSilent(member.peerId)
      else if (error.code === P2pErrorCode.DIAL_FAILED) this.#silent.markDown(member.peerId)
      this.#logger.debug('holder failed', { member: holder, error })
      if (error.code !== P2pErrorCode.ABORTED || opts.signal?.aborted) this.#holderFailed(session, holder, error)
      for (const index of indices) this.#settle(session, holder, index, false, error.code, error.message)
      return
    }
    for (const index of indices) {
      const answer = answers.get(index)
      if (!answer) {
        this.#settle(session, holder, index, false, NodeErrorCode.SHARD_NOT_HELD, 'the holder does not have this shard')
        continue
      }
      const problem = checkShard(session.header, answer)
      if (problem) this.#settle(session, holder, index, false, problem.code, problem.reason)
      else this.#settle(session, holder, index, true)
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
        // It spoke: not silent. The retry is timed from its own start, as the hedge times it.
        session.waiting.delete(member.index)
        try {
          await sleep(SAMPLE_RETRY_DELAY_MS, undefined, opts.signal ? { signal: opts.signal } : {})
        } catch {
          throw p2pError(P2pErrorCode.ABORTED, 'sampling was stopped')
        }
      }
    }
  }

  /**
   * One attempt of a request. Past the session's hedge delay (timed from this attempt's start, so a holder that
   * answered NODE_BUSY or dropped a stream is not silent) the holder is remembered silent; past the request's
   * deadline the attempt is cut and fails NODE_SILENT, whatever stage the stalled exchange was at (dial,
   * handshake, request): a refused dial or a dropped stream fails first with its own code. The cut aborts the
   * exchange.
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
    startWaiting(session, member.index, started, cold)
    let stop = session.holderStops.get(member.index)
    if (stop === undefined) {
      stop = new AbortController()
      session.holderStops.set(member.index, stop)
    }
    const cut = new AbortController()
    // Past the hedge delay the holder is remembered silent, for later checks, but its request runs on: a holder
    // that is only slow (a loaded client dialling many holders at once) still answers, which clears the memory,
    // and only the request timeout fails it. This check stopped waiting for it at the speculation delay already.
    const disarm = session.hedge.watch(started, cold, (report) => {
      this.#logger.debug('holder silent past the hedge delay', { member: member.index, reason: silenceReason(report) })
      this.#silent.markSilent(member.peerId)
    })
    const timer = setTimeout(
      () => cut.abort(silentPastTimeout(limit.timeoutMs)),
      Math.max(0, Math.ceil(limit.deadline - started)),
    )
    const signal = AbortSignal.any([cut.signal, stop.signal, ...(opts.signal ? [opts.signal] : [])])
    try {
      // The dial first, on its own: a refusal is a failed dial whatever libp2p makes of several addresses.
      if (cold) await untilAborted(dialHolder(this.#init.libp2p, peer, signal), signal)
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
      if (stop.signal.aborted) throw p2pError(P2pErrorCode.ABORTED, 'the holder failed in another request')
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
