import type { Logger } from '../logger.ts'
import type { DisperseOptions } from './dispersal-options.ts'

const EVENT_NAMES = ['onEncoded', 'onSent', 'onReceipt', 'onFailure', 'onSilence', 'onUnreachable'] as const

/**
 * A caller's dispersal event handlers, each made safe to call from inside the round: one that throws is logged and
 * otherwise ignored. The round calls them from within its own bookkeeping (a receipt as the aggregator emits it, a
 * failure before the stake ledger counts it), so an exception there must not escape: the round would stop counting
 * and could wait for an outcome that is never decided, or crash the process from a promise nobody awaits.
 */
export function guardedEvents(events: DisperseOptions, logger: Logger): DisperseOptions {
  const guarded: DisperseOptions = { ...events }
  for (const name of EVENT_NAMES) {
    const handler = events[name] as ((arg: never) => void) | undefined
    if (handler === undefined) continue
    const warn = (error: unknown) =>
      logger.warn('a dispersal event handler threw; the dispersal goes on', { event: name, error })
    const safe = (arg: never) => {
      try {
        // An async handler's rejection would be unhandled, and end the process, as surely as a throw would escape.
        const returned: unknown = handler(arg)
        if (returned instanceof Promise) returned.catch(warn)
      } catch (error) {
        warn(error)
      }
    }
    guarded[name] = safe as never
  }
  return guarded
}
