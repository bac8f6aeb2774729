import pino from 'pino'

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
export interface StreamLoggerOptions {
  /** Lowest level written. Default 'info'. */
  level?: LogLevel
  /**
   * One JSON object per line (`{"level":"info","time":"…","msg":"…",…}`, for containers and log collectors)
   * instead of text (`<time> INFO  <msg> key=value …`, for a terminal). Default false.
   */
  json?: boolean
  /** Where lines go. Default process.stderr. */
  write?: (line: string) => void
  /** Clock for timestamps; injected by tests. */
  now?: () => Date
}

/**
 * A logger writing one line per entry (JSON or text) to stderr or the given sink, through pino. Writes are
 * synchronous: a line is out before the call returns, so nothing is lost when the process exits.
 */
export function createLogger(opts: StreamLoggerOptions = {}, base: LogFields = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const now = opts.now ?? (() => new Date())
  const json = opts.json ?? false
  const destination = {
    write(chunk: string) {
      const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk
      write(json ? line : textLine(line))
    },
  }
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: null,
      messageKey: 'msg',
      timestamp: () => `,"time":${JSON.stringify(now().toISOString())}`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
  return wrap(Object.keys(base).length > 0 ? root.child(plainFields(base)) : root)
}

function wrap(logger: pino.Logger): Logger {
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields) => {
    if (!logger.isLevelEnabled(level)) return
    logger[level](fields ? plainFields(fields) : {}, message)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => wrap(logger.child(plainFields(fields))),
  }
}

/** A JSON line as text: `<time> <LEVEL> <msg> key=value …` (strings bare, anything else as JSON). */
function textLine(line: string): string {
  const { time, level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>
  const extra = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
  return `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}${extra ? ` ${extra}` : ''}`
}

function plainFields(fields: LogFields): LogFields {
  return plain(fields, 0, new WeakSet()) as LogFields
}

/** Fields as JSON shows them: bigints as decimal text, bytes as hex, errors as name, message and code. */
function plain(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (value instanceof Error)
    return { name: value.name, message: value.message, code: (value as { code?: string }).code }
  if (value instanceof Date) return value.toISOString()
  if (seen.has(value) || depth > 8) return '[…]'
  seen.add(value)
  const out = Array.isArray(value)
    ? value.map((v) => plain(v, depth + 1, seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v, depth + 1, seen)]))
  seen.delete(value)
  return out
}
