import { StorageErrorCode, storageError } from './errors.ts'

/**
 * Runs write tasks one at a time, in arrival order. Every task reads what it needs, plans one LevelDB batch that
 * also rewrites the usage counters, and commits it before the next task starts, so the counters in meta are
 * always the sum of the batches in commit order, and "is this blob already held?" cannot race with a prune.
 * Reads never enter the queue.
 */
export class WriteQueue {
  #tail: Promise<unknown> = Promise.resolve()
  #pending = 0
  readonly #maxPending: number

  constructor(maxPending: number) {
    this.#maxPending = maxPending
  }

  get pending(): number {
    return this.#pending
  }

  /** Queues `task`; refuses with STORAGE_BUSY when `maxPending` tasks already wait (bounded memory). */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#pending > this.#maxPending) {
      return Promise.reject(
        storageError(StorageErrorCode.BUSY, `${this.#pending} writes are queued; retry later`, {
          pending: this.#pending,
        }),
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
