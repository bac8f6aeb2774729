import type { Assignment } from '../committee/assignment.ts'
import type { Committee } from '../committee/committee.ts'
import type { BlobId } from '../erasure/blob-id.ts'
import type { BlobHeader } from '../erasure/header.ts'
import type { DacnetError } from '../errors.ts'
import type { Hedge } from './hedge.ts'
import type { SampleFailure, SampleOptions } from './light-types.ts'

/** The state of one light-client check (LightClient.sample), shared by its verdict loop and its requests. */
export interface Session {
  header: BlobHeader
  blobId: BlobId
  assignment: Assignment
  committee: Committee
  opts: SampleOptions
  /** Index -> whether it came back with a valid proof. */
  outcomes: Map<number, boolean>
  /** Index asked, no outcome yet -> its holder. */
  pending: Map<number, number>
  /** Index -> when it was asked. */
  askedAt: Map<number, number>
  /** Holder -> indices drawn for it and not sent yet (HolderRequests.ask). */
  queues: Map<number, number[]>
  /** Holders with a request out. */
  asking: Set<number>
  /**
   * Holder asked (or dialled ahead) and not heard from yet -> since when, and whether it had to connect first:
   * what `suspect` compares with the speculation delay.
   */
  waiting: Map<number, { since: number; cold: boolean }>
  /** Holders that failed outright (or timed out) this session: their other indices fail without a dial. */
  deadHolders: Map<number, DacnetError>
  /** Per holder asked: aborts its requests still out once it has failed in one of them. */
  holderStops: Map<number, AbortController>
  /** Set once the check has its verdict: outcomes still coming are no longer reported (onOutcome). */
  concluded: boolean
  /** Aborted once the check has its verdict: ends its dials ahead. */
  ended: AbortController
  /** Wakes the check to look at its evidence again (untilProgress). */
  wake: () => void
  /** What went wrong outside any request (a caller's onOutcome threw): the check rejects with it. */
  failed?: unknown
  /** Holders remembered silent from earlier checks, asked once their probe answers (HolderRequests). */
  presumedSilent: Set<number>
  /** When a silent holder is remembered silent, and the speculation delay (hedge.ts). */
  hedge: Hedge
  failures: SampleFailure[]
  /** Shard and proof bytes received so far (SampleResult.bytes). */
  bytes: number
}

/**
 * `holder` is asked (or dialled ahead) from `since`, over a new connection when `cold`, unless it is waited for
 * already: the check wakes to set its next speculation timer for this holder too.
 */
export function startWaiting(session: Session, holder: number, since: number, cold: boolean): void {
  if (session.waiting.has(holder)) return
  session.waiting.set(holder, { since, cold })
  session.wake()
}

/** Whether `holder`, asked and not heard from, has been silent past the speculation delay (hedge.ts). */
export function suspect(session: Session, holder: number, now: number): boolean {
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
export function untilProgress(session: Session, now: number): Promise<void> {
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
