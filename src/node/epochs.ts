import type { Committee } from '../committee/committee.ts'
import { CommitteeErrorCode, committeeError } from '../committee/errors.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { isDacnetError } from '../errors.ts'
import { NodeErrorCode, nodeError } from './errors.ts'

/**
 * How long after the epoch in force changed a member still takes stores for the epoch before it. Parties read
 * the chain (or reload a file) at different moments, so a sequencer may still disperse under the old epoch for a
 * few polls; 30 s covers several polls at mainnet block times without keeping the old committee open for long.
 */
export const DEFAULT_PREVIOUS_EPOCH_GRACE_MS = 30_000

/**
 * The epoch in force, from the source when it says (a chain's epoch at `head − confirmations`), else the newest
 * epoch it lists. Dispersal uses it; shards and certificates of earlier epochs stay valid until retention ends.
 */
export async function currentEpoch(committees: CommitteeSource): Promise<number> {
  if (committees.currentEpoch) return committees.currentEpoch()
  const epoch = (await committees.epochs()).at(-1)
  if (epoch === undefined) throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, 'the committee source lists no epoch')
  return epoch
}

export async function currentCommittee(committees: CommitteeSource): Promise<Committee> {
  return committees.getCommittee(await currentEpoch(committees))
}

/**
 * Least time between two source refreshes a store asks for (a stream from a peer the member does not know as a
 * sequencer, `anyAccepted`, or a header naming a later epoch than the one in force, `committeeFor`): peers opening
 * streams cannot make the member ask its chain RPC more often than this.
 */
export const MIN_SENDER_REFRESH_INTERVAL_MS = 2_000

export interface StoreEpochsOptions {
  /** DEFAULT_PREVIOUS_EPOCH_GRACE_MS when absent. */
  previousEpochGraceMs?: number
  /** Milliseconds clock; Date.now when absent (tests move it). */
  now?: () => number
}

/**
 * Which epochs a member takes stores for: the epoch in force and, for a grace period after it changed, the one
 * in force before it. A store for a later epoch than the member knows makes it ask its source for news (the
 * sequencer may have seen the new epoch first) before refusing, at most once per MIN_SENDER_REFRESH_INTERVAL_MS.
 */
export class StoreEpochs {
  readonly #committees: CommitteeSource
  readonly #graceMs: number
  readonly #now: () => number
  #current: number | undefined
  #previous: number | undefined
  #changedAt = 0
  #lastRefresh = Number.NEGATIVE_INFINITY
  #refreshing: Promise<void> | undefined

  constructor(committees: CommitteeSource, options: StoreEpochsOptions = {}) {
    const grace = options.previousEpochGraceMs ?? DEFAULT_PREVIOUS_EPOCH_GRACE_MS
    if (!Number.isSafeInteger(grace) || grace < 0) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'previousEpochGraceMs must be a non-negative integer')
    }
    this.#committees = committees
    this.#graceMs = grace
    this.#now = options.now ?? Date.now
  }

  /** The committee of `epoch` if stores for it are taken now; NODE_STALE_EPOCH otherwise. */
  async committeeFor(epoch: number): Promise<Committee> {
    let current = await this.#observe()
    if (epoch > current && (await this.#refresh())) current = await this.#observe()
    // The grace covers the epoch just before the one in force, and the one this member saw in force before it
    // (the same, unless the member took no store for a whole epoch or its source lists epochs with gaps).
    const inGrace =
      (epoch === this.#previous || epoch === current - 1) && this.#now() - this.#changedAt <= this.#graceMs
    const stale = () =>
      nodeError(NodeErrorCode.STALE_EPOCH, `stores are accepted for epoch ${current}, not ${epoch}`, {
        epoch,
        current,
      })
    if (epoch !== current && !inGrace) throw stale()
    try {
      return await this.#committees.getCommittee(epoch)
    } catch (err) {
      // The epoch before the one in force, in its grace, but with no committee of its own (the source lists epochs
      // with gaps, or the member's first epoch is the one in force): not an epoch stores are taken for.
      if (epoch !== current && isDacnetError(err, CommitteeErrorCode.UNKNOWN_EPOCH)) throw stale()
      throw err
    }
  }

  /**
   * Whether `test` holds for the committee of an epoch stores are taken for now: the one in force, or the one
   * before it within its grace. When none passes, the source is asked for news (at most once per
   * MIN_SENDER_REFRESH_INTERVAL_MS) and the epoch in force then is tried too: a sequencer may see a new epoch first.
   */
  async anyAccepted(test: (committee: Committee) => boolean): Promise<boolean> {
    const check = async () => {
      const current = await this.#observe()
      const epochs = [current]
      const inGrace = this.#now() - this.#changedAt <= this.#graceMs
      if (inGrace && this.#previous !== undefined) epochs.push(this.#previous)
      if (inGrace && current > 0 && this.#previous !== current - 1) epochs.push(current - 1)
      for (const epoch of epochs) {
        const committee = await this.#committees.getCommittee(epoch).catch(() => undefined)
        if (committee && test(committee)) return true
      }
      return false
    }
    if (await check()) return true
    return (await this.#refresh()) && check()
  }

  /**
   * Asks the source for news unless it was asked less than MIN_SENDER_REFRESH_INTERVAL_MS ago; whether it was. A
   * refresh still under way is waited for by every caller (stores for a new epoch arriving together all see it).
   */
  async #refresh(): Promise<boolean> {
    if (this.#refreshing) {
      await this.#refreshing
      return true
    }
    if (!this.#committees.refresh || this.#now() - this.#lastRefresh < MIN_SENDER_REFRESH_INTERVAL_MS) return false
    this.#lastRefresh = this.#now()
    this.#refreshing = this.#committees.refresh().finally(() => {
      this.#refreshing = undefined
    })
    await this.#refreshing
    return true
  }

  async #observe(): Promise<number> {
    const current = await currentEpoch(this.#committees)
    if (this.#current === undefined) {
      // The first look (the member's first store since it started): when the epoch in force began is not known, so
      // the grace for the one before counts from now. Else a member whose first store comes just after a change
      // would refuse a sequencer still a poll behind, and the grace would help only members that stored before.
      this.#changedAt = this.#now()
    } else if (current > this.#current) {
      this.#previous = this.#current
      this.#changedAt = this.#now()
    } else if (this.#current !== undefined && current < this.#current) {
      this.#previous = undefined // the source went back (a file reloaded, a deep reorg): no grace for either
    }
    this.#current = current
    return current
  }
}
