import type { Committee } from '../committee/committee.ts'
import type { MemberFailure } from './dispersal-options.ts'
import { NodeErrorCode } from './errors.ts'

/**
 * The stake counted out of one round: members that failed (for good: their retry is spent) and members that are
 * silent (for now: one that makes progress again counts again). q is reachable while the rest of the stake —
 * signed or still possible — reaches it.
 */
export class StakeLedger {
  readonly #committee: Committee
  readonly #lost = new Map<number, MemberFailure>()

  constructor(committee: Committee) {
    this.#committee = committee
  }

  /** The member failed: it is out for the rest of the round. */
  fail(failure: MemberFailure): void {
    this.#lost.delete(failure.member)
    this.#lost.set(failure.member, failure)
  }

  /** The member is silent: out until it resumes. A member that already failed stays failed. */
  silence(failure: MemberFailure): void {
    if (!this.#lost.has(failure.member)) this.#lost.set(failure.member, failure)
  }

  /** The silent member made progress (or signed): it counts again. A failed member stays failed. */
  resume(member: number): void {
    if (this.#lost.get(member)?.code === NodeErrorCode.SILENT) this.#lost.delete(member)
  }

  isLost(member: number): boolean {
    return this.#lost.has(member)
  }

  /** Failed and silent members, in the order they were counted out. */
  lost(): MemberFailure[] {
    return [...this.#lost.values()]
  }

  silent(): MemberFailure[] {
    return this.lost().filter((f) => f.code === NodeErrorCode.SILENT)
  }

  get lostStake(): bigint {
    let sum = 0n
    for (const f of this.#lost.values()) sum += f.stake
    return sum
  }

  /** Whether signed plus still-possible stake (everything not lost) reaches q. */
  get reachable(): boolean {
    return this.#committee.reachesThreshold(this.#committee.totalStake - this.lostStake)
  }
}
