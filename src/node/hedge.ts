/**
 * Hedging for light-client sampling: when to stop waiting for a holder that says nothing.
 *
 * A holder whose process is stopped (SIGSTOP, a hung machine) still has its TCP connections accepted by the
 * kernel, so a dial, a handshake or a request to it stalls instead of failing; left alone it costs the full
 * request timeout. Each shard has one holder, so hedging to other holders means drawing fresh indices, which land
 * on the others, instead of waiting. This module decides when. Two delays follow the same answers: past the
 * speculation delay a check stops waiting for a silent holder and draws its next round without it; past the
 * hedge delay the holder is remembered silent, so that later checks skip it at once. Neither fails the holder:
 * its request runs on until it answers (which clears the memory) or the request timeout. A holder that is only
 * slower than the rest — a loaded client dialling many holders at once — is never failed for it.
 *
 * The rule (`hedgeDelayMs` option of LightClient.sample):
 *  - an explicit delay > 0 applies as given, to every request from the first on;
 *  - an explicit 0 (or Infinity) turns hedging off: only the request timeout ends a wait;
 *  - otherwise the delay adapts to the answers of the call so far, timed from the moment each request went
 *    out, dial included. A holder is remembered silent once its request has waited
 *
 *        max(HEDGE_FLOOR_MS, HEDGE_MULTIPLIER × reference)
 *
 *    where the reference is the slowest complete answer of the same kind: requests that had to open a
 *    connection first ("cold": TCP, noise and muxer handshakes before the request's own round trip) are
 *    compared with cold answers, requests on an open connection ("warm") with warm ones. Without an answer
 *    of its kind yet, a warm request uses the slowest cold answer (a cold answer bounds a warm one from above)
 *    and a cold request the larger of HEDGE_NEW_CONNECTION_FACTOR × the slowest warm answer and the slowest of
 *    the client's last HEDGE_MEMORY cold answers (earlier calls included: a long-lived client whose
 *    connections are all open knows from them what a new one costs). Before any answer in the call there is
 *    nothing to tell silence from a slow network by: only the request timeout applies, so the first answers
 *    of every call set its scale.
 *
 * The slowest answer, not the median, is the reference: it only grows during a call, and a holder has to answer
 * to raise it, so a silent holder cannot push the delay up and holders as fast as the slowest healthy one are
 * never remembered silent. A holder more than HEDGE_MULTIPLIER times slower than every comparable one is
 * remembered silent until it answers: on committees whose members' round-trip times differ by more than that,
 * pass a fixed delay (or 0) instead.
 *
 * Counting a silent holder's samples as failures in a verdict reached without it keeps the confidence bound sound
 * (a failure can only lower it), and the next round's indices stay uniform over all shards.
 *
 * The speculation delay (speculationDelayFor) comes before the hedge delay: a holder silent that long is no longer
 * waited for before the next round's indices are drawn, so a check with silent holders concludes as soon as the
 * others' samples suffice. It only draws more samples sooner.
 */

import { DacnetError } from '../errors.ts'
import { P2pErrorCode } from '../p2p/errors.ts'
import { NodeErrorCode, nodeError } from './errors.ts'

/** The adaptive hedge delay never goes below this, so that jitter between fast answers marks no one silent (ms). */
export const HEDGE_FLOOR_MS = 150
/**
 * The adaptive hedge delay is this many times the slowest comparable answer so far: past it a holder is remembered
 * silent, and the checks that follow skip it at once (the check that found it drew past it at the speculation
 * delay already).
 */
export const HEDGE_MULTIPLIER = 2
/**
 * A request that must open a connection, while only requests on open connections have answered, may take
 * this many times their slowest answer before the multiplier: a new connection adds the TCP, noise and muxer
 * handshakes (three to four round trips, and the handshake's signatures) to the request's own one or two.
 */
export const HEDGE_NEW_CONNECTION_FACTOR = 4

/**
 * A hedge timer that fires more than this late (ms) finds a process that was busy: before reporting silence, it looks once
 * more, as long again (at most the delay) later.
 */
export const HEDGE_LATE_MS = 50

/**
 * A holder asked and silent for this many times the slowest comparable answer (never less than
 * SPECULATION_FLOOR_MS) is no longer waited for before the next round's indices are drawn: its samples count as
 * failures for the rounds that hold them until it answers (speculationDelayFor). Drawing early costs only samples,
 * so it comes well before the hedge delay, which decides when the holder is remembered silent.
 */
export const SPECULATION_MULTIPLIER = 1.5
/** The speculation delay never goes below this (ms): warm answers a few ms apart must not draw rounds for nothing. */
export const SPECULATION_FLOOR_MS = 50

/** Cold answers a light client remembers across calls (hedgeDelayFor's `coldBefore`). */
export const HEDGE_MEMORY = 16

/** The slowest complete answers of a sampling call so far (ms), by whether the request had to connect first. */
export interface AnswerTimes {
  /** Requests that had to open a connection to the holder first. */
  cold?: number | undefined
  /** Requests sent on a connection already open. */
  warm?: number | undefined
  /** The slowest of the client's last HEDGE_MEMORY cold answers before this call, if any. */
  coldBefore?: number | undefined
}

/**
 * The hedge delay (ms) for a request that is `cold` (had to connect first) or not, or undefined when it is not
 * to be remembered silent before its timeout. `fixedMs` is the caller's explicit delay; see the module comment for the rule.
 */
export function hedgeDelayFor(answers: AnswerTimes, cold: boolean, fixedMs?: number): number | undefined {
  if (fixedMs !== undefined) return fixedMs > 0 && Number.isFinite(fixedMs) ? fixedMs : undefined
  const basis = basisFor(answers, cold)
  return basis && Math.max(HEDGE_FLOOR_MS, Math.ceil(HEDGE_MULTIPLIER * basis.scaledMs))
}

/**
 * How long a silent holder is waited for before the next round is drawn without it (ms), or undefined for no
 * such limit: the adaptive rule's max(SPECULATION_FLOOR_MS, SPECULATION_MULTIPLIER × the slowest comparable
 * answer); with a fixed hedge delay, SPECULATION_MULTIPLIER / HEDGE_MULTIPLIER of it; none with hedging off.
 */
export function speculationDelayFor(answers: AnswerTimes, cold: boolean, fixedMs?: number): number | undefined {
  if (fixedMs !== undefined) {
    const hedge = hedgeDelayFor(answers, cold, fixedMs)
    return hedge && Math.ceil((hedge * SPECULATION_MULTIPLIER) / HEDGE_MULTIPLIER)
  }
  const basis = basisFor(answers, cold)
  return basis && Math.max(SPECULATION_FLOOR_MS, Math.ceil(SPECULATION_MULTIPLIER * basis.scaledMs))
}

/** What an adaptive delay follows: an answer time of the call (`ms`, `cold`), and what it makes of it. */
export interface HedgeBasis {
  ms: number
  cold: boolean
  /** The time the multiplier applies to: for a cold request, never below a cold answer remembered. */
  scaledMs: number
}

function basisFor(answers: AnswerTimes, cold: boolean): HedgeBasis | undefined {
  const own = cold ? answers.cold : answers.warm
  if (own !== undefined) return { ms: own, cold, scaledMs: own }
  if (cold) {
    if (answers.warm === undefined) return undefined
    const scaledMs = Math.max(HEDGE_NEW_CONNECTION_FACTOR * answers.warm, answers.coldBefore ?? 0)
    return { ms: answers.warm, cold: false, scaledMs }
  }
  return answers.cold === undefined ? undefined : { ms: answers.cold, cold: true, scaledMs: answers.cold }
}

/** The slowest of the last HEDGE_MEMORY times recorded: what a client remembers of new connections. */
export class RecentSlowest {
  readonly #times: number[] = []

  record(ms: number): void {
    this.#times.push(ms)
    if (this.#times.length > HEDGE_MEMORY) this.#times.shift()
  }

  get ms(): number | undefined {
    return this.#times.length === 0 ? undefined : Math.max(...this.#times)
  }
}

/** What a hedge saw when a request outlived its delay: the reason the holder is remembered silent. */
export interface SilenceReport {
  /** How long the request had gone unanswered (ms). */
  waitedMs: number
  delayMs: number
  /** Whether the request had to open a connection first. */
  cold: boolean
  /** The answer the adaptive delay followed; undefined for a fixed delay. */
  basis: HedgeBasis | undefined
}

const kindOf = (cold: boolean) => (cold ? 'on a new connection' : 'on an open connection')

export function silenceReason(report: SilenceReport): string {
  const waited = `silent for ${Math.round(report.waitedMs)} ms ${kindOf(report.cold)}`
  if (report.basis === undefined) return `${waited}: no answer within the hedge delay of ${report.delayMs} ms`
  const basis = `${Math.round(report.basis.ms)} ms ${kindOf(report.basis.cold)}`
  return `${waited}: no answer within the hedge delay of ${report.delayMs} ms (the slowest answer in this check took ${basis})`
}

/**
 * Runs `callback` once the I/O of the current event-loop turn is done: Node's `setImmediate`; where there is none
 * (a browser), a zero-delay timer, which browsers also run after the events already queued.
 */
function afterIo(callback: () => void): AfterIo {
  return typeof setImmediate === 'function' ? { immediate: setImmediate(callback) } : { timer: setTimeout(callback, 0) }
}

type AfterIo = { immediate: ReturnType<typeof setImmediate> } | { timer: ReturnType<typeof setTimeout> }

function cancelAfterIo(handle: AfterIo | undefined): void {
  if (handle === undefined) return
  if ('immediate' in handle) clearImmediate(handle.immediate)
  else clearTimeout(handle.timer)
}

interface Watch {
  startedAt: number
  cold: boolean
  onSilent: (report: SilenceReport) => void
  timer: ReturnType<typeof setTimeout> | undefined
  /** Set once the report is decided: it waits for this turn's I/O (see #report). */
  due: AfterIo | undefined
  /** Whether a late wake-up already bought this watch its one second look (see #sleep). */
  lookedAgain: boolean
}

/**
 * One sampling call's hedge: learns how long holders take to answer and calls back on each request that
 * outlives the delay in force for it. Every watch must be disarmed (the function `watch` returns) once its
 * request settles, which clears its timers.
 */
export class Hedge {
  readonly #fixedMs: number | undefined
  readonly #answers: AnswerTimes
  readonly #watches = new Set<Watch>()

  /**
   * `fixedMs`: the caller's explicit delay, or undefined for the adaptive rule (see the module comment);
   * `coldBeforeMs`: the slowest of the client's last cold answers before this call.
   */
  constructor(fixedMs?: number, coldBeforeMs?: number) {
    this.#fixedMs = fixedMs
    this.#answers = { coldBefore: coldBeforeMs }
  }

  /** The delay in force now for a request that is cold (had to connect first) or warm, undefined for none. */
  delayMs(cold: boolean): number | undefined {
    return hedgeDelayFor(this.#answers, cold, this.#fixedMs)
  }

  /** How long a silent holder is waited for before the next round is drawn without it (speculationDelayFor). */
  speculationMs(cold: boolean): number | undefined {
    return speculationDelayFor(this.#answers, cold, this.#fixedMs)
  }

  /** A holder answered a whole request `ms` after it went out: the delays may grow, for running watches too. */
  answered(ms: number, cold: boolean): void {
    const kind = cold ? 'cold' : 'warm'
    const slowest = this.#answers[kind]
    if (slowest !== undefined && ms <= slowest) return
    this.#answers[kind] = ms
    for (const watch of this.#watches) this.#arm(watch)
  }

  /**
   * Calls `onSilent` once if the request that went out at `startedAt` (performance.now()) is still unanswered
   * when the delay in force for it has passed, re-reading the delay whenever it changes. Returns the disarm
   * function.
   */
  watch(startedAt: number, cold: boolean, onSilent: (report: SilenceReport) => void): () => void {
    const watch: Watch = { startedAt, cold, onSilent, timer: undefined, due: undefined, lookedAgain: false }
    this.#watches.add(watch)
    this.#arm(watch)
    return () => {
      clearTimeout(watch.timer)
      cancelAfterIo(watch.due)
      this.#watches.delete(watch)
    }
  }

  /** Sets the watch's timer for the delay in force, or reports its request silent if that delay has passed. */
  #arm(watch: Watch): void {
    clearTimeout(watch.timer)
    watch.timer = undefined
    if (watch.due !== undefined) return
    const delayMs = this.delayMs(watch.cold)
    if (delayMs === undefined) return
    const left = delayMs - (performance.now() - watch.startedAt)
    if (left > 0) this.#sleep(watch, left)
    else this.#report(watch, delayMs)
  }

  /**
   * Wakes the watch after `ms`. A wake-up more than HEDGE_LATE_MS late means this process was busy (a long task,
   * a GC pause) while the holder may have answered, or — when holders run in this process — while it could not:
   * the watch then looks once more, as long again (at most the delay) later, before any report.
   */
  #sleep(watch: Watch, ms: number): void {
    const wakeAt = performance.now() + ms
    watch.timer = setTimeout(() => {
      const lateMs = performance.now() - wakeAt
      const delayMs = this.delayMs(watch.cold)
      if (lateMs > HEDGE_LATE_MS && !watch.lookedAgain && delayMs !== undefined) {
        watch.lookedAgain = true
        this.#sleep(watch, Math.min(lateMs, delayMs))
      } else {
        this.#arm(watch)
      }
    }, Math.ceil(ms))
  }

  /**
   * Reports the watch's request silent (its onSilent), after the I/O of the current turn of the event loop: timers
   * run before it, so an answer that came in meanwhile is read first, and its request disarms the watch.
   */
  #report(watch: Watch, delayMs: number): void {
    watch.due = afterIo(() => {
      if (!this.#watches.delete(watch)) return
      const basis = this.#fixedMs === undefined ? basisFor(this.#answers, watch.cold) : undefined
      watch.onSilent({ waitedMs: performance.now() - watch.startedAt, delayMs, cold: watch.cold, basis })
    })
  }
}

/** The failure of a request that got no answer within its timeout. */
export function silentPastTimeout(timeoutMs: number): DacnetError {
  return nodeError(NodeErrorCode.SILENT, `silent for ${timeoutMs} ms: no answer within the request timeout`)
}

/** A dial failure that is a timeout (a handshake that never completed), not a refusal. */
const STALLED_DIAL = /timed out|timeout/i

/**
 * A request's failure as silence (NODE_SILENT), or undefined when it says something else about the holder. A
 * timeout of the request is silence; so is a dial that libp2p gave up on after its own address timeout (6 s),
 * which it reports as a failed dial: the handshake stalled. A dial refused, a stream dropped or an ERROR reply
 * (whatever its code: the holder spoke) keep their codes. `waitedMs`: how long the request had been out.
 */
export function silenceIn(err: unknown, waitedMs: number, timeoutMs: number): DacnetError | undefined {
  if (!(err instanceof DacnetError) || err.meta.remote === true) return undefined
  if (err.code === P2pErrorCode.TIMEOUT) return silentPastTimeout(timeoutMs)
  if (err.code === P2pErrorCode.DIAL_FAILED && STALLED_DIAL.test(err.message)) {
    const ms = Math.round(waitedMs)
    return nodeError(NodeErrorCode.SILENT, `silent for ${ms} ms: the dial never completed (${err.message})`)
  }
  return undefined
}
