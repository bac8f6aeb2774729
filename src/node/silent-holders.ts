/**
 * Holders a light client found silent lately. A check that finds a holder silent pays one hedge delay to learn
 * it; the next checks should not pay it again for the same holder. A remembered holder's samples fail at once
 * (NODE_SILENT, which can only lower the confidence) while one request to it goes out in the background: the
 * first answer it gives clears the memory, so a holder that was only slow for a moment is back within one check.
 */

/** How long a holder found silent stays remembered without answering a probe. */
export const DEFAULT_SILENT_MEMORY_MS = 30_000

export class SilentHolders {
  readonly #memoryMs: number
  readonly #now: () => number
  /** Peer id -> when it was last found silent. */
  readonly #since = new Map<string, number>()
  readonly #probing = new Set<string>()

  /** `memoryMs` 0 remembers nothing. */
  constructor(memoryMs: number = DEFAULT_SILENT_MEMORY_MS, now: () => number = () => performance.now()) {
    this.#memoryMs = memoryMs
    this.#now = now
  }

  /** Milliseconds since `peerId` was found silent, if it is still remembered. */
  silentFor(peerId: string): number | undefined {
    const since = this.#since.get(peerId)
    if (since === undefined) return undefined
    const age = this.#now() - since
    if (age <= this.#memoryMs) return age
    this.#since.delete(peerId)
    return undefined
  }

  markSilent(peerId: string): void {
    if (this.#memoryMs > 0) this.#since.set(peerId, this.#now())
  }

  markAnswered(peerId: string): void {
    this.#since.delete(peerId)
  }

  /**
   * Runs `ask` against a remembered holder unless a probe of it is under way: an answer clears the memory, a
   * failure leaves it (and its age) as it was. Never rejects.
   */
  probe(peerId: string, ask: () => Promise<unknown>): void {
    if (this.#probing.has(peerId)) return
    this.#probing.add(peerId)
    ask()
      .then(
        () => this.markAnswered(peerId),
        () => {},
      )
      .finally(() => this.#probing.delete(peerId))
  }

  /** Probes under way (for a clean shutdown in tests). */
  get probing(): number {
    return this.#probing.size
  }
}
