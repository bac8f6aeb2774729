import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/cli/config/load.ts'
import { parseConfig } from '../../src/cli/config/parse.ts'
import { configTemplate } from '../../src/cli/config/template.ts'
import { defaultConfig } from '../../src/cli/config/types.ts'
import { CliErrorCode } from '../../src/cli/errors.ts'
import type { CliIo } from '../../src/cli/io.ts'
import { PASSWORD_ENV, resolvePassword } from '../../src/cli/password.ts'
import { isDacnetError } from '../../src/errors.ts'
import { removeDir, tempDir } from './helpers.ts'

const BASE = '/srv/dacnet/node-1'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isDacnetError(err) ? err.code : 'NOT_A_DACNET_ERROR'
  }
  return undefined
}

describe('config file', () => {
  it('needs only a version: every other field has its default, paths resolved against the file', () => {
    const config = parseConfig({ version: 1 }, BASE)
    const d = defaultConfig()
    expect(config.peerKeyFile).toBe(`${BASE}/peer.key`)
    expect(config.keystore).toEqual({ path: `${BASE}/keystore.json`, passwordFile: null })
    expect(config.committeeFile).toBe(`${BASE}/committee.json`)
    expect(config.dataDir).toBe(`${BASE}/data`)
    expect(config.network).toEqual(d.network)
    expect(config.storage).toEqual(d.storage)
    expect(config.api).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 5380,
      allowedHosts: [],
      enableDisperse: false,
      tokenFile: null,
    })
    expect(config.log).toEqual({ level: 'info', json: false })
    expect(config.maxBlobSize).toBe(32 * 1024 * 1024)
  })

  it('is what init writes: the template parses to the defaults', () => {
    const parsed = parseConfig(JSON.parse(JSON.stringify(configTemplate())), BASE)
    expect(parsed).toEqual(parseConfig({ version: 1 }, BASE))
  })

  it('takes sizes as bytes or text, absolute paths as they are', () => {
    const config = parseConfig(
      { version: 1, dataDir: '/var/lib/dacnet', storage: { quotaBytes: '10GiB' }, maxBlobSize: 1024, $comment: 'x' },
      BASE,
    )
    expect(config.dataDir).toBe('/var/lib/dacnet')
    expect(config.storage.quotaBytes).toBe(10 * 1024 ** 3)
    expect(config.maxBlobSize).toBe(1024)
    expect(config.storage.syncReads).toBe('recent')
    expect(parseConfig({ version: 1, storage: { syncReads: false } }, BASE).storage.syncReads).toBe(false)
    const allowed = ['node.example.org', '10.0.0.5', '::1']
    expect(parseConfig({ version: 1, api: { allowedHosts: allowed } }, BASE).api.allowedHosts).toEqual(allowed)
  })

  it('refuses unknown fields, wrong types and out-of-range values with CLI_CONFIG_INVALID naming the field', () => {
    const cases: [unknown, string][] = [
      [{ version: 1, dataDirr: 'x' }, 'dataDirr'],
      [{ version: 1, network: { listen: 'x' } }, 'network.listen'],
      [{ version: 1, network: { listen: ['not-a-multiaddr'] } }, 'network.listen[0]'],
      [{ version: 1, network: { listen: [] } }, 'network.listen'],
      [{ version: 1, api: { port: 70000 } }, 'api.port'],
      [{ version: 1, api: { enableDisperse: true } }, 'api.tokenFile'],
      [{ version: 1, api: { allowedHosts: 'node.example.org' } }, 'api.allowedHosts'],
      [{ version: 1, api: { allowedHosts: ['ok.example', 'node.example.org:5380'] } }, 'api.allowedHosts[1]'],
      [{ version: 1, api: { allowedHosts: [5] } }, 'api.allowedHosts[0]'],
      [{ version: 1, log: { level: 'loud' } }, 'log.level'],
      [{ version: 1, storage: { quotaBytes: 'lots' } }, 'storage.quotaBytes'],
      [{ version: 1, storage: { retentionSeconds: 0 } }, 'storage.retentionSeconds'],
      [{ version: 1, storage: { syncReads: 'sometimes' } }, 'storage.syncReads'],
      [{ version: 1, keystore: [] }, 'keystore'],
      [{ version: 1, storage: { quotaBytes: '0B' } }, 'storage.quotaBytes'],
      [{ version: 1, maxBlobSize: 0 }, 'maxBlobSize'],
      [{ version: 1, chain: 5 }, 'chain'],
      [{ version: 1, chain: { rpcUrl: 'ftp://x', registry: `0x${'1'.repeat(40)}` } }, 'chain.rpcUrl'],
      [{ version: 1, chain: { rpcUrl: 'http://eth:8545' } }, 'chain.registry'],
      [{ version: 1, chain: { rpcUrl: 'http://eth:8545', registry: '0x12' } }, 'chain.registry'],
      [
        { version: 1, chain: { rpcUrl: 'http://e', registry: `0x${'1'.repeat(40)}`, confirmations: -1 } },
        'chain.confirmations',
      ],
      [
        { version: 1, chain: { rpcUrl: 'http://e', registry: `0x${'1'.repeat(40)}`, pollIntervalSeconds: 0 } },
        'chain.pollIntervalSeconds',
      ],
      [{ version: 1, chain: { rpcUrl: 'http://e', registry: `0x${'1'.repeat(40)}`, extra: 1 } }, 'chain.extra'],
      [{ version: 1, keystore: { passwordFile: '' } }, 'keystore.passwordFile'],
      [[], ''],
    ]
    for (const [json, field] of cases) {
      let err: unknown
      try {
        parseConfig(json, BASE)
      } catch (e) {
        err = e
      }
      expect(isDacnetError(err, CliErrorCode.CONFIG_INVALID), JSON.stringify(json)).toBe(true)
      if (field) expect((err as { meta: { field: string } }).meta.field).toBe(field)
    }
  })

  it('says which field is wrong and what a valid value is, in one line', () => {
    const message = (json: unknown) => {
      try {
        parseConfig(json, BASE)
      } catch (err) {
        return (err as Error).message
      }
      return undefined
    }
    expect(message({ version: 1, api: { port: 70000 } })).toBe(
      'config field api.port must be a port number in 0..65535 (0 picks a free port)',
    )
    expect(message({ version: 1, network: { listen: ['/ip4/1.2.3.4/tcp/1', 'nope'] } })).toBe(
      'config field network.listen[1] is not a multiaddr like /ip4/1.2.3.4/tcp/5381: "nope"',
    )
    expect(message({ version: 1, storage: { quotaBytess: 1 } })).toBe(
      'config field storage.quotaBytess is not a known field (check its spelling)',
    )
    expect(message({ version: 1, chain: { rpcUrl: 'http://eth:8545' } })).toBe(
      'config field chain.registry is required when the chain section is set',
    )
    // Comments anywhere, a chain section with its defaults, null for none.
    const chain = parseConfig(
      {
        version: 1,
        $comment: 'a',
        chain: { $comment: 'b', rpcUrl: 'http://eth:8545', registry: `0x${'1'.repeat(40)}` },
      },
      BASE,
    ).chain
    expect(chain).toEqual({
      rpcUrl: 'http://eth:8545',
      registry: `0x${'1'.repeat(40)}`,
      confirmations: 2,
      pollIntervalSeconds: 4,
      maxHeadStallSeconds: 120,
    })
    expect(parseConfig({ version: 1, chain: null }, BASE).chain).toBeNull()
  })

  it('refuses other versions with CLI_CONFIG_VERSION', () => {
    expect(codeOf(() => parseConfig({ version: 2 }, BASE))).toBe(CliErrorCode.CONFIG_VERSION)
    expect(codeOf(() => parseConfig({}, BASE))).toBe(CliErrorCode.CONFIG_VERSION)
  })
})

describe('loading a config file and a password', () => {
  let dir: string
  beforeAll(async () => {
    dir = await tempDir()
  })
  afterAll(() => removeDir(dir))

  const io = (env: Record<string, string> = {}): CliIo => ({
    out: () => {},
    err: () => {},
    env,
    cwd: dir,
    tty: undefined,
    stderrIsTTY: false,
  })

  it('reads a config relative to the working directory and resolves its paths against its own', async () => {
    await writeFile(join(dir, 'c.json'), JSON.stringify({ version: 1, dataDir: 'store' }))
    const { config } = await loadConfig('c.json', dir)
    expect(config.dataDir).toBe(join(dir, 'store'))
    await writeFile(join(dir, 'bad.json'), '{ not json')
    await expect(loadConfig('bad.json', dir)).rejects.toMatchObject({ code: CliErrorCode.READ_FAILED })
    await expect(loadConfig('missing.json', dir)).rejects.toMatchObject({ code: CliErrorCode.FILE_NOT_FOUND })
  })

  it('takes the password from a file (one trailing newline dropped), then the environment', async () => {
    await writeFile(join(dir, 'pw'), 'pass word\n')
    expect(await resolvePassword(io({ [PASSWORD_ENV]: 'env' }), { file: join(dir, 'pw') })).toBe('pass word')
    expect(await resolvePassword(io({ [PASSWORD_ENV]: 'env' }), {})).toBe('env')
  })

  it('refuses an empty password and, without a terminal, a missing one', async () => {
    await writeFile(join(dir, 'empty'), '\n')
    await expect(resolvePassword(io(), { file: join(dir, 'empty') })).rejects.toMatchObject({
      code: CliErrorCode.PASSWORD_INVALID,
    })
    await expect(resolvePassword(io({ [PASSWORD_ENV]: '' }), {})).rejects.toMatchObject({
      code: CliErrorCode.PASSWORD_INVALID,
    })
    await expect(resolvePassword(io(), {})).rejects.toMatchObject({ code: CliErrorCode.PASSWORD_REQUIRED })
    await expect(resolvePassword(io(), { file: join(dir, 'nope') })).rejects.toMatchObject({
      code: CliErrorCode.FILE_NOT_FOUND,
    })
  })
})
