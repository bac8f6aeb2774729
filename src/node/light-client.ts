import { randomInt } from 'node:crypto'
import type { Certificate } from '../attest/certificate.ts'
import { decodeCertificate } from '../attest/certificate-codec.ts'
import { verifyCertificate } from '../attest/verify-certificate.ts'
import { assignShards } from '../committee/assignment.ts'
import type { Committee } from '../committee/committee.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { blobIdOf } from '../erasure/blob-id.ts'
import { encodeHeader } from '../erasure/header.ts'
import { type Logger, silentLogger } from '../logger.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { SampleStreams } from '../p2p/sample-streams.ts'
import { isTimerDelay, MAX_TIMER_MS } from '../timer-limit.ts'
import {
  availabilityConfidence,
  confidenceAfterRounds,
  roundAllowance,
  roundEnds,
  samplesForTarget,
} from './confidence.ts'
import { closableCall, NodeErrorCode, nodeError } from './errors.ts'
import { Hedge, RecentSlowest } from './hedge.ts'
import { HolderRequests } from './holder-requests.ts'
import { type Session, suspect, untilProgress } from './light-session.ts'
import type { SampleOptions, SampleResult, SampleUnanswered } from './light-types.ts'
import { DEFAULT_SILENT_MEMORY_MS, SilentHolders } from './silent-holders.ts'

export { DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS, SAMPLE_RETRY_DELAY_MS } from './holder-requests.ts'
export type {
  SampleFailure,
  SampleOptions,
  SampleOutcome,
  SampleResult,
  SampleUnanswered,
} from './light-types.ts'

/** Default target: the chance that an unavailable blob looks available is below one in a million. */
export const DEFAULT_TARGET_CONFIDENCE = 1 - 1e-6
/** Samples at most per call: enough to reach the default target with a third of the stake offline. */
export const DEFAULT_MAX_SAMPLES = 256
/** The most samples a check may be allowed (SampleOptions.maxSamples). */
export const MAX_MAX_SAMPLES = 100_000
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
  readonly #holders: HolderRequests
  readonly #streams: SampleStreams
  /** Aborted by close(): calls after it are refused, and calls under way end (NODE_SHUTTING_DOWN). */
  readonly #closing = new AbortController()

  constructor(init: LightClientInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger
    const memoryMs = init.silentMemoryMs ?? DEFAULT_SILENT_MEMORY_MS
    if (!(memoryMs >= 0)) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `silentMemoryMs must be 0 or more, got ${memoryMs}`)
    }
    this.#silent = new SilentHolders(memoryMs)
    this.#streams = new SampleStreams(init.libp2p)
    this.#holders = new HolderRequests({
      libp2p: init.libp2p,
      logger: this.#logger,
      silent: this.#silent,
      coldAnswers: this.#coldAnswers,
      streams: this.#streams,
    })
  }

  /**
   * Closes the client: the sample streams kept open between checks close at once, a check under way ends, and later
   * checks are refused, each with NODE_SHUTTING_DOWN (a closed client would otherwise find every holder silent).
   */
  close(): void {
    this.#closing.abort(nodeError(NodeErrorCode.SHUTTING_DOWN, 'the light client was closed'))
    this.#streams.close()
  }

  /** Verifies a certificate against the committee of the epoch it names; throws its typed error if invalid. */
  async verify(certificate: Certificate | Uint8Array): Promise<{ certificate: Certificate; committee: Committee }> {
    const cert = certificate instanceof Uint8Array ? decodeCertificate(certificate) : certificate
    const committee = await this.#init.committees.getCommittee(cert.epoch)
    verifyCertificate(cert, committee)
    return { certificate: cert, committee }
  }

  async sample(certificate: Certificate | Uint8Array, opts: SampleOptions = {}): Promise<SampleResult> {
    // A closed client has no connections left: a check now would find every holder silent and call the blob
    // unavailable. It is refused, and a check under way when the client closes ends with it.
    return closableCall(this.#closing.signal, opts.signal, 'the check', (signal) =>
      this.#sample(certificate, { ...opts, signal }),
    )
  }

  async #sample(certificate: Certificate | Uint8Array, opts: SampleOptions): Promise<SampleResult> {
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
    const { hedgeDelayMs, requestTimeoutMs } = opts
    // A timer past MAX_TIMER_MS fires at once: such a delay would cut (or hedge) every request on the spot.
    if (
      hedgeDelayMs !== undefined &&
      !(hedgeDelayMs === 0 || hedgeDelayMs === Infinity || isTimerDelay(hedgeDelayMs))
    ) {
      throw nodeError(
        NodeErrorCode.INVALID_OPTIONS,
        `hedgeDelayMs must be 0, a whole number of milliseconds up to ${MAX_TIMER_MS}, or Infinity, got ${hedgeDelayMs}`,
      )
    }
    if (requestTimeoutMs !== undefined && !isTimerDelay(requestTimeoutMs)) {
      throw nodeError(
        NodeErrorCode.INVALID_OPTIONS,
        `requestTimeoutMs must be a whole number of milliseconds in 1..${MAX_TIMER_MS}, got ${requestTimeoutMs}`,
      )
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
    if (dialAhead > 0) this.#holders.dialAhead(session, dialAhead)
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
      this.#holders.ask(session, [...new Set(draws.slice(from))])
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
      const bound = availabilityConfidence(samples, successes, distinct.size, header.k, header.n)
      const passes = 1 - bound <= roundAllowance(target, round)
      const spent = distinct.size >= header.k ? 1 : confidenceAfterRounds(target, round, bound)
      // A round that did not pass never reads as reaching the target (its bound can sit just above its allowance
      // while what the rounds before were allowed leaves the figure a hair above the target).
      return {
        round,
        samples,
        successes,
        confidence: passes ? spent : Math.min(spent, target - Number.EPSILON),
        passes,
      }
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
          return holder !== undefined && !suspect(session, holder, now)
        }
        if (drawnRounds() < ends.length) {
          if (!passing(answerable)) {
            drawRound()
            continue
          }
        } else if (
          [...session.pending.values()].every((holder) => suspect(session, holder, now)) &&
          !passing((index) => succeeded(index) || session.pending.has(index))
        ) {
          // Every round is drawn, every holder that may still answer soon has, and none can pass even if the
          // silent ones answer after all: unavailable. Until then the verdict waits for them, each at most its
          // request timeout: a holder is never failed for being slower than the others, only for its own failure,
          // a refused dial or the timeout.
          return evidence(ends.length, succeeded)
        }
        await untilProgress(session, now)
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
}
