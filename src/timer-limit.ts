/** The longest delay a Node.js timer takes (setTimeout, AbortSignal.timeout): a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Whether `ms` is a delay a timer keeps as given: a whole number of milliseconds in `min..MAX_TIMER_MS`. */
export function isTimerDelay(ms: unknown, min = 1): ms is number {
  return typeof ms === 'number' && Number.isInteger(ms) && ms >= min && ms <= MAX_TIMER_MS
}
