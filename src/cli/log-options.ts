/**
 * `--log-level` and `--log-json` for the long-running commands that take no node config (`da-server`, `web`):
 * the same levels and the same logger as a node's `log` config section.
 */
import type { Command } from 'commander'
import type { Logger, LogLevel } from '../logger.ts'
import type { CommandContext } from './context.ts'
import { usageError } from './errors.ts'

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

export interface LogOptions {
  logLevel: string
  logJson?: boolean
}

export function addLogOptions(command: Command): Command {
  return command
    .option('--log-level <level>', `lowest level logged: ${LEVELS.join(', ')}`, 'info')
    .option('--log-json', 'one JSON object per log line')
}

/** Refuses an unknown level (CLI_USAGE) before anything starts. */
export function checkLogOptions(opts: LogOptions): void {
  if (!LEVELS.includes(opts.logLevel as LogLevel)) {
    throw usageError(`--log-level must be one of ${LEVELS.join(', ')}, got "${opts.logLevel}"`)
  }
}

/** The command's logger: lines (text, or JSON with --log-json) on stderr. Loads the logger when a command runs. */
export async function commandLogger(ctx: CommandContext, opts: LogOptions): Promise<Logger> {
  const { createLogger } = await import('../logger.ts')
  return createLogger({
    level: opts.logLevel as LogLevel,
    json: opts.logJson === true,
    write: (line) => ctx.io.err(`${line}\n`),
  })
}
