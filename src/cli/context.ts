import { CliErrorCode, cliError, EXIT_FORCED } from './errors.ts'
import type { CliIo } from './io.ts'

/** What every command gets: its IO, notes on stderr, and interruption for short-lived client commands. */
export class CommandContext {
  readonly io: CliIo

  constructor(io: CliIo) {
    this.io = io
  }

  /**
   * Runs `fn` with a signal that the first Ctrl-C or SIGTERM aborts, so the command can stop its libp2p
   * node and leave no half-written file; a second one exits at once.
   */
  async interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(EXIT_FORCED)
      this.io.err('stopping (press Ctrl-C again to force)\n')
      controller.abort(cliError(CliErrorCode.INTERRUPTED, 'interrupted'))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      return await fn(controller.signal)
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason
      throw err
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }

  /** A line on stderr: notes and warnings that are not the command's result. */
  note(text: string): void {
    this.io.err(`${text}\n`)
  }
}
