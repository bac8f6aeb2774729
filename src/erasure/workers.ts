import { Worker } from 'node:worker_threads'
import { DacnetError } from '../errors.ts'
import { ErasureErrorCode, erasureError } from './errors.ts'
import type { WorkerRequest, WorkerResponse } from './worker-protocol.ts'

/** A worker request without its id (the queue numbers them). */
export type Payload = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

interface Task {
  id: number
  payload: Payload
  transfer: ArrayBuffer[]
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  task: Task | null
}

/**
 * The worker threads of an ErasurePool: started lazily up to `size`, each running one task at a time from a queue,
 * unref'd while idle (an idle pool keeps no process alive); a worker that dies fails its task and is replaced on
 * the next dispatch.
 */
export class WorkerThreads {
  readonly size: number
  private readonly slots: Slot[] = []
  private readonly queue: Task[] = []
  private nextId = 1
  private closed = false

  constructor(size: number) {
    this.size = size
  }

  /** Starts every worker not running yet (none once closed). */
  startAll(): void {
    if (this.closed) return
    while (this.spawn() !== null) {}
  }

  /** Rejects queued and running work with ERASURE_POOL_CLOSED and stops every worker. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const closedError = () => erasureError(ErasureErrorCode.POOL_CLOSED, 'the erasure pool was closed')
    for (const task of this.queue.splice(0)) task.reject(closedError())
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.task?.reject(closedError())
        slot.task = null
        await slot.worker.terminate()
      }),
    )
    this.slots.length = 0
  }

  submit(payload: Payload, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.closed) return Promise.reject(erasureError(ErasureErrorCode.POOL_CLOSED, 'the erasure pool was closed'))
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, payload, transfer, resolve, reject })
      this.dispatch()
    })
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.task === null) ?? this.spawn()
      if (slot === null) return
      const task = this.queue.shift()!
      slot.task = task
      slot.worker.ref()
      slot.worker.postMessage({ ...task.payload, id: task.id }, task.transfer)
    }
  }

  /** Starts one more worker, up to the pool's size; null when all are running. */
  private spawn(): Slot | null {
    if (this.slots.length >= this.size) return null
    const worker = new Worker(new URL('./worker.ts', import.meta.url))
    const slot: Slot = { worker, task: null }
    worker.on('message', (response: WorkerResponse) => this.settle(slot, response))
    worker.on('error', (err) => this.fail(slot, err))
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`worker exited with code ${code}`))
    })
    worker.unref()
    this.slots.push(slot)
    return slot
  }

  private settle(slot: Slot, response: WorkerResponse): void {
    const task = slot.task
    slot.task = null
    slot.worker.unref()
    if (task && task.id === response.id) {
      if (response.ok) task.resolve(response.result)
      else task.reject(DacnetError.fromObject(response.error))
    }
    this.dispatch()
  }

  /** A worker died: fail its task, drop it, and let the next dispatch start a fresh one. */
  private fail(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot)
    if (index < 0) return
    this.slots.splice(index, 1)
    slot.task?.reject(erasureError(ErasureErrorCode.WORKER_FAILED, `erasure worker failed: ${err.message}`))
    slot.task = null
    void slot.worker.terminate()
    this.dispatch()
  }
}
