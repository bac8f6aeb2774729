/**
 * `setTimeout` of `node:timers/promises` on the plain timer: resolves with `value` after `ms`, or rejects with an
 * AbortError when the signal aborts first. The browser bundle resolves `node:timers/promises` to this file.
 */
export function setTimeout<T = void>(ms: number, value?: T, options: { signal?: AbortSignal } = {}): Promise<T> {
  const { signal } = options
  return new Promise<T>((resolve, reject) => {
    const aborted = () => new DOMException('The operation was aborted', 'AbortError')
    if (signal?.aborted) {
      reject(aborted())
      return
    }
    const onAbort = () => {
      globalThis.clearTimeout(timer)
      reject(aborted())
    }
    const timer = globalThis.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(value as T)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
