/**
 * Waits for `promise`, but at most `ms`: its value (as `{ value }`) if it settled in time, undefined if the time
 * ran out first. A rejection in time is rethrown. The timer is cleared either way, so a finished wait never holds
 * the process open.
 */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
  })
  try {
    return await Promise.race([promise.then((value) => ({ value })), timedOut])
  } finally {
    clearTimeout(timer)
  }
}
