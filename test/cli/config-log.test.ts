import { afterEach, describe, expect, it, vi } from 'vitest'
import { DacnetError } from '../../src/errors.ts'
import { createLogger, type LogLevel } from '../../src/logger.ts'

/** The node's log (config log.level and log.json) as a log collector or an operator at a terminal reads it. */
const NOW = () => new Date('2026-01-02T03:04:05.678Z')

function capture(level: LogLevel, json: boolean) {
  const lines: string[] = []
  const logger = createLogger({ level, json, now: NOW, write: (line) => lines.push(line) })
  return { logger, lines }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('the node log', () => {
  it('as JSON lines: level names, an ISO time, msg, and the fields of the entry and of its child loggers', () => {
    const { logger, lines } = capture('info', true)
    logger.child({ component: 'node' }).child({ epoch: 3 }).info('store refused', { code: 'NODE_NOT_A_MEMBER' })
    expect(lines).toHaveLength(1)
    expect(lines[0]).not.toContain('\n')
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'info',
      time: '2026-01-02T03:04:05.678Z',
      component: 'node',
      epoch: 3,
      code: 'NODE_NOT_A_MEMBER',
      msg: 'store refused',
    })
  })

  it('writes bigints as decimal text, bytes as hex and errors as name, message and code, at any depth', () => {
    const { logger, lines } = capture('debug', true)
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic['self'] = cyclic
    logger.error('failed', {
      stake: 12345678901234567890n,
      root: new Uint8Array([0xde, 0xad]),
      error: new DacnetError('STORAGE_QUOTA_EXCEEDED', 'quota exceeded'),
      nested: { list: [1n, new Uint8Array([1])] },
      cyclic,
    })
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      stake: '12345678901234567890',
      root: 'dead',
      error: { name: 'DacnetError', message: 'quota exceeded', code: 'STORAGE_QUOTA_EXCEEDED' },
      nested: { list: ['1', '01'] },
      cyclic: { name: 'loop', self: '[…]' },
    })
  })

  it('as text for a terminal: time, level, message, then key=value', () => {
    const { logger, lines } = capture('info', false)
    logger
      .child({ component: 'api' })
      .warn('http api bound beyond loopback', { host: '0.0.0.0', port: 5380, ok: false })
    expect(lines).toEqual([
      '2026-01-02T03:04:05.678Z WARN  http api bound beyond loopback component=api host=0.0.0.0 port=5380 ok=false',
    ])
  })

  it('writes nothing below its level, and nothing at all when silent', () => {
    const warn = capture('warn', true)
    warn.logger.debug('d')
    warn.logger.info('i')
    warn.logger.warn('w')
    warn.logger.error('e')
    expect(warn.lines.map((l) => JSON.parse(l).msg)).toEqual(['w', 'e'])
    const silent = capture('silent', false)
    silent.logger.error('e')
    silent.logger.child({ a: 1 }).error('e')
    expect(silent.lines).toEqual([])
  })

  it('goes to stderr by default and never to stdout', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const stdout = vi.spyOn(process.stdout, 'write')
    createLogger({ json: true, now: NOW }).info('to stderr', { n: 1 })
    expect(stdout).not.toHaveBeenCalled()
    expect(stderr).toHaveBeenCalledTimes(1)
    const written = String(stderr.mock.calls[0]![0])
    expect(written.endsWith('}\n')).toBe(true)
    expect(JSON.parse(written)).toMatchObject({ level: 'info', msg: 'to stderr', n: 1 })
  })
})
