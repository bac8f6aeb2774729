import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configKeyTable, KEY_TABLE_BEGIN, KEY_TABLE_END } from '../../src/cli/config/doc.ts'
import { CONFIG_KEYS, envName, flagName } from '../../src/cli/config/keys.ts'
import { loadNodeConfig } from '../../src/cli/config/load.ts'
import { parseConfig } from '../../src/cli/config/parse.ts'
import { envOverrides, flagOverrides } from '../../src/cli/config/sources.ts'
import { defaultConfig } from '../../src/cli/config/types.ts'
import { CliErrorCode } from '../../src/cli/errors.ts'
import { buildProgram } from '../../src/cli/main.ts'
import { isDacnetError } from '../../src/errors.ts'
import { cli, removeDir, tempDir } from './helpers.ts'

const BASE = '/srv/dacnet/node-1'
const CWD = '/home/operator'

/** parseConfig over a file, the environment and flags, as `dacnet node` merges them. */
function merged(
  file: Record<string, unknown>,
  env: Record<string, string> = {},
  flags: [string, string | string[] | boolean][] = [],
) {
  return parseConfig({ version: 1, ...file }, BASE, [
    ...envOverrides(env, CWD).overrides,
    ...flagOverrides(new Map(flags), CWD),
  ])
}

function refusal(fn: () => unknown): { code: string; message: string; field: unknown } {
  try {
    fn()
  } catch (err) {
    if (!isDacnetError(err)) throw err
    return { code: err.code, message: err.message, field: err.meta['field'] }
  }
  throw new Error('not refused')
}

describe('config keys as flags and environment variables', () => {
  it('gives every key of the file a flag and an environment variable, named from its path, all distinct', () => {
    const leaves = (value: unknown, prefix = ''): string[] =>
      Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
        typeof v === 'object' && v !== null && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      )
    const chainKeys = [
      'chain.rpcUrl',
      'chain.registry',
      'chain.confirmations',
      'chain.pollIntervalSeconds',
      'chain.maxHeadStallSeconds',
    ]
    const fileKeys = [...leaves(defaultConfig()).filter((k) => k !== 'version' && k !== 'chain'), ...chainKeys]
    expect(CONFIG_KEYS.map((k) => k.path).sort()).toEqual(fileKeys.sort())
    expect(envName('api.allowedHosts')).toBe('DACNET_API_ALLOWED_HOSTS')
    expect(flagName('api.allowedHosts')).toBe('--api-allowed-hosts')
    expect(envName('storage.pruneIntervalSeconds')).toBe('DACNET_STORAGE_PRUNE_INTERVAL_SECONDS')
    expect(new Set(CONFIG_KEYS.map((k) => envName(k.path))).size).toBe(CONFIG_KEYS.length)
    // Every flag is an option of `dacnet node`, and its help names the environment variable.
    const node = buildProgram().commands.find((c) => c.name() === 'node')!
    for (const key of CONFIG_KEYS) {
      const option = node.options.find((o) => o.long === flagName(key.path))
      expect(option, key.path).toBeDefined()
      expect(option!.description).toContain(envName(key.path))
    }
  })

  it('sets every key from its environment variable and from its flag', () => {
    const text: Record<string, string> = {
      peerKeyFile: 'keys/peer.key',
      'keystore.path': 'keys/keystore.json',
      'keystore.passwordFile': '/run/secrets/pw',
      committeeFile: '/shared/committee.json',
      'chain.rpcUrl': 'http://eth:8545',
      'chain.registry': `0x${'ab'.repeat(20)}`,
      'chain.confirmations': '5',
      'chain.pollIntervalSeconds': '0.5',
      'chain.maxHeadStallSeconds': '600',
      dataDir: '/var/lib/dacnet',
      'network.listen': '/ip4/0.0.0.0/tcp/6000, /ip4/0.0.0.0/tcp/6001/ws',
      'network.announce': '/dns4/node-1.example.org/tcp/6000',
      'network.bootstrap': '/dns4/node-2/tcp/5381,/dns4/node-3/tcp/5381',
      'network.bootstrapFromCommittee': 'false',
      'network.localNetwork': 'true',
      'storage.quotaBytes': '2GiB',
      'storage.retentionSeconds': '3600',
      'storage.pruneIntervalSeconds': '5',
      'storage.syncReads': 'false',
      'api.enabled': 'false',
      'api.host': '0.0.0.0',
      'api.port': '8080',
      'api.allowedHosts': 'node-1,dac.example.org',
      'api.enableDisperse': 'true',
      'api.tokenFile': 'token',
      'log.level': 'debug',
      'log.json': 'true',
      maxBlobSize: '1048576',
      servingBytesPerSecond: '64MiB',
    }
    expect(Object.keys(text).sort()).toEqual(CONFIG_KEYS.map((k) => k.path).sort())
    const expected = {
      version: 1,
      peerKeyFile: `${CWD}/keys/peer.key`,
      keystore: { path: `${CWD}/keys/keystore.json`, passwordFile: '/run/secrets/pw' },
      committeeFile: '/shared/committee.json',
      chain: {
        rpcUrl: 'http://eth:8545',
        registry: `0x${'ab'.repeat(20)}`,
        confirmations: 5,
        pollIntervalSeconds: 0.5,
        maxHeadStallSeconds: 600,
      },
      dataDir: '/var/lib/dacnet',
      network: {
        listen: ['/ip4/0.0.0.0/tcp/6000', '/ip4/0.0.0.0/tcp/6001/ws'],
        announce: ['/dns4/node-1.example.org/tcp/6000'],
        bootstrap: ['/dns4/node-2/tcp/5381', '/dns4/node-3/tcp/5381'],
        bootstrapFromCommittee: false,
        localNetwork: true,
      },
      storage: { quotaBytes: 2 * 1024 ** 3, retentionSeconds: 3600, pruneIntervalSeconds: 5, syncReads: false },
      api: {
        enabled: false,
        host: '0.0.0.0',
        port: 8080,
        allowedHosts: ['node-1', 'dac.example.org'],
        enableDisperse: true,
        tokenFile: `${CWD}/token`,
      },
      log: { level: 'debug', json: true },
      maxBlobSize: 1048576,
      servingBytesPerSecond: 64 * 1024 ** 2,
    }
    const env = Object.fromEntries(Object.entries(text).map(([k, v]) => [envName(k), v]))
    expect(merged({}, env)).toEqual(expected)
    expect(merged({}, {}, Object.entries(text))).toEqual(expected)
  })

  it('takes a flag over the environment, the environment over the file, the file over the default', () => {
    const file = { api: { port: 7001, host: '10.0.0.1' }, log: { level: 'warn' }, storage: { quotaBytes: '1GiB' } }
    const env = { DACNET_API_PORT: '7002', DACNET_LOG_LEVEL: 'error' }
    const config = merged(file, env, [['api.port', '7003']])
    expect(config.api.port).toBe(7003) // flag
    expect(config.log.level).toBe('error') // environment
    expect(config.api.host).toBe('10.0.0.1') // file
    expect(config.storage.quotaBytes).toBe(1024 ** 3) // file
    expect(config.maxBlobSize).toBe(defaultConfig().maxBlobSize) // default
    expect(merged(file, env).api.port).toBe(7002)
    expect(merged(file).api.port).toBe(7001)
    // Relative paths: from the file against its directory, from outside against the working directory.
    expect(merged({ dataDir: 'store' }).dataDir).toBe(`${BASE}/store`)
    expect(merged({ dataDir: 'store' }, { DACNET_DATA_DIR: 'other' }).dataDir).toBe(`${CWD}/other`)
    // An empty variable is unset; a boolean flag alone is true.
    expect(merged({ log: { json: false } }, { DACNET_LOG_JSON: '' }).log.json).toBe(false)
    expect(merged({ log: { json: false } }, {}, [['log.json', true]]).log.json).toBe(true)
  })

  it('refuses an invalid value from any source with CLI_CONFIG_INVALID naming that source', () => {
    expect(refusal(() => merged({ api: { port: 70000 } }))).toMatchObject({
      code: CliErrorCode.CONFIG_INVALID,
      message: 'config field api.port must be a port number in 0..65535 (0 picks a free port)',
      field: 'api.port',
    })
    expect(refusal(() => merged({}, { DACNET_API_PORT: '70000' }))).toMatchObject({
      code: CliErrorCode.CONFIG_INVALID,
      message: 'DACNET_API_PORT: must be a port number in 0..65535 (0 picks a free port)',
      field: 'api.port',
    })
    expect(refusal(() => merged({}, {}, [['api.port', 'http']]))).toMatchObject({
      code: CliErrorCode.CONFIG_INVALID,
      message: '--api-port: must be a port number in 0..65535 (0 picks a free port)',
    })
    expect(refusal(() => merged({}, { DACNET_NETWORK_LISTEN: '/ip4/1.2.3.4/tcp/1,nope' })).message).toBe(
      'DACNET_NETWORK_LISTEN: entry 2 is not a multiaddr like /ip4/1.2.3.4/tcp/5381: "nope"',
    )
    expect(refusal(() => merged({}, { DACNET_API_ALLOWED_HOSTS: 'ok.example,node:5380' })).message).toMatch(
      /^DACNET_API_ALLOWED_HOSTS: entry 2 .*"node:5380"$/,
    )
    expect(refusal(() => merged({}, { DACNET_LOG_JSON: 'yes' })).message).toBe('DACNET_LOG_JSON: must be true or false')
    expect(refusal(() => merged({}, { DACNET_STORAGE_QUOTA_BYTES: 'lots' })).message).toMatch(
      /^DACNET_STORAGE_QUOTA_BYTES: /,
    )
    // A value from the environment that a flag replaces is never looked at.
    expect(merged({}, { DACNET_API_PORT: 'x' }, [['api.port', '1']]).api.port).toBe(1)
    // A bad file value overridden by a good flag is fine; a good file value never hides a bad variable.
    expect(merged({ api: { port: 'x' } }, {}, [['api.port', '2']]).api.port).toBe(2)
  })

  it('refuses values that would pass a bare type check but break the node later, naming the source', () => {
    const refused = (env: Record<string, string>) => refusal(() => merged({}, env))
    // Past a day, Node's timer would overflow and the pruner would run every millisecond.
    expect(refused({ DACNET_STORAGE_PRUNE_INTERVAL_SECONDS: '3000000' })).toMatchObject({
      code: CliErrorCode.CONFIG_INVALID,
      message: 'DACNET_STORAGE_PRUNE_INTERVAL_SECONDS: must be a whole number of seconds in 1..86400 (a day)',
    })
    expect(refused({ DACNET_STORAGE_RETENTION_SECONDS: '99999999999999' }).message).toMatch(
      /^DACNET_STORAGE_RETENTION_SECONDS: must be a whole number of seconds in 1\.\.3155760000/,
    )
    expect(
      refused({
        DACNET_CHAIN_RPC_URL: 'http://eth:8545',
        DACNET_CHAIN_REGISTRY: `0x${'1'.repeat(40)}`,
        DACNET_CHAIN_CONFIRMATIONS: `1${'0'.repeat(30)}`,
      }).message,
    ).toBe('DACNET_CHAIN_CONFIRMATIONS: must be a whole number of blocks in 0..10000')
    // Sizes: a number or a text, held to the key's range either way.
    for (const quota of ['99999999999999999999', '99999999TiB']) {
      expect(refused({ DACNET_STORAGE_QUOTA_BYTES: quota })).toMatchObject({
        code: CliErrorCode.CONFIG_INVALID,
        field: 'storage.quotaBytes',
      })
    }
    for (const rate of ['1', '1000', '0.5KiB']) {
      expect(refused({ DACNET_SERVING_BYTES_PER_SECOND: rate }).message).toBe(
        'DACNET_SERVING_BYTES_PER_SECOND: must be bytes or a size like "8MiB" (at least 1KiB)',
      )
    }
    expect(merged({}, { DACNET_SERVING_BYTES_PER_SECOND: '1KiB' }).servingBytesPerSecond).toBe(1024)
    for (const blob of ['2GiB', String(2 * 1024 ** 3)]) {
      expect(refused({ DACNET_MAX_BLOB_SIZE: blob }).message).toBe(
        'DACNET_MAX_BLOB_SIZE: must be bytes or a size like "32MiB", from 1 byte to 1GiB',
      )
    }
    expect(refusal(() => merged({ maxBlobSize: 2 * 1024 ** 3 })).message).toMatch(/^config field maxBlobSize must be /)
    expect(merged({ maxBlobSize: '1GiB', storage: { pruneIntervalSeconds: 86_400 } })).toMatchObject({
      maxBlobSize: 1024 ** 3,
      storage: { pruneIntervalSeconds: 86_400 },
    })
  })

  it('opens the chain section from the environment, and then asks for the registry by every name', () => {
    const r = refusal(() => merged({}, { DACNET_CHAIN_RPC_URL: 'http://eth:8545' }))
    expect(r.field).toBe('chain.registry')
    expect(r.message).toContain('DACNET_CHAIN_RPC_URL sets chain.rpcUrl')
    expect(r.message).toContain('DACNET_CHAIN_REGISTRY')
    expect(refusal(() => merged({}, { DACNET_API_ENABLE_DISPERSE: 'true' })).message).toContain(
      'api.tokenFile is required when api.enableDisperse is true (set by DACNET_API_ENABLE_DISPERSE)',
    )
  })

  it('reports DACNET_ variables that look like config keys but are none, and leaves the others alone', () => {
    const { unknown, overrides } = envOverrides(
      {
        DACNET_API_PROT: '1',
        DACNET_STORAGE_QUOTA: '1GiB',
        DACNET_DATADIR: '/srv/data',
        DACNET_KEYSTORE_PASSWORD: 'secret',
        DACNET_CHAIN: 'chain.json',
        DACNET_HOME: '/x',
        DACNET_ETH_KEY: '0x1',
        PATH: '/bin',
      },
      CWD,
    )
    // Root keys' typos too: every DACNET_* name that is neither a key nor one of dacnet's other variables.
    expect(unknown).toEqual(['DACNET_API_PROT', 'DACNET_DATADIR', 'DACNET_STORAGE_QUOTA'])
    expect(overrides).toEqual([])
  })
})

describe('dacnet node, from the file, the environment and flags', () => {
  let dir: string
  beforeAll(async () => {
    dir = await tempDir()
    await writeFile(join(dir, 'config.json'), JSON.stringify({ version: 1, api: { port: 7001 } }))
  })
  afterAll(() => removeDir(dir))

  it('loads --config, the environment over it and the flags over both', async () => {
    const flags = new Map([['log.level', 'debug']])
    const { config, path } = await loadNodeConfig({
      configFile: 'config.json',
      env: { DACNET_API_PORT: '7002', DACNET_LOG_LEVEL: 'warn' },
      flags,
      cwd: dir,
    })
    expect(path).toBe(join(dir, 'config.json'))
    expect([config.api.port, config.log.level]).toEqual([7002, 'debug'])
  })

  it('warns about a misspelt variable first, even when the node then fails to start', async () => {
    // The config names no keystore that exists: the start fails, and the warning has been written before.
    const r = await cli(['node', '--config', 'config.json'], { cwd: dir, env: { DACNET_DATADIR: '/srv/data' } })
    expect(r.code).toBe(1)
    const warning = r.stderr.indexOf('environment variable is not a config key')
    expect(warning).toBeGreaterThanOrEqual(0)
    expect(r.stderr.slice(warning)).toContain('DACNET_DATADIR')
    expect(r.stderr.indexOf('error CLI_FILE_NOT_FOUND')).toBeGreaterThan(warning)
  })

  it('refuses a bad variable or flag before anything starts, as one error line naming it', async () => {
    const env = await cli(['node', '--config', 'config.json'], { cwd: dir, env: { DACNET_API_PORT: '70000' } })
    expect(env.code).toBe(1)
    expect(env.stderr).toMatch(/^error CLI_CONFIG_INVALID: DACNET_API_PORT: must be a port number in 0\.\.65535/)
    const flag = await cli(['node', '--config', 'config.json', '--network-listen', 'nope'], { cwd: dir })
    expect(flag.code).toBe(2) // a bad value on the command line: a usage error
    expect(flag.stderr).toMatch(/^error CLI_CONFIG_INVALID: --network-listen: entry 1 is not a multiaddr/)
  })
})

describe('docs/OPERATORS.md', () => {
  it('lists every key with its flag, environment variable and default: the generated table', async () => {
    const doc = await readFile(new URL('../../docs/OPERATORS.md', import.meta.url), 'utf8')
    const start = doc.indexOf(KEY_TABLE_BEGIN)
    const end = doc.indexOf(KEY_TABLE_END)
    expect(start, 'the table markers').toBeGreaterThan(0)
    expect(
      doc.slice(start + KEY_TABLE_BEGIN.length, end).trim(),
      'regenerate with: npm exec -- node src/cli/config/doc.ts',
    ).toBe(configKeyTable())
    for (const key of CONFIG_KEYS) expect(doc).toContain(`\`${envName(key.path)}\``)
  })
})
