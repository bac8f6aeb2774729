/** Requester key of reads nobody in particular asked for (the node's own, or a caller that names none). */
export const UNNAMED_REQUESTER = ''

export interface SlotsOptions {
  /** Slots one requester holds at once (at most `size`). Default `size`. */
  perRequester?: number
  /** Slots granted per turn of the event loop at most. Default `size`. */
  grantsPerTurn?: number
}

interface Waiter {
  readonly requester: string
  readonly grant: () => void
}

/**
 * A counting semaphore shared by requesters, fair between them. Each requester holds at most `perRequester`
 * slots at once. Waiters are served by requester, each requester's own in arrival order: first those that held
 * nothing and had nothing queued when they asked (newcomers, in arrival order), then the others round-robin. So a
 * light client asking now and then waits for about one grant per other newcomer, and any requester for about one
 * per busy requester, never for anyone's whole queue. Waiters give up after a while.
 *
 * At most `grantsPerTurn` slots are granted per turn of the event loop: at once while nobody waits, then from a
 * macrotask (setImmediate) on the following turns. Work done under a slot is often synchronous (LevelDB's sync
 * reads, proof checks, framing, encryption, the socket write). Granted at once without a bound, a request's reads
 * would run as one chain of microtasks inside the I/O callback that brought the request, and a node under a flood
 * would serve requests whole, in the order their bytes arrived, before reading any other socket: a newcomer's
 * request would not even reach the queue. Bounded, every turn reads whatever arrived (cheap: a request is parsed
 * and queued) and serves a few runs of work, in the order above.
 */
export class Slots {
  readonly size: number
  readonly perRequester: number
  readonly grantsPerTurn: number
  #free: number
  /** Grants left this turn of the event loop. */
  #budget: number
  /** Slots each requester holds now (absent: none). */
  readonly #held = new Map<string, number>()
  /**
   * Each requester's waiters, oldest first, in two lines. `#newcomers`: requesters that held no slot and had
   * nothing queued when they asked, in arrival order; they go first. `#rotation`: requesters being served, in turn
   * order: a requester served with more queued goes last. A light client asking now and then is always a newcomer.
   */
  readonly #newcomers = new Map<string, Waiter[]>()
  readonly #rotation = new Map<string, Waiter[]>()
  /** A turn is scheduled: the budget is refilled and waiters served on the next check phase. */
  #scheduled = false

  constructor(size: number, opts: SlotsOptions = {}) {
    this.size = size
    this.perRequester = Math.max(1, Math.min(size, opts.perRequester ?? size))
    this.grantsPerTurn = Math.max(1, opts.grantsPerTurn ?? size)
    this.#free = size
    this.#budget = this.grantsPerTurn
  }

  /** Slots taken right now. */
  get taken(): number {
    return this.size - this.#free
  }

  /** Slots `requester` holds right now. */
  heldBy(requester: string): number {
    return this.#held.get(requester) ?? 0
  }

  /** Requesters waiting for a slot right now. */
  get waitingRequesters(): number {
    return this.#newcomers.size + this.#rotation.size
  }

  /**
   * True once a slot is taken for `requester`; false if none came its way within `waitMs` (with `waitMs` <= 0:
   * unless one is free for it right now). A requester holding `perRequester` slots waits for one of its own to
   * come back, whatever else is free.
   */
  take(requester: string, waitMs: number): Promise<boolean> {
    const now =
      this.#free > 0 && this.#budget > 0 && this.waitingRequesters === 0 && this.heldBy(requester) < this.perRequester
    if (now || waitMs <= 0) {
      if (now) this.#grant(requester)
      return Promise.resolve(now)
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        requester,
        grant: () => {
          clearTimeout(timer)
          resolve(true)
        },
      }
      const timer = setTimeout(() => {
        this.#leave(waiter)
        resolve(false)
      }, waitMs)
      const queue = this.#newcomers.get(requester) ?? this.#rotation.get(requester)
      if (queue) queue.push(waiter)
      else if (this.heldBy(requester) === 0) this.#newcomers.set(requester, [waiter])
      else this.#rotation.set(requester, [waiter])
      this.#schedule()
    })
  }

  /** Returns a slot `requester` took; a waiter gets it on a coming turn. */
  give(requester: string): void {
    const held = this.heldBy(requester)
    if (held <= 1) this.#held.delete(requester)
    else this.#held.set(requester, held - 1)
    this.#free++
    if (this.waitingRequesters > 0) this.#schedule()
  }

  #grant(requester: string): void {
    this.#free--
    this.#budget--
    this.#held.set(requester, this.heldBy(requester) + 1)
    // The budget is this turn's: the next turn refills it.
    this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#budget = this.grantsPerTurn
      this.#dispatch()
    })
  }

  /** Grants free slots to waiters in order (newcomers, then the rotation), skipping requesters at their cap. */
  #dispatch(): void {
    while (this.#free > 0 && this.#budget > 0) {
      const next = this.#next(this.#newcomers) ?? this.#next(this.#rotation)
      if (next === undefined) return
      this.#grant(next.requester)
      next.grant()
    }
  }

  /** The first waiter in `line` whose requester may hold one more slot; its requester moves to the rotation's end. */
  #next(line: Map<string, Waiter[]>): Waiter | undefined {
    for (const [requester, queue] of line) {
      if (this.heldBy(requester) >= this.perRequester) continue
      const waiter = queue.shift()!
      line.delete(requester)
      if (queue.length > 0) this.#rotation.set(requester, queue)
      return waiter
    }
    return undefined
  }

  #leave(waiter: Waiter): void {
    for (const line of [this.#newcomers, this.#rotation]) {
      const queue = line.get(waiter.requester)
      if (!queue) continue
      const at = queue.indexOf(waiter)
      if (at >= 0) queue.splice(at, 1)
      if (queue.length === 0) line.delete(waiter.requester)
    }
  }
}
