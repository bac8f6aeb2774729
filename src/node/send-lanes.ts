import type { Committee } from '../committee/committee.ts'
import type { Member } from '../committee/member.ts'

/**
 * Which members a dispersal sends to first, and how many exchanges it runs at once.
 *
 * A certificate needs q of the stake, not every member: the members holding the most stake get their shares
 * first, so that the sequencer's upload (n/k times the blob) and, where members share machines (the devnet), the
 * committee's CPU go to the stores that can certify before the others. The rest follow as lanes free up, and all at
 * once when the certificate is made: every member still gets its share, the stragglers' stores going on after the
 * certificate as before.
 */

/**
 * Lanes beyond those the certificate needs at the least, as a fraction of them: with exactly the fewest members that
 * reach q, the certificate waits for the slowest of them; half as many again lets it form from the first to answer.
 * 16-member devnet (skewed stakes: 7 members reach q, so 11 lanes), time to certificate p50 of isolated blobs, all
 * at once / 6 lanes / 10 lanes: 1 MiB 150 / 142 / 118 and 142 / 136 / 105 ms, 16 MiB 1,021 / 944 / 930 and 1,092 /
 * 906 / 1,017 ms; all at once / this default: 1 MiB 134 / 115 and 151 / 113 ms, 16 MiB 1,085 / 971 and 958 / 942 ms.
 */
export const SEND_LANES_MARGIN = 0.5

/** Members by stake, largest first (ties by index): the order their exchanges start in. */
export function sendOrder(committee: Committee): Member[] {
  return [...committee.members].sort((a, b) => (a.stake === b.stake ? a.index - b.index : a.stake > b.stake ? -1 : 1))
}

/**
 * The default number of exchanges at once: the fewest members whose stake, largest first, reaches q, and
 * SEND_LANES_MARGIN as many again (rounded up), at most the whole committee.
 */
export function defaultSendLanes(committee: Committee): number {
  let stake = 0n
  let needed = 0
  for (const member of sendOrder(committee)) {
    stake += member.stake
    needed++
    if (committee.reachesThreshold(stake)) break
  }
  return Math.min(committee.size, Math.ceil(needed * (1 + SEND_LANES_MARGIN)))
}

/** Frees a lane; calling it again does nothing. */
export type FreeLane = () => void

/** At most `count` exchanges at once; the others wait their turn in the order they asked, until `open`. */
export class SendLanes {
  #free: number
  readonly #waiting: ((free: FreeLane) => void)[] = []

  constructor(count: number) {
    this.#free = count
  }

  /** Resolves with the lane's release once one is free, or undefined if `signal` aborts first. */
  take(signal: AbortSignal): Promise<FreeLane | undefined> {
    if (signal.aborted) return Promise.resolve(undefined)
    if (this.#free > 0) {
      this.#free--
      return Promise.resolve(this.#release())
    }
    return new Promise((resolve) => {
      const grant = (free: FreeLane) => {
        signal.removeEventListener('abort', onAbort)
        resolve(free)
      }
      const onAbort = () => {
        const at = this.#waiting.indexOf(grant)
        if (at >= 0) this.#waiting.splice(at, 1)
        resolve(undefined)
      }
      this.#waiting.push(grant)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Every exchange waiting starts now, and any later one at once: the limit is lifted for good. */
  open(): void {
    this.#free = Number.POSITIVE_INFINITY
    for (const grant of this.#waiting.splice(0)) grant(() => {})
  }

  /** Exchanges waiting for a lane. */
  get waiting(): number {
    return this.#waiting.length
  }

  #release(): FreeLane {
    let freed = false
    return () => {
      if (freed) return
      freed = true
      const next = this.#waiting.shift()
      if (next) next(this.#release())
      else this.#free++
    }
  }
}
