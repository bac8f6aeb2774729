/** A counting semaphore whose waiters give up after a while; slots go to waiters in arrival order. */
export class Slots {
  readonly size: number
  #free: number
  readonly #waiting = new Set<() => void>()

  constructor(size: number) {
    this.size = size
    this.#free = size
  }

  /** Slots taken right now. */
  get taken(): number {
    return this.size - this.#free
  }

  /** True once a slot is taken; false if none came free within `waitMs`. */
  take(waitMs: number): Promise<boolean> {
    if (this.#free > 0) {
      this.#free--
      return Promise.resolve(true)
    }
    if (waitMs <= 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      const grant = () => {
        clearTimeout(timer)
        this.#waiting.delete(grant)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.#waiting.delete(grant)
        resolve(false)
      }, waitMs)
      this.#waiting.add(grant)
    })
  }

  /** Returns a slot: straight to the oldest waiter if there is one. */
  give(): void {
    const next = this.#waiting.values().next()
    if (next.done) this.#free++
    else next.value()
  }
}
