/**
 * How long kept memory outlives its last use: a process that disperses or retrieves large blobs keeps what their
 * tasks need between them, and an idle one gives it back.
 */
export const DEFAULT_STAGING_IDLE_DROP_MS = 30_000

/**
 * Shared memory for the inputs of erasure tasks, kept for the next task once one is done. The first write to a
 * fresh buffer pays a page fault per page: on the reference machine (a virtual machine) about 3 ms per MiB, so
 * staging the ~17 MiB of shards that decode a 16 MiB blob took 60-80 ms in a fresh buffer and 2 ms in one written
 * before.
 */
export class SharedStaging {
  readonly maxKeptBytes: number
  readonly maxKeptBuffers: number
  /** Kept buffers are dropped once none was acquired or released for this long. */
  readonly idleDropMs: number
  readonly #free: SharedArrayBuffer[] = []
  #keptBytes = 0
  #reuses = 0
  #idleTimer: ReturnType<typeof setTimeout> | undefined

  constructor(opts: { maxKeptBytes: number; maxKeptBuffers: number; idleDropMs?: number }) {
    this.maxKeptBytes = opts.maxKeptBytes
    this.maxKeptBuffers = opts.maxKeptBuffers
    this.idleDropMs = opts.idleDropMs ?? DEFAULT_STAGING_IDLE_DROP_MS
  }

  /** Buffers handed out again instead of allocated (a gauge for tests and operators). */
  get reuses(): number {
    return this.#reuses
  }

  /** Bytes kept for reuse right now. */
  get keptBytes(): number {
    return this.#keptBytes
  }

  /** A buffer of at least `bytes`: the smallest kept one that fits, or a new one of exactly `bytes`. */
  acquire(bytes: number): SharedArrayBuffer {
    let best = -1
    for (let i = 0; i < this.#free.length; i++) {
      const size = this.#free[i]!.byteLength
      if (size >= bytes && (best < 0 || size < this.#free[best]!.byteLength)) best = i
    }
    if (best < 0) return new SharedArrayBuffer(bytes)
    const [buffer] = this.#free.splice(best, 1)
    this.#keptBytes -= buffer!.byteLength
    this.#reuses++
    this.#dropWhenIdle()
    return buffer!
  }

  /**
   * Takes `buffer` back once its task is done, unless its result holds a view of shared memory (`resultShares`):
   * the worker allocates plain buffers for what it makes, so shared memory in a result is staged input it handed
   * back — a BadEncoding verdict's evidence is made of the shards staged for it — and that buffer stays the
   * result's. (A buffer posted between threads arrives as a new SharedArrayBuffer object, so a result's views
   * cannot be matched to the buffer by identity.) Past the limits the smallest kept buffers are dropped.
   */
  release(buffer: SharedArrayBuffer, resultShares: boolean): void {
    if (resultShares) return
    this.#free.push(buffer)
    this.#keptBytes += buffer.byteLength
    this.#free.sort((a, b) => b.byteLength - a.byteLength)
    while (this.#free.length > this.maxKeptBuffers || this.#keptBytes > this.maxKeptBytes) {
      this.#keptBytes -= this.#free.pop()!.byteLength
    }
    this.#dropWhenIdle()
  }

  /** Drops every kept buffer `idleDropMs` from now unless the staging is used before; never keeps a process alive. */
  #dropWhenIdle(): void {
    clearTimeout(this.#idleTimer)
    if (this.#free.length === 0) return
    this.#idleTimer = setTimeout(() => {
      this.#free.length = 0
      this.#keptBytes = 0
    }, this.idleDropMs)
    this.#idleTimer.unref?.()
  }
}

/** Whether `value` (plain data: arrays, objects, typed arrays) holds a view of shared memory anywhere inside. */
export function holdsSharedView(value: unknown, depth = 0): boolean {
  if (ArrayBuffer.isView(value)) return value.buffer instanceof SharedArrayBuffer
  if (value === null || typeof value !== 'object' || depth > 8) return false
  const values = Array.isArray(value) ? value : Object.values(value)
  for (const inner of values) if (holdsSharedView(inner, depth + 1)) return true
  return false
}
