import { StorageErrorCode, storageError } from './errors.ts'

/**
 * Runs write tasks one at a time, in arrival order. Every task reads what it needs and plans one batch, which the
 * group committer writes in planning order together with the usage counters, so the counters in meta are always
 * the sum of the batches in commit order. A task that writes one blob waits for the committer only while a batch of
 * that blob is in flight (StoreCore.blobWrite); prune steps and quarantines wait until every batch before them is
 * on disk (StoreCore.exclusive), so "is this blob already held?" cannot race with a prune. Reads never enter the
 * queue.
 */
export class WriteQueue {
  #tail: Promise<unknown> = Promise.resolve()
  #pending = 0
  readonly #maxPending: number
  readonly #committing: () => number

  /** `committing` counts tasks that left the queue with a batch not yet on disk; they hold memory too. */
  constructor(maxPending: number, committing: () => number = () => 0) {
    this.#maxPending = maxPending
    this.#committing = committing
  }

  get pending(): number {
    return this.#pending + this.#committing()
  }

  /**
   * Queues `task`; refuses with STORAGE_BUSY when `maxPending` tasks already wait (bounded memory). `unbounded`
   * tasks are queued whatever waits: upkeep that holds no buffers of its own and is bounded elsewhere (one prune step
   * at a time; quarantines, by the reads that find what to quarantine), which stores keeping the queue full must
   * not starve.
   */
  run<T>(task: () => Promise<T>, opts: { unbounded?: boolean } = {}): Promise<T> {
    const pending = this.pending
    if (pending >= this.#maxPending && !opts.unbounded) {
      return Promise.reject(
        storageError(StorageErrorCode.BUSY, `${pending} writes are queued; retry later`, { pending }),
      )
    }
    this.#pending++
    const result = this.#tail.then(task).finally(() => {
      this.#pending--
    })
    this.#tail = result.catch(() => undefined)
    return result
  }

  /** Resolves once every task queued so far has finished. */
  async drain(): Promise<void> {
    await this.#tail
  }
}
