/**
 * The library's logging seam. Library code never writes to stdout: it logs through a Logger it was given
 * (the CLI supplies one that writes text or JSON lines to stderr) or, by default, through `silentLogger`.
 */
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger whose lines also carry `fields` (e.g. a component name). */
  child(fields: LogFields): Logger
}

const noop = () => {}

export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface StreamLoggerOptions {
  /** Lowest level written. Default 'info'. */
  level?: LogLevel
  /** One JSON object per line instead of text. Default false. */
  json?: boolean
  /** Where lines go. Default process.stderr. */
  write?: (line: string) => void
  /** Clock for timestamps; injected by tests. */
  now?: () => Date
}

/** A logger writing one line per entry (text or JSON) to stderr or the given sink. */
export function createLogger(opts: StreamLoggerOptions = {}, base: LogFields = {}): Logger {
  const threshold = RANK[opts.level ?? 'info']
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const now = opts.now ?? (() => new Date())
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return
    const all = { ...base, ...fields }
    if (opts.json) {
      write(JSON.stringify({ time: now().toISOString(), level, msg: message, ...all }, jsonSafe))
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`)
        .join(' ')
      write(`${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${extra ? ` ${extra}` : ''}`)
    }
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (value instanceof Error)
    return { name: value.name, message: value.message, code: (value as { code?: string }).code }
  return value
}
