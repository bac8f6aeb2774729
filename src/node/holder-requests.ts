import { setTimeout as sleep } from 'node:timers/promises'
import type { PeerId } from '@libp2p/interface'
import type { Member } from '../committee/member.ts'
import { checkShard } from '../erasure/decode.ts'
import { DacnetError, isDacnetError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { P2pErrorCode, p2pError } from '../p2p/errors.ts'
import { MAX_SAMPLE_INDICES } from '../p2p/limits.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import type { SampleAnswer } from '../p2p/sample.ts'
import type { SampleStreams } from '../p2p/sample-streams.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { type RecentSlowest, silenceIn, silenceReason, silentPastTimeout } from './hedge.ts'
import { dialFailure, dialHolder, untilAborted } from './holder-dial.ts'
import { refusedByHolder, worthAskingAgain } from './holder-replies.ts'
import { type Session, startWaiting } from './light-session.ts'
import type { SampleOptions } from './light-types.ts'
import { memberPeer } from './peers.ts'
import type { SilentHolders } from './silent-holders.ts'

/** Time allowed for one holder to answer one request. */
export const DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS = 5_000
/** Pause before asking a holder again after a dropped stream, NODE_BUSY or P2P_RATE_LIMITED. */
export const SAMPLE_RETRY_DELAY_MS = 200
/** A retry is only worth making with at least this much of the request's time left. */
const MIN_RETRY_TIME_MS = 250

export interface HolderRequestsInit {
  libp2p: DacnetLibp2p
  logger: Logger
  /** What the client remembers of holders across checks: silent or down. */
  silent: SilentHolders
  /** How long new connections took to answer lately, across checks: the hedge's guide for a new connection. */
  coldAnswers: RecentSlowest
  /** The streams requests go on, kept open between them. */
  streams: SampleStreams
}

/**
 * The holder side of a light-client check: its dials ahead, its requests to holders (queued per holder, one out
 * at a time, retried once), the probes of holders remembered silent, and each sample's outcome as it settles.
 * LightClient.sample decides from the outcomes; this asks.
 */
export class HolderRequests {
  readonly #libp2p: DacnetLibp2p
  readonly #logger: Logger
  readonly #silent: SilentHolders
  readonly #coldAnswers: RecentSlowest
  readonly #streams: SampleStreams

  constructor(init: HolderRequestsInit) {
    this.#libp2p = init.libp2p
    this.#logger = init.logger
    this.#silent = init.silent
    this.#coldAnswers = init.coldAnswers
    this.#streams = init.streams
  }

  /**
   * Opens connections to the committee's holders as the check starts, up to `limit` dials at once, the holders
   * of most shards first: a holder drawn in a later round is then asked on a connection already open, and one
   * that refuses is known down before its samples are drawn. Holders remembered silent or down are left to their
   * probes. Dials still under way when the check concludes are abandoned.
   */
  dialAhead(session: Session, limit: number): void {
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
    const peer = await memberPeer(this.#libp2p, member)
    if (this.#libp2p.getConnections(peer).length > 0 || session.deadHolders.has(member.index)) return
    const since = performance.now()
    startWaiting(session, member.index, since, true)
    const { signal: caller } = session.opts
    const signal = AbortSignal.any([session.ended.signal, AbortSignal.timeout(timeoutMs), ...(caller ? [caller] : [])])
    try {
      await this.#libp2p.dial(peer, { signal })
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
  ask(session: Session, indices: number[]): void {
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
   * may be stopped): its indices stay out meanwhile, not waited for (`suspect`), and fail if the probe gets no
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
    let answers: Map<number, SampleAnswer>
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

  /**
   * One request to a remembered silent holder, outside any check: it resolves if the holder answers, with its
   * shard or with an ERROR of its own (NODE_BUSY, P2P_RATE_LIMITED, …: a holder that refuses is not silent), and
   * is sent once more on a stream that ended before any reply, as any request is.
   */
  async #probe(session: Session, member: Member, index: number, opts: SampleOptions): Promise<void> {
    const peer = await memberPeer(this.#libp2p, member)
    const ask = () =>
      this.#streams
        .request(peer, session.blobId, [index], {
          shardSize: session.header.shardSize,
          timeoutMs: opts.requestTimeoutMs ?? DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS,
        })
        .then(
          () => undefined,
          (err: unknown) => {
            if (!refusedByHolder(err)) throw err
          },
        )
    await ask().catch((err: unknown) => {
      if (isDacnetError(err, P2pErrorCode.STREAM_ENDED)) return ask()
      throw err
    })
  }

  /**
   * One sample request to a holder, asked once more after a pause after a failure that says nothing about the
   * holder's data (worthAskingAgain: a dropped stream, NODE_BUSY, P2P_RATE_LIMITED).
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
        const timeLeft = deadline - performance.now() - SAMPLE_RETRY_DELAY_MS
        if (attempt > 0 || !worthAskingAgain(err) || timeLeft < MIN_RETRY_TIME_MS) throw err
        this.#logger.debug('sample request retried', { member: member.index, code: (err as DacnetError).code })
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
    const peer: PeerId = await memberPeer(this.#libp2p, member)
    const started = performance.now()
    // Whether the request must open a connection first: the hedge compares it with answers of its kind.
    const cold = this.#libp2p.getConnections(peer).length === 0
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
      if (cold) await untilAborted(dialHolder(this.#libp2p, peer, signal), signal)
      const request = this.#streams.request(peer, session.blobId, indices, {
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
