import type { Logger } from '../../logger.ts'
import { EXIT_FORCED } from '../errors.ts'

export type StopReason = 'SIGINT' | 'SIGTERM' | 'disconnect'

/**
 * Resolves once the process is asked to stop — SIGINT, SIGTERM, or, for a process started by a supervisor
 * with an IPC channel (the devnet), the channel closing because the supervisor died — and runs `stop`.
 * A second signal during the stop exits at once with EXIT_FORCED.
 */
export function stopOnSignal(logger: Logger, stop: (reason: StopReason) => Promise<void>): Promise<StopReason> {
  return new Promise((resolve, reject) => {
    let stopping = false
    const onStop = (reason: StopReason) => {
      if (stopping) {
        logger.warn('second signal: exiting without a clean stop', { signal: reason })
        process.exit(EXIT_FORCED)
      }
      stopping = true
      logger.info('stopping: finishing stores under way and closing the database', { signal: reason })
      stop(reason).then(() => resolve(reason), reject)
    }
    process.on('SIGINT', () => onStop('SIGINT'))
    process.on('SIGTERM', () => onStop('SIGTERM'))
    // Started with an IPC channel (even one already closed because the supervisor died during start-up).
    if (process.send !== undefined) {
      process.on('disconnect', () => onStop('disconnect'))
      // The channel alone must not keep a stopped node alive.
      process.channel?.unref()
    }
  })
}
