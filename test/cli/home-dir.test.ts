import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  cli,
  collect,
  errorCode,
  killLeftovers,
  removeDir,
  runCliProcess,
  spawnCli,
  tempDir,
  waitFor,
} from './helpers.ts'

/**
 * The home directory as an operator (or a container) uses it: `dacnet init` without --dir, then `dacnet node`
 * without --config, configured further through DACNET_* variables and flags. HOME and DACNET_HOME always point
 * into a temp directory.
 */
let dir: string
let home: string
beforeAll(async () => {
  dir = await tempDir()
  home = join(dir, 'home')
  await writeFile(join(dir, 'password'), 'correct horse battery staple\n')
})
afterAll(async () => {
  killLeftovers()
  await removeDir(dir)
})

describe('the home directory', () => {
  it('without a config there, node says in one line to run dacnet init', async () => {
    const r = await cli(['node'], { cwd: dir, env: { DACNET_HOME: 'home', HOME: dir } })
    expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CLI_FILE_NOT_FOUND'])
    expect(r.stderr).toContain(`no node config at ${join(home, 'config.json')}`)
    expect(r.stderr).toContain('run `dacnet init`')
    // Without DACNET_HOME: ~/.dacnet.
    const plain = await cli(['node'], { cwd: dir, env: { HOME: dir } })
    expect(plain.stderr).toContain(`no node config at ${join(dir, '.dacnet', 'config.json')}`)
  })

  it('init without --dir creates the node directory there, and node without --config runs it', async () => {
    const env = { DACNET_HOME: home, HOME: dir }
    const init = await cli(['init', '--password-file', 'password'], { cwd: dir, env })
    expect(init.code, init.stderr).toBe(0)
    expect(init.stderr).toContain(`created node directory ${home}`)
    expect(init.stderr).toContain('start it with `dacnet node`')
    expect((await stat(join(home, 'data'))).isDirectory()).toBe(true)
    const config = JSON.parse(await readFile(join(home, 'config.json'), 'utf8'))
    expect(config.log).toMatchObject({ level: 'info', json: false })
    const committee = await cli(
      ['committee', 'create', '--network-id', '3', '--card', 'member-card.json:10', '--out', 'committee.json'],
      { cwd: home },
    )
    expect(committee.code, committee.stderr).toBe(0)

    // The file says text at info; the environment says JSON at error; the flag says info: JSON lines at info.
    const child = spawnCli(['node', '--log-level', 'info'], {
      cwd: dir,
      env: {
        ...env,
        DACNET_NETWORK_LISTEN: '/ip4/127.0.0.1/tcp/0',
        DACNET_API_PORT: '0',
        DACNET_LOG_JSON: 'true',
        DACNET_LOG_LEVEL: 'error',
        DACNET_API_PROT: '8080',
      },
    })
    const out = collect(child)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const ready = await waitFor(
        () =>
          out
            .stderr()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .find((entry) => entry['msg'] === 'node ready'),
        30_000,
        'node ready',
      )
      expect(ready).toMatchObject({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })
      const api = ready['api'] as string
      expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(api).not.toMatch(/:5380$/)
      expect(await (await fetch(`${api}/health`)).json()).toMatchObject({ status: expect.any(String) })
      const lines = out.stderr().trim().split('\n')
      expect(
        lines.every((line) => line.startsWith('{')),
        out.stderr(),
      ).toBe(true)
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(entries.find((e) => e['msg'] === 'config loaded')).toMatchObject({ path: join(home, 'config.json') })
      expect(entries.find((e) => /not a config key/.test(String(e['msg'])))).toMatchObject({
        level: 'warn',
        name: 'DACNET_API_PROT',
      })
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited, out.stderr()).toBe(0)
  }, 60_000)

  it('refuses a dataDir that does not exist, and does not create it', async () => {
    const env = { DACNET_HOME: home, HOME: dir, DACNET_API_PORT: '0', DACNET_NETWORK_LISTEN: '/ip4/127.0.0.1/tcp/0' }
    await rename(join(home, 'data'), join(home, 'data-moved'))
    try {
      const r = await runCliProcess(['node'], { cwd: dir, env })
      expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CLI_FILE_NOT_FOUND'])
      expect(r.stderr).toContain(`data directory ${join(home, 'data')} (dataDir) does not exist`)
      await expect(stat(join(home, 'data'))).rejects.toMatchObject({ code: 'ENOENT' })
      // The same from the environment, relative to the working directory.
      const elsewhere = await runCliProcess(['node'], { cwd: dir, env: { ...env, DACNET_DATA_DIR: 'no-such-dir' } })
      expect([elsewhere.code, errorCode(elsewhere.stderr)]).toEqual([1, 'CLI_FILE_NOT_FOUND'])
      expect(elsewhere.stderr).toContain(`data directory ${join(dir, 'no-such-dir')} (dataDir) does not exist`)
      await expect(stat(join(dir, 'no-such-dir'))).rejects.toMatchObject({ code: 'ENOENT' })
    } finally {
      await rename(join(home, 'data-moved'), join(home, 'data'))
    }
  }, 60_000)

  it('a second init in the home directory is refused: keys are never overwritten', async () => {
    const r = await cli(['init', '--password-file', 'password'], { cwd: dir, env: { DACNET_HOME: home, HOME: dir } })
    expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CLI_ALREADY_EXISTS'])
  })
})

describe('init with config flags', () => {
  it('writes every other key given as a flag into the config, and creates a dataDir elsewhere', async () => {
    const r = await cli(
      [
        'init',
        '--dir',
        'flagged',
        '--password-file',
        'password',
        '--data-dir',
        'volumes/shards',
        '--api-host',
        '0.0.0.0',
        '--log-json',
        '--storage-quota-bytes',
        '2GiB',
      ],
      { cwd: dir, env: { HOME: dir } },
    )
    expect(r.code, r.stderr).toBe(0)
    const config = JSON.parse(await readFile(join(dir, 'flagged', 'config.json'), 'utf8'))
    expect(config).toMatchObject({
      dataDir: join(dir, 'volumes', 'shards'),
      api: { host: '0.0.0.0', port: 5380 },
      log: { json: true, level: 'info' },
      storage: { quotaBytes: '2GiB' },
    })
    expect((await stat(join(dir, 'volumes', 'shards'))).isDirectory()).toBe(true)
    expect(r.stderr).toContain('start it with `dacnet node --config')
  })

  it('refuses an invalid flag value as the node would, before the keystore is encrypted, leaving nothing', async () => {
    const r = await cli(['init', '--dir', 'refused', '--password-file', 'password', '--storage-quota-bytes', 'lots'], {
      cwd: dir,
      env: { HOME: dir },
    })
    expect([r.code, errorCode(r.stderr)]).toEqual([2, 'CLI_CONFIG_INVALID'])
    expect(r.stderr).toContain('--storage-quota-bytes: must be bytes or a size')
    expect(r.stderr).not.toContain('encrypting the keystore')
    await expect(stat(join(dir, 'refused'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
