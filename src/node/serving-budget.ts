/**
 * Shard bytes (data and proof) a node serves per second, node-wide: sample, retrieve and the HTTP API together.
 * Requesters within their fair share of it (the budget divided by the requesters served in about the last
 * second) are served whether or not it is spent; the others wait for it, least served first. Ten identities each
 * just under the per-peer sample rate, asking 64 shards a request, wanted ~29,000 shards (~100 MB) a second of one
 * node holding a 1 MiB blob (3 KiB shards): the node served 100-290 of those requests a second, ran up to a full
 * core, and its garbage collector's pauses made the tail of an honest light client's samples (test/flood). At
 * 16 MiB/s (about 77 such requests a second) it ran at 37-50% of a core, with a full collection about every
 * 0.8 s (started mostly by the external memory of the shard bytes it read, framed and encrypted); at 8 MiB/s at
 * 26-28%, with half as many collections and the honest client's p99 8-17 ms against 16-28 ms (four alternating
 * runs each, BENCHMARKS.md). Honest traffic is far below: a light client checking a blob takes a few dozen shards
 * from the whole committee, and is within its fair share anyway; a retriever alone is within its share up to the
 * whole budget a second (it reads k shards, ~16 MiB of a 16 MiB blob, from a few members, ~3.3 MiB from each).
 */
export const DEFAULT_SERVING_BYTES_PER_SECOND = 8 * 1024 * 1024
/**
 * Bytes the budget lets through at once after a quiet spell: half a second's worth, 4 MiB at the default rate, more
 * than a member's part of a 16 MiB blob on 16 members (~3.3 MiB with its proofs, all of which a retriever may read
 * from it), so one retrieval after a quiet spell is not held back by the rate. Under a flood the bucket stays empty and the burst does not matter.
 */
export const SERVING_BURST_SECONDS = 0.5
/**
 * A requester's use is the bytes served to it, each forgotten with this time constant (an exponential decay): about
 * what it was served in the last second. One unserved for twice this long no longer counts among the requesters.
 */
export const USAGE_TIME_CONSTANT_MS = 1_000
/** How often the number of requesters served lately is counted again (it divides the budget into fair shares). */
const ACTIVE_RECOUNT_MS = 100
/** The first reads' cost estimate, before any was charged: a run of about 60 KiB. */
const INITIAL_READ_ESTIMATE_BYTES = 60 * 1024
/** Weight of each charged read in the running estimate of a read's cost. */
const ESTIMATE_WEIGHT = 0.1

interface Usage {
  bytes: number
  at: number
}

interface Waiter {
  readonly requester: string
  readonly grant: (reserved: number) => void
}

/** A read admitted: the bytes it reserved from the budget until it is charged. Refused: NOT_ADMITTED. */
export const NOT_ADMITTED = -1

export interface ServingBudgetOptions {
  /** A clock in ms (tests). Default performance.now. */
  now?: () => number
}

/**
 * A token bucket of bytes refilled at `bytesPerSecond`, shared fairly between requesters. A read is admitted with
 * an estimate of its cost (the running mean of reads charged) and charged what it really served once done, so the
 * bucket may go below zero; while it is, only requesters within their fair share are admitted at once, and the
 * others wait, to be admitted least served first as the bucket refills, or refused when their wait is up.
 */
export class ServingBudget {
  readonly bytesPerSecond: number
  readonly #capacity: number
  readonly #now: () => number
  #tokens: number
  #refilledAt: number
  #estimate = INITIAL_READ_ESTIMATE_BYTES
  readonly #usage = new Map<string, Usage>()
  #active = 0
  #countedAt = Number.NEGATIVE_INFINITY
  readonly #waiters: Waiter[] = []
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(bytesPerSecond: number, opts: ServingBudgetOptions = {}) {
    this.bytesPerSecond = bytesPerSecond
    this.#capacity = bytesPerSecond * SERVING_BURST_SECONDS
    this.#now = opts.now ?? (() => performance.now())
    this.#tokens = this.#capacity
    this.#refilledAt = this.#now()
  }

  /** Reads waiting for the budget right now. */
  get waiting(): number {
    return this.#waiters.length
  }

  /** Requesters served in about the last two seconds (as last counted). */
  get activeRequesters(): number {
    this.#countActive(this.#now())
    return this.#active
  }

  /** `requester`'s use now: bytes served to it, decayed (about its last second's). */
  usageOf(requester: string): number {
    const usage = this.#usage.get(requester)
    return usage === undefined ? 0 : decayed(usage, this.#now())
  }

  /** The bytes a requester may have been served lately and still be admitted when the budget is spent. */
  get fairShare(): number {
    return this.bytesPerSecond / Math.max(1, this.activeRequesters)
  }

  /**
   * Admits a read of `requester`'s at once if the budget has room, or if the requester is within its fair share:
   * the bytes reserved for it (give them to `charge`), else NOT_ADMITTED (then `admit` waits for room).
   */
  admitNow(requester: string): number {
    const now = this.#refill()
    if ((this.#tokens > 0 && this.#waiters.length === 0) || this.#withinShare(requester, now)) return this.#reserve()
    return NOT_ADMITTED
  }

  /** `admitNow`, or a wait of up to `waitMs` for the budget to have room for `requester`: least served first. */
  admit(requester: string, waitMs: number): Promise<number> {
    const reserved = this.admitNow(requester)
    if (reserved !== NOT_ADMITTED || waitMs <= 0) return Promise.resolve(reserved)
    return new Promise((resolve) => {
      const waiter: Waiter = {
        requester,
        grant: (bytes) => {
          clearTimeout(timer)
          resolve(bytes)
        },
      }
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter)
        if (at >= 0) this.#waiters.splice(at, 1)
        resolve(NOT_ADMITTED)
      }, waitMs)
      this.#waiters.push(waiter)
      this.#schedule()
    })
  }

  /** A read admitted with `reserved` bytes served `bytes` (0 when it failed): both the budget and the requester pay. */
  charge(requester: string, bytes: number, reserved: number): void {
    const now = this.#refill()
    // At most a second's worth of debt: reads within their share can outrun the budget for a while, and the
    // others should not wait for longer than that once they stop.
    this.#tokens = Math.max(-this.bytesPerSecond, this.#tokens - (bytes - reserved))
    if (bytes > 0) {
      this.#estimate += (bytes - this.#estimate) * ESTIMATE_WEIGHT
      const usage = this.#usage.get(requester)
      if (usage === undefined) {
        this.#usage.set(requester, { bytes, at: now })
        this.#active++
      } else {
        usage.bytes = decayed(usage, now) + bytes
        usage.at = now
      }
    }
    if (this.#waiters.length > 0) this.#schedule()
  }

  #reserve(): number {
    const reserved = Math.round(this.#estimate)
    this.#tokens -= reserved
    return reserved
  }

  #withinShare(requester: string, now: number): boolean {
    const usage = this.#usage.get(requester)
    if (usage === undefined) return true
    this.#countActive(now)
    return decayed(usage, now) < this.bytesPerSecond / Math.max(1, this.#active)
  }

  /** Refills the bucket for the time since the last refill; returns now. */
  #refill(): number {
    const now = this.#now()
    const elapsed = now - this.#refilledAt
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.bytesPerSecond) / 1000)
      this.#refilledAt = now
    }
    return now
  }

  /** Counts the requesters served lately, forgetting those unserved for 2 time constants; at most every 100 ms. */
  #countActive(now: number): void {
    if (now - this.#countedAt < ACTIVE_RECOUNT_MS) return
    this.#countedAt = now
    for (const [requester, usage] of this.#usage) {
      if (now - usage.at > 2 * USAGE_TIME_CONSTANT_MS) this.#usage.delete(requester)
    }
    this.#active = this.#usage.size
  }

  /** Admits waiters, least served first, while the bucket has room; then waits for it to refill. */
  #dispatch(): void {
    this.#timer = undefined
    const now = this.#refill()
    while (this.#waiters.length > 0 && this.#tokens > 0) {
      let best = 0
      let least = Number.POSITIVE_INFINITY
      for (let i = 0; i < this.#waiters.length; i++) {
        const usage = this.#usage.get(this.#waiters[i]!.requester)
        const bytes = usage === undefined ? 0 : decayed(usage, now)
        if (bytes < least) {
          least = bytes
          best = i
        }
      }
      const [waiter] = this.#waiters.splice(best, 1)
      waiter!.grant(this.#reserve())
    }
    if (this.#waiters.length > 0) this.#schedule()
  }

  #schedule(): void {
    if (this.#timer !== undefined) return
    const short = Math.max(0, this.#estimate - this.#tokens)
    const ms = Math.max(1, Math.ceil((short * 1000) / this.bytesPerSecond))
    this.#timer = setTimeout(() => this.#dispatch(), ms)
  }
}

function decayed(usage: Usage, now: number): number {
  const age = now - usage.at
  return age <= 0 ? usage.bytes : usage.bytes * Math.exp(-age / USAGE_TIME_CONSTANT_MS)
}
