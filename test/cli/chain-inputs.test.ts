/**
 * What the chain commands take from the user, without a chain: token amounts, chain.json, Ethereum keys, and
 * which committee source a client command reads.
 */
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amountArg, formatAmount, toUnits } from '../../src/cli/chain/amount.ts'
import { chainFileJson, parseChainFile } from '../../src/cli/chain/chain-file.ts'
import { loadEthAccount } from '../../src/cli/chain/eth-key.ts'
import { committeeChoice } from '../../src/cli/client/source.ts'
import type { CliIo } from '../../src/cli/io.ts'
import { removeDir, tempDir } from './helpers.ts'

let dir: string
beforeAll(async () => {
  dir = await tempDir()
})
afterAll(() => removeDir(dir))

function io(env: Record<string, string> = {}): CliIo {
  return { out: () => {}, err: () => {}, env, cwd: dir, tty: undefined, stderrIsTTY: false }
}

/** Resolves to the error's code, or 'ok'. */
async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run()
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

describe('token amounts', () => {
  it('are whole tokens scaled by the decimals, or exact units with the wei suffix', () => {
    expect(toUnits(amountArg('32'), 18)).toBe(32n * 10n ** 18n)
    expect(toUnits(amountArg('0.5'), 18)).toBe(5n * 10n ** 17n)
    expect(toUnits(amountArg('1.000000000000000001'), 18)).toBe(10n ** 18n + 1n)
    expect(toUnits(amountArg('2.50'), 2)).toBe(250n)
    expect(toUnits(amountArg('32000000000000000000wei'), 18)).toBe(32n * 10n ** 18n)
    expect(toUnits(amountArg('7wei'), 0)).toBe(7n)
    expect(toUnits(amountArg(' 3 '), 6)).toBe(3_000_000n)
  })

  it('refuse what is not an amount, and fractions finer than the token', async () => {
    for (const bad of ['', '-1', '1e18', '0x10', '1.', '.5', '1,5', '5 wei', '1.5wei', 'ten', `${'9'.repeat(79)}`]) {
      expect(() => amountArg(bad), bad).toThrow()
    }
    expect(await codeOf(() => toUnits(amountArg('1.0000000000000000001'), 18))).toBe('CLI_USAGE')
    expect(await codeOf(() => toUnits(amountArg('0.001'), 2))).toBe('CLI_USAGE')
  })

  it('print exactly, without trailing zeros', () => {
    expect(formatAmount(32n * 10n ** 18n, 18, 'DACS')).toBe('32 DACS')
    expect(formatAmount(10n ** 18n + 1n, 18, 'DACS')).toBe('1.000000000000000001 DACS')
    expect(formatAmount(105n * 10n ** 17n, 18, '')).toBe('10.5')
    expect(formatAmount(0n, 18, 'X')).toBe('0 X')
  })
})

const valid = {
  rpcUrl: 'http://127.0.0.1:8545',
  chainId: 31337,
  registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  certificateVerifier: '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512',
  token: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
  deploymentBlock: 2,
  epochBlocks: 20,
  networkId: 6578531,
}

describe('chain.json', () => {
  it('takes the documented fields, checksums the addresses, and writes them back in order', () => {
    const file = parseChainFile({ $comment: 'a devnet', ...valid }, 'chain.json')
    expect(file.certificateVerifier).toBe('0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512')
    expect(Object.keys(JSON.parse(chainFileJson(file)))).toEqual(Object.keys(valid))
    expect(parseChainFile(JSON.parse(chainFileJson(file)), 'again')).toEqual(file)
  })

  it('refuses unknown and missing fields, wrong types and bad addresses, naming the field', async () => {
    const cases: [unknown, string | undefined][] = [
      [[], undefined],
      [{ ...valid, confirmations: 2 }, 'confirmations'],
      [{ ...valid, networkId: 2 ** 32 }, 'networkId'],
      [{ ...valid, epochBlocks: 0 }, 'epochBlocks'],
      [{ ...valid, deploymentBlock: 1.5 }, 'deploymentBlock'],
      [{ ...valid, registry: '0x5fbdb2315678afecb367f032d93f642f64180aa' }, 'registry'],
      [{ ...valid, token: '0x9FE46736679d2D9a65F0992F2272dE9f3c7fa6e0' }, 'token'],
      [{ ...valid, rpcUrl: 'localhost:8545' }, 'rpcUrl'],
      [{ ...valid, token: undefined }, 'token'],
    ]
    for (const [json, field] of cases) {
      try {
        parseChainFile(json, 'chain.json')
        expect.unreachable(JSON.stringify(json))
      } catch (err) {
        expect((err as { code: string }).code).toBe('CLI_CHAIN_FILE_INVALID')
        expect((err as { meta: { field?: string } }).meta.field).toBe(field)
      }
    }
  })
})

describe('Ethereum keys', () => {
  const key = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'
  const address = '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23'

  it('come from a file of mode 0600 (0x optional, one trailing newline) or from DACNET_ETH_KEY', async () => {
    const file = join(dir, 'key')
    await writeFile(file, `${key.slice(2)}\n`, { mode: 0o600 })
    expect((await loadEthAccount(io(), 'key')).address).toBe(address)
    expect((await loadEthAccount(io({ DACNET_ETH_KEY: key }), undefined)).address).toBe(address)
    // The file wins over the variable.
    const other = `0x${'11'.repeat(32)}`
    expect((await loadEthAccount(io({ DACNET_ETH_KEY: other }), 'key')).address).toBe(address)
  })

  it('refuse exposed files, malformed and out-of-range keys, and a missing key, never quoting the key', async () => {
    const exposed = join(dir, 'exposed')
    await writeFile(exposed, key)
    await chmod(exposed, 0o604)
    expect(await codeOf(() => loadEthAccount(io(), exposed))).toBe('CLI_ETH_KEY_EXPOSED')
    for (const text of [
      '',
      `${key}${key.slice(2)}`,
      `${key}\n${key}\n`,
      `0x${'00'.repeat(32)}`,
      `0x${'ff'.repeat(32)}`,
    ]) {
      const path = join(dir, 'bad')
      await writeFile(path, text, { mode: 0o600 })
      const error = await loadEthAccount(io(), path).catch((err: Error & { code: string }) => err)
      expect((error as { code: string }).code, JSON.stringify(text)).toBe('CLI_ETH_KEY_INVALID')
      expect((error as Error).message).not.toContain(key.slice(4))
    }
    expect(await codeOf(() => loadEthAccount(io(), undefined))).toBe('CLI_ETH_KEY_REQUIRED')
    expect(await codeOf(() => loadEthAccount(io(), 'no-such-file'))).toBe('CLI_FILE_NOT_FOUND')
    expect(await codeOf(() => loadEthAccount(io(), key))).toBe('CLI_USAGE')
  })
})

describe('the committee source of a client command', () => {
  it('is --committee or --chain, else DACNET_COMMITTEE or DACNET_CHAIN, else ./committee.json', () => {
    expect(committeeChoice(io(), {})).toEqual({ kind: 'file', path: join(dir, 'committee.json') })
    expect(committeeChoice(io(), { chain: 'c.json', rpc: 'http://x:1' })).toEqual({
      kind: 'chain',
      path: join(dir, 'c.json'),
      rpc: 'http://x:1',
    })
    expect(committeeChoice(io({ DACNET_CHAIN: 'c.json' }), {})).toMatchObject({ kind: 'chain' })
    expect(committeeChoice(io({ DACNET_COMMITTEE: 'f.json' }), {})).toEqual({ kind: 'file', path: join(dir, 'f.json') })
    // A flag beats the other kind's variable.
    expect(committeeChoice(io({ DACNET_CHAIN: 'c.json' }), { committee: 'f.json' })).toMatchObject({ kind: 'file' })
    expect(committeeChoice(io({ DACNET_COMMITTEE: 'f.json' }), { chain: 'c.json' })).toMatchObject({ kind: 'chain' })
  })

  it('refuses both at once, and --rpc without the chain', async () => {
    expect(await codeOf(() => committeeChoice(io(), { committee: 'f.json', chain: 'c.json' }))).toBe('CLI_USAGE')
    expect(await codeOf(() => committeeChoice(io({ DACNET_COMMITTEE: 'f.json', DACNET_CHAIN: 'c.json' }), {}))).toBe(
      'CLI_USAGE',
    )
    expect(await codeOf(() => committeeChoice(io(), { rpc: 'http://x:1' }))).toBe('CLI_USAGE')
  })
})
