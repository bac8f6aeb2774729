import { describe, expect, it } from 'vitest'
import { stopWithin } from '../../src/cli/client/connect.ts'
import { devnetStakes } from '../../src/cli/devnet/stakes.ts'
import { CliErrorCode, cliError, usageError } from '../../src/cli/errors.ts'
import { formatConfidence, formatMs, formatStake, table } from '../../src/cli/format.ts'
import { exitCodeOf, formatError } from '../../src/cli/hints.ts'
import { parseCardSpec } from '../../src/cli/operator/committee-file.ts'
import { dialableAddresses, parseMemberCard } from '../../src/cli/operator/member-card.ts'
import { bar } from '../../src/cli/progress.ts'
import { formatBytes, parseSize, sizeText } from '../../src/cli/size.ts'
import { DacnetError, isDacnetError } from '../../src/errors.ts'

describe('sizes', () => {
  it('parses bytes, IEC and SI units, and single letters as binary', () => {
    expect(parseSize('1048576')).toBe(1048576)
    expect(parseSize('1MiB')).toBe(1024 ** 2)
    expect(parseSize('1.5 MiB')).toBe(1.5 * 1024 ** 2)
    expect(parseSize('256KiB')).toBe(256 * 1024)
    expect(parseSize('2MB')).toBe(2_000_000)
    expect(parseSize('1g')).toBe(1024 ** 3)
    expect(parseSize(42)).toBe(42)
  })

  it('refuses what is not a size, with a usage error', () => {
    for (const bad of ['', 'MiB', '1XB', '-1', '1e3', 'one']) {
      expect(() => parseSize(bad)).toThrowError(expect.objectContaining({ code: CliErrorCode.USAGE }))
    }
  })

  it('prints sizes for people and for config files', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1024 ** 2)).toBe('1.0 MiB')
    expect(sizeText(100 * 1024 ** 3)).toBe('100GiB')
    expect(sizeText(32 * 1024 ** 2)).toBe('32MiB')
    expect(sizeText(1000)).toBe(1000)
  })
})

describe('formatting', () => {
  it('shows stake with its share, confidence as its distance from 1, and times', () => {
    expect(formatStake(640n, 956n)).toBe('640/956 (66.9%)')
    expect(formatConfidence(1 - 4.7e-7)).toBe('1 - 4.7e-7')
    expect(formatConfidence(1)).toBe('1 (k shards seen)')
    expect(formatConfidence(0.5)).toBe('0.5000')
    expect(formatMs(12.3)).toBe('12 ms')
    expect(formatMs(1500)).toBe('1.50 s')
    expect(formatMs(83_000)).toBe('1m23s')
    expect(bar(0.5, 2 / 3, 6)).toBe('[###-|-]')
    expect(
      table([
        ['a', 'bb'],
        ['ccc', 'd'],
      ]),
    ).toBe('a    bb\nccc  d')
  })
})

describe('devnet stakes', () => {
  it('are unequal, positive and deterministic for any size', () => {
    expect(devnetStakes(6)).toEqual([300n, 200n, 150n, 120n, 100n, 86n])
    const many = devnetStakes(32)
    expect(many.every((s) => s > 0n)).toBe(true)
    expect(new Set(devnetStakes(6)).size).toBe(6)
    // The largest member alone never reaches two thirds: certificates always need several signers.
    const total = devnetStakes(6).reduce((a, b) => a + b, 0n)
    expect(devnetStakes(6)[0]! * 3n < total * 2n).toBe(true)
  })
})

describe('errors', () => {
  it('print one line with the code, the message and what to do, and no stack without --debug', () => {
    const text = formatError(cliError(CliErrorCode.PASSWORD_REQUIRED, 'no password'), false)
    expect(text).toMatch(/^error CLI_PASSWORD_REQUIRED: no password; hint: .*--password-file.*\n$/)
    expect(text.split('\n')).toHaveLength(2)
    expect(formatError(cliError(CliErrorCode.PASSWORD_REQUIRED, 'two\nlines'), false).split('\n')).toHaveLength(2)
    expect(text).not.toContain('at ')
  })

  it('take a hint from the error, the code, or the code module', () => {
    expect(formatError(usageError('bad', 'do this'), false)).toContain('hint: do this')
    expect(formatError(new DacnetError('COMMITTEE_SOMETHING_NEW', 'x'), false)).toContain(
      'hint: fix the committee file',
    )
  })

  it('report anything that is not a DacnetError as CLI_INTERNAL, with the stack under --debug', () => {
    const text = formatError(new TypeError('oops'), true)
    expect(text).toMatch(/^error CLI_INTERNAL: oops; hint: this is a bug/)
    expect(text).toContain('TypeError: oops')
  })

  it('exit 2 for usage errors and 1 otherwise', () => {
    expect(exitCodeOf(usageError('x'))).toBe(2)
    expect(exitCodeOf(cliError(CliErrorCode.READ_FAILED, 'x'))).toBe(1)
    expect(exitCodeOf(new Error('x'))).toBe(1)
    // A node option's bad value is refused by the config schema, but given as a flag it is a usage error.
    const flag = cliError(CliErrorCode.CONFIG_INVALID, '--max-blob-size: must be …', { source: '--max-blob-size' })
    expect(exitCodeOf(flag)).toBe(2)
    const env = cliError(CliErrorCode.CONFIG_INVALID, 'DACNET_MAX_BLOB_SIZE: must be …', {
      source: 'DACNET_MAX_BLOB_SIZE',
    })
    expect(exitCodeOf(env)).toBe(1)
    expect(exitCodeOf(cliError(CliErrorCode.CONFIG_INVALID, 'config field maxBlobSize must be …'))).toBe(1)
  })
})

describe('member cards', () => {
  const peerId = '12D3KooWQLa5H7eRpF6qeCMNG3dZyrLCJYNP3vdeVQZDkWYqRC4K'

  it('list announce addresses, else the listen addresses that can be dialled, with /p2p/<peerId>', () => {
    expect(dialableAddresses(['/ip4/127.0.0.1/tcp/5381'], [], peerId)).toEqual([
      `/ip4/127.0.0.1/tcp/5381/p2p/${peerId}`,
    ])
    expect(dialableAddresses(['/ip4/0.0.0.0/tcp/5381', '/ip4/127.0.0.1/tcp/0'], [], peerId)).toEqual([])
    expect(dialableAddresses(['/ip4/0.0.0.0/tcp/5381'], ['/dns4/a.example/tcp/5381'], peerId)).toEqual([
      `/dns4/a.example/tcp/5381/p2p/${peerId}`,
    ])
  })

  it('are refused with CLI_MEMBER_CARD_INVALID when fields are missing or malformed', () => {
    const good = { version: 1, peerId, publicKey: '0x00', proofOfPossession: '0x00', multiaddrs: [], listen: [] }
    expect(parseMemberCard(good, 'c').peerId).toBe(peerId)
    for (const bad of [
      null,
      [],
      { ...good, version: 2 },
      { ...good, peerId: undefined },
      { ...good, multiaddrs: ['x'] },
    ]) {
      let err: unknown
      try {
        parseMemberCard(bad, 'c')
      } catch (e) {
        err = e
      }
      expect(isDacnetError(err, CliErrorCode.MEMBER_CARD_INVALID)).toBe(true)
    }
  })

  it('come with an optional stake after the last colon', () => {
    expect(parseCardSpec('a/card.json:30')).toEqual({ path: 'a/card.json', stake: '30' })
    expect(parseCardSpec('card.json')).toEqual({ path: 'card.json', stake: '1' })
    expect(() => parseCardSpec('card.json:0')).toThrowError(expect.objectContaining({ code: CliErrorCode.USAGE }))
  })
})

describe('stopping a client node', () => {
  it('waits for a stop that finishes, and gives up on one that never does', async () => {
    let stopped = false
    await stopWithin(
      {
        stop: async () => {
          stopped = true
        },
      },
      1_000,
    )
    expect(stopped).toBe(true)
    const start = performance.now()
    await stopWithin({ stop: () => new Promise<void>(() => {}) }, 200)
    expect(performance.now() - start).toBeGreaterThanOrEqual(190)
    expect(performance.now() - start).toBeLessThan(2_000)
    await expect(stopWithin({ stop: async () => Promise.reject(new Error('boom')) }, 1_000)).rejects.toThrow('boom')
  })
})
