/**
 * Holders a light client found silent or down lately. A check that finds a holder silent pays one speculation
 * delay to learn it, and one that finds it down pays a refused dial; the next checks should not pay again for the
 * same holder. A remembered down holder's samples fail at once (P2P_DIAL_FAILED, which can only lower the
 * confidence); a remembered silent one's wait for one request to it, the probe, without being waited for: they go
 * out once it answers and fail (NODE_SILENT) if it does not. The first answer clears the memory, so a holder that
 * was only slow or away for a moment is back within one check, and one merely slow is never counted against a
 * blob's availability.
 */

/** How long a holder found silent or down stays remembered without answering a probe. */
export const DEFAULT_SILENT_MEMORY_MS = 30_000

/** What is remembered of a holder: how long ago it was found silent or down, and which. */
export interface RememberedHolder {
  ageMs: number
  /** True when its dial was refused (the process is gone), false when it stayed silent. */
  down: boolean
}

export class SilentHolders {
  readonly #memoryMs: number
  readonly #now: () => number
  /** Peer id -> when it was last found silent or down, and which. */
  readonly #since = new Map<string, { at: number; down: boolean }>()
  /** Peer id -> its probe under way: true once it answered, false once it failed. */
  readonly #probing = new Map<string, Promise<boolean>>()

  /** `memoryMs` 0 remembers nothing. */
  constructor(memoryMs: number = DEFAULT_SILENT_MEMORY_MS, now: () => number = () => performance.now()) {
    this.#memoryMs = memoryMs
    this.#now = now
  }

  /** What is remembered of `peerId`, if it is still remembered. */
  recall(peerId: string): RememberedHolder | undefined {
    const since = this.#since.get(peerId)
    if (since === undefined) return undefined
    const ageMs = this.#now() - since.at
    if (ageMs <= this.#memoryMs) return { ageMs, down: since.down }
    this.#since.delete(peerId)
    return undefined
  }

  /** Milliseconds since `peerId` was found silent or down, if it is still remembered. */
  silentFor(peerId: string): number | undefined {
    return this.recall(peerId)?.ageMs
  }

  markSilent(peerId: string): void {
    if (this.#memoryMs > 0) this.#since.set(peerId, { at: this.#now(), down: false })
  }

  /** `peerId` refused a dial: nothing listens at its addresses. */
  markDown(peerId: string): void {
    if (this.#memoryMs > 0) this.#since.set(peerId, { at: this.#now(), down: true })
  }

  markAnswered(peerId: string): void {
    this.#since.delete(peerId)
  }

  /**
   * Runs `ask` against a remembered holder unless a probe of it is under way, and returns that probe: true once
   * it answered (which clears the memory), false once it failed (the memory, and its age, stay as they were).
   * Never rejects.
   */
  probe(peerId: string, ask: () => Promise<unknown>): Promise<boolean> {
    const running = this.#probing.get(peerId)
    if (running !== undefined) return running
    const probe = ask().then(
      () => {
        this.markAnswered(peerId)
        return true
      },
      () => false,
    )
    this.#probing.set(peerId, probe)
    void probe.finally(() => this.#probing.delete(peerId))
    return probe
  }

  /** Probes under way (for a clean shutdown in tests). */
  get probing(): number {
    return this.#probing.size
  }
}
