import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { StoreCore } from './core.ts'
import { pruneStep } from './prune-step.ts'

export interface PruneResult {
  /** Blobs completely removed. */
  blobs: number
  /** Entries deleted or rewritten. */
  entries: number
}

export interface PruneProgress {
  running: boolean
  /** Wall-clock ms when the last run finished, if any. */
  lastRunAt?: number
  /** Blobs removed since the store was opened. */
  blobsPruned: number
  /** Entries deleted since the store was opened. */
  entriesDeleted: number
  /** Message of the last failed background run, cleared by the next successful one. */
  lastError?: string
}

/**
 * Removes expired blobs in the background: one run soon after open (which resumes a prune a crash cut short),
 * then one every `pruneIntervalMs`. A run is a sequence of bounded steps, each its own write-queue task with an
 * event-loop turn in between, so puts wait at most one step and reads never wait at all.
 */
export class Pruner {
  readonly #core: StoreCore
  #timer: NodeJS.Timeout | undefined
  #current: Promise<PruneResult> | undefined
  #stopped = false
  readonly progress: PruneProgress = { running: false, blobsPruned: 0, entriesDeleted: 0 }

  constructor(core: StoreCore) {
    this.#core = core
  }

  start(): void {
    this.#schedule(0)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#current?.catch(() => undefined)
  }

  /**
   * Prunes what is due now, in at most `maxBatches` batches (default: until nothing is due). Joins the run in
   * progress if there is one.
   */
  prune(maxBatches = Number.POSITIVE_INFINITY): Promise<PruneResult> {
    this.#current ??= this.#run(maxBatches).finally(() => {
      this.#current = undefined
    })
    return this.#current
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return
    this.#timer = setTimeout(async () => {
      try {
        await this.prune()
        delete this.progress.lastError
      } catch (err) {
        this.progress.lastError = (err as Error).message
        this.#core.opts.onBackgroundError?.(err)
      }
      this.#schedule(this.#core.opts.pruneIntervalMs)
    }, delayMs)
    // A pending prune must never keep a process alive on its own.
    this.#timer.unref()
  }

  async #run(maxBatches: number): Promise<PruneResult> {
    const core = this.#core
    const total: PruneResult = { blobs: 0, entries: 0 }
    this.progress.running = true
    try {
      for (let batch = 0; batch < maxBatches; batch++) {
        core.assertOpen()
        const step = await core.exclusive(() => pruneStep(core, core.opts.pruneBatchEntries))
        total.blobs += step.blobs
        total.entries += step.entries
        this.progress.blobsPruned += step.blobs
        this.progress.entriesDeleted += step.entries
        if (step.entries === 0 || this.#stopped) break
        await yieldToEventLoop()
      }
    } finally {
      this.progress.running = false
      this.progress.lastRunAt = core.opts.now()
    }
    return total
  }
}
