/**
 * What a retrieval asks of which holder, and when it starts asking for parity shards.
 *
 * With the blob's header known (a certificate), every holder of original shards is asked for those alone (the range
 * 0..k−1 of /dacnet/retrieve/1.0.0, PROTOCOL.md §3.5), all at once: the k originals come from the whole committee in
 * parallel, each holder reading and sending its own part, and the blob needs no Reed–Solomon recovery. A holder slower
 * than the rest — down, stopped, loaded, or holding so large a part that its serving budget paces it — would then
 * hold up the whole retrieval, so parity shards (k..n−1) are asked of other holders once the originals pass has
 * dragged on (OriginalsHedge). Any k shards give the blob back, so the first k in hand
 * end the retrieval either way.
 */
import type { PeerId } from '@libp2p/interface'
import type { ShardRange } from '../p2p/retrieve.ts'

/** Shortest wait from the start of a retrieval before parity shards are asked for. */
export const HEDGE_MIN_MS = 50
/** An originals stream running this many times its expected duration opens the hedge. */
export const HEDGE_FACTOR = 2
/**
 * Until some originals stream has sent all it announced there is no rate to judge the others by: the hedge then opens
 * this long after the start (a retrieval of 16 MiB from a 16-member devnet reads its originals in ~0.3 s).
 */
export const HEDGE_BLIND_MS = 2_000

/** A holder the retriever may stream from, as the assignment (or a provider record) gives it. */
export interface Holder {
  peer: PeerId
  /** Original shards it is assigned (used to prefer holders of originals). */
  originals: number
  /** Parity shards it is assigned (used to prefer holders of many when originals are missing). */
  parity: number
  /** Found through a DHT provider record (anyone can publish one), not through the committee. */
  provider: boolean
}

/** One stream a retrieval may open: a holder, and which of its shards. */
export interface Ask {
  holder: Holder
  /** Only these shards; every held shard when absent. */
  range?: ShardRange
  /** Parity shards, asked only once the hedge has opened. */
  parity?: boolean
}

/** Whole shares from each holder, in the given order: for a blob whose header is not known yet. */
export function wholeShares(holders: readonly Holder[]): Ask[] {
  return holders.map((holder) => ({ holder }))
}

/**
 * The asks of a blob whose header is known: its originals of every holder of some, then its parity of every holder
 * of some, those with the most first.
 */
export function originalsFirst(holders: readonly Holder[], k: number): Ask[] {
  const originals = holders.filter((h) => h.originals > 0).map((holder) => ({ holder, range: { from: 0, to: k } }))
  const parity = holders
    .filter((h) => h.parity > 0)
    .sort((a, b) => b.parity - a.parity)
    .map((holder) => ({ holder, range: { from: k }, parity: true }))
  return [...originals, ...parity]
}

/**
 * When a retrieval's parity asks may start. Every originals stream starts at once; each holder's part takes time in
 * proportion to its size, so the streams that have ended give a rate (originals a millisecond per stream) and each
 * open one an expected duration. The hedge opens when every originals stream has ended, or once one still open has
 * run HEDGE_FACTOR times its expected duration (and at least HEDGE_MIN_MS): a holder down, stopped, or paced far
 * below the others. Before any stream has ended complete, it opens HEDGE_BLIND_MS after the start. Streams share
 * the retriever's connection capacity, so the first to end set a low rate, and the estimate errs towards waiting.
 */
export class OriginalsHedge {
  /** Resolves when parity shards may be asked for. */
  readonly opened: Promise<void>
  readonly #started: number
  readonly #now: () => number
  readonly #counts: ReadonlyMap<string, number>
  readonly #open: Set<string>
  #resolve: () => void = () => {}
  #isOpen = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #endedShards = 0
  #endedMs = 0

  /** `streams`: the originals streams by holder, each with the count of originals it holds. */
  constructor(streams: ReadonlyMap<string, number>, now: () => number = () => performance.now()) {
    this.#now = now
    this.#started = now()
    this.#open = new Set(streams.keys())
    this.#counts = streams
    this.opened = new Promise((resolve) => {
      this.#resolve = resolve
    })
    if (streams.size === 0) this.#openNow()
    else this.#openAt(HEDGE_BLIND_MS)
  }

  get isOpen(): boolean {
    return this.#isOpen
  }

  /** Originals streams it waits for. */
  get streams(): number {
    return this.#counts.size
  }

  /** The originals stream of `holder` ended: `complete` when it sent all it announced. */
  ended(holder: string, complete: boolean): void {
    if (!this.#open.delete(holder) || this.#isOpen) return
    if (this.#open.size === 0) {
      this.#openNow()
      return
    }
    if (complete) {
      this.#endedShards += this.#counts.get(holder) ?? 0
      this.#endedMs += this.#now() - this.#started
    }
    if (this.#endedShards === 0 || this.#endedMs <= 0) return
    const perMs = this.#endedShards / this.#endedMs
    const smallest = Math.min(...[...this.#open].map((open) => this.#counts.get(open) ?? 0))
    this.#openAt(Math.max(HEDGE_MIN_MS, (HEDGE_FACTOR * smallest) / perMs))
  }

  /** Stops the timer (the retrieval is over). */
  close(): void {
    clearTimeout(this.#timer)
  }

  /** Opens the hedge `ms` after the start (replacing the time set before). */
  #openAt(ms: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#openNow(), Math.max(0, this.#started + ms - this.#now()))
  }

  #openNow(): void {
    clearTimeout(this.#timer)
    this.#isOpen = true
    this.#resolve()
  }
}
