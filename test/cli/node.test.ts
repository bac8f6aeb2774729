import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, errorCode, killLeftovers, removeDir, runCliProcess, spawnCli, tempDir, waitFor } from './helpers.ts'

/**
 * `init` and `node` as an operator runs them: separate processes, no terminal, the real EIP-2335 KDF
 * (about a second per encryption or unlock).
 */
let dir: string
let nodeDir: string
beforeAll(async () => {
  dir = await tempDir()
  nodeDir = join(dir, 'node-1')
  await writeFile(join(dir, 'password'), 'correct horse battery staple\n')
  await writeFile(join(dir, 'wrong'), 'wrong\n')
})
afterAll(async () => {
  killLeftovers()
  await removeDir(dir)
})

describe('dacnet init', () => {
  it('creates the node directory with private keys, a config and the member card', async () => {
    const r = await runCliProcess(
      [
        'init',
        '--dir',
        nodeDir,
        '--password-file',
        'password',
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--api-port',
        '0',
        '--api-allowed-hosts',
        'node.example.org',
        'dacnet-1',
      ],
      { cwd: dir },
    )
    expect(r.code, r.stderr).toBe(0)
    const card = JSON.parse(r.stdout)
    expect(card).toMatchObject({ version: 1, peerId: expect.stringMatching(/^12D3KooW/), multiaddrs: [] })
    expect(card.publicKey).toMatch(/^0x[0-9a-f]{96}$/)
    expect(card.proofOfPossession).toMatch(/^0x[0-9a-f]{192}$/)
    expect(JSON.parse(await readFile(join(nodeDir, 'member-card.json'), 'utf8'))).toEqual(card)
    for (const secret of ['peer.key', 'keystore.json'])
      expect((await stat(join(nodeDir, secret))).mode & 0o777).toBe(0o600)
    const keystore = JSON.parse(await readFile(join(nodeDir, 'keystore.json'), 'utf8'))
    expect(keystore.crypto.kdf).toMatchObject({ function: 'scrypt', params: { n: 262144 } })
    const config = JSON.parse(await readFile(join(nodeDir, 'config.json'), 'utf8'))
    expect(config).toMatchObject({
      version: 1,
      keystore: { passwordFile: join(dir, 'password') },
      api: { port: 0, allowedHosts: ['node.example.org', 'dacnet-1'] },
    })
    expect((await stat(join(nodeDir, 'data'))).isDirectory()).toBe(true)
    expect(r.stderr).toContain('warning: the card lists no address')
  }, 30_000)

  it('never overwrites a node directory, and needs a password without a terminal', async () => {
    const again = await runCliProcess(['init', '--dir', nodeDir, '--password-file', 'password'], { cwd: dir })
    expect([again.code, errorCode(again.stderr)]).toEqual([1, 'CLI_ALREADY_EXISTS'])
    const noPassword = await runCliProcess(['init', '--dir', join(dir, 'other')], { cwd: dir })
    expect([noPassword.code, errorCode(noPassword.stderr)]).toEqual([1, 'CLI_PASSWORD_REQUIRED'])
    expect(noPassword.stderr).toContain('DACNET_KEYSTORE_PASSWORD')
  })

  it('leaves nothing behind when interrupted during the keystore encryption, so a second init succeeds', async () => {
    const target = join(dir, 'interrupted')
    const child = spawnCli(['init', '--dir', target, '--password-file', 'password'], { cwd: dir })
    const out = collect(child)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    await waitFor(() => out.stderr().includes('encrypting the keystore') || undefined, 20_000, 'the encryption note')
    child.kill('SIGINT')
    expect(await exited).not.toBe(0)
    for (const name of ['peer.key', 'keystore.json', 'config.json', 'member-card.json']) {
      await expect(stat(join(target, name)), name).rejects.toMatchObject({ code: 'ENOENT' })
    }
    const r = await runCliProcess(['init', '--dir', target, '--password-file', 'password'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
  }, 40_000)

  it('records --committee so that it names the file the operator meant, wherever init ran from', async () => {
    const target = join(dir, 'nodes', 'relative-committee')
    const r = await runCliProcess(
      ['init', '--dir', 'nodes/relative-committee', '--password-file', 'password', '--committee', 'shared/c.json'],
      { cwd: dir },
    )
    expect(r.code, r.stderr).toBe(0)
    const config = JSON.parse(await readFile(join(target, 'config.json'), 'utf8'))
    expect(config.committeeFile).toBe(join(dir, 'shared', 'c.json'))
    expect(JSON.parse(await readFile(join(nodeDir, 'config.json'), 'utf8')).committeeFile).toBe('committee.json')
    for (const bad of ['', 'nodes']) {
      const refused = await runCliProcess(['init', '--dir', 'nodes/other', '--committee', bad], { cwd: dir })
      expect([refused.code, errorCode(refused.stderr)], refused.stderr).toEqual([2, 'CLI_USAGE'])
    }
  }, 30_000)

  it('refuses a --dir it can never write before the KDF, and takes back what it wrote when a write fails', async () => {
    await writeFile(join(dir, 'a-file'), 'not a directory\n')
    const start = performance.now()
    const r = await runCliProcess(['init', '--dir', 'a-file/node', '--password-file', 'password'], { cwd: dir })
    expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CLI_WRITE_FAILED'])
    expect(r.stderr).not.toContain('encrypting the keystore')
    expect(performance.now() - start).toBeLessThan(20_000)
    // member-card.json is a directory: the write fails after the keys were written; none of them stays.
    const target = join(dir, 'card-blocked')
    await mkdir(join(target, 'member-card.json'), { recursive: true })
    const blocked = await runCliProcess(['init', '--dir', target, '--password-file', 'password'], { cwd: dir })
    expect([blocked.code, errorCode(blocked.stderr)]).toEqual([1, 'CLI_WRITE_FAILED'])
    for (const name of ['peer.key', 'keystore.json', 'config.json', 'data']) {
      await expect(stat(join(target, name)), name).rejects.toMatchObject({ code: 'ENOENT' })
    }
    expect((await stat(join(target, 'member-card.json'))).isDirectory()).toBe(true)
  }, 30_000)

  it('names a directory holding keys but no config as an interrupted init, and leaves the keys alone', async () => {
    const target = join(dir, 'half-made')
    await mkdir(target)
    await copyFile(join(nodeDir, 'peer.key'), join(target, 'peer.key'))
    const r = await runCliProcess(['init', '--dir', target, '--password-file', 'password'], { cwd: dir })
    expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CLI_ALREADY_EXISTS'])
    expect(r.stderr).toContain('holds peer.key but no config.json: an earlier init was interrupted')
    expect(await readFile(join(target, 'peer.key'))).toEqual(await readFile(join(nodeDir, 'peer.key')))
    await expect(stat(join(target, 'keystore.json'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('dacnet node', () => {
  beforeAll(async () => {
    // A committee of this one member (node directories find committee.json next to their config).
    const r = await runCliProcess(
      [
        'committee',
        'create',
        '--network-id',
        '9',
        '--card',
        join(nodeDir, 'member-card.json:10'),
        '--out',
        'committee.json',
      ],
      { cwd: dir },
    )
    expect(r.code, r.stderr).toBe(0)
    await copyFile(join(dir, 'committee.json'), join(nodeDir, 'committee.json'))
  })

  it('refuses a wrong password, a broken config and a missing committee file with their codes', async () => {
    const wrong = await runCliProcess(['node', '--config', join(nodeDir, 'config.json'), '--password-file', 'wrong'], {
      cwd: dir,
    })
    expect([wrong.code, errorCode(wrong.stderr)]).toEqual([1, 'ATTEST_WRONG_PASSWORD'])
    await writeFile(join(dir, 'broken.json'), JSON.stringify({ version: 1, api: { prot: 1 } }))
    const broken = await runCliProcess(['node', '--config', 'broken.json'], { cwd: dir })
    expect([broken.code, errorCode(broken.stderr)]).toEqual([1, 'CLI_CONFIG_INVALID'])
    expect(broken.stderr).toContain('api.prot')
    await writeFile(
      join(dir, 'elsewhere.json'),
      JSON.stringify({
        version: 1,
        peerKeyFile: join(nodeDir, 'peer.key'),
        keystore: { path: join(nodeDir, 'keystore.json') },
        committeeFile: 'no-such-committee.json',
      }),
    )
    const noCommittee = await runCliProcess(['node', '--config', 'elsewhere.json', '--password-file', 'password'], {
      cwd: dir,
    })
    expect([noCommittee.code, errorCode(noCommittee.stderr)]).toEqual([1, 'CLI_FILE_NOT_FOUND'])
    // A token with a space in it is named with its file, before the keystore is opened or libp2p started.
    await writeFile(join(dir, 'token'), 'two words\n')
    const token = await runCliProcess(
      ['node', '--config', join(nodeDir, 'config.json'), '--api-token-file', 'token', '--password-file', 'wrong'],
      { cwd: dir },
    )
    expect([token.code, errorCode(token.stderr)]).toEqual([1, 'CLI_CONFIG_INVALID'])
    expect(token.stderr).toContain(`API token file ${join(dir, 'token')} must hold one word`)
  }, 30_000)

  it('reloads the committee file on SIGHUP, and keeps the old committees when the new file is broken', async () => {
    const committeeFile = join(nodeDir, 'committee.json')
    const original = await readFile(committeeFile, 'utf8')
    const child = spawnCli(['node', '--config', join(nodeDir, 'config.json')], { cwd: dir })
    const out = collect(child)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const api = await waitFor(() => /node ready .*api=(http:\/\/\S+)/.exec(out.stderr())?.[1], 20_000, 'node ready')
      const appended = await runCliProcess(
        [
          'committee',
          'create',
          '--append',
          '--epoch',
          '1',
          '--card',
          join(nodeDir, 'member-card.json:20'),
          '--out',
          committeeFile,
        ],
        { cwd: dir },
      )
      expect(appended.code, appended.stderr).toBe(0)
      child.kill('SIGHUP')
      await waitFor(() => /committee file reloaded.*epochs=\[?0,\s?1/.exec(out.stderr()) ?? undefined, 10_000, 'reload')

      await writeFile(committeeFile, '{"version": 1, "networkId": ')
      child.kill('SIGHUP')
      await waitFor(() => /committee file reload failed/.exec(out.stderr()) ?? undefined, 10_000, 'failed reload')
      expect(await (await fetch(`${api}/health`)).json()).toMatchObject({ status: expect.any(String) })
    } finally {
      child.kill('SIGTERM')
      await writeFile(committeeFile, original)
    }
    expect(await exited).toBe(0)
  }, 40_000)

  it('serves until SIGTERM, then finishes, closes its database and exits 0', async () => {
    const child = spawnCli(['node', '--config', join(nodeDir, 'config.json')], { cwd: dir })
    const out = collect(child)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const api = await waitFor(() => /node ready .*api=(http:\/\/\S+)/.exec(out.stderr())?.[1], 20_000, 'node ready')
      expect(await (await fetch(`${api}/health`)).json()).toMatchObject({ status: expect.any(String) })
      const status = await runCliProcess(['status', '--api', api, '--json'])
      expect(status.code, status.stderr).toBe(0)
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, storage: { blobs: 0 } })
      const human = await runCliProcess(['status', '--api', api])
      expect(human.stdout).toMatch(/^node\s+12D3KooW/)
      // The store is locked while the node runs: the integrity check says so instead of corrupting anything.
      const locked = await runCliProcess(['db', 'check', '--config', join(nodeDir, 'config.json')])
      expect([locked.code, errorCode(locked.stderr)]).toEqual([1, 'STORAGE_OPEN_FAILED'])
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(out.stderr()).toContain('node stopped cleanly')
    const check = await runCliProcess(['db', 'check', '--config', join(nodeDir, 'config.json'), '--json'])
    expect(check.code, check.stderr).toBe(0)
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true })
  }, 40_000)

  it('stops cleanly on a signal sent the moment it says ready, and exits at once with 130 on a second one', async () => {
    const start = async () => {
      const child = spawnCli(['node', '--config', join(nodeDir, 'config.json')], { cwd: dir })
      const out = collect(child)
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      // The instant the line arrives, as a supervisor reacting to it would (no polling delay).
      await new Promise<void>((resolve) => {
        child.stderr!.on('data', () => {
          if (out.stderr().includes('node ready')) resolve()
        })
      })
      return { child, out, exited }
    }
    const once = await start()
    once.child.kill('SIGTERM')
    expect(await once.exited, once.out.stderr()).toBe(0)
    expect(once.out.stderr()).toContain('node stopped cleanly')

    const twice = await start()
    // Both signals pending at once (the node held stopped while they are sent: on two cores it would otherwise run
    // between the two kill calls and may finish its quick stop first); two different signals never merge into one.
    twice.child.kill('SIGSTOP')
    twice.child.kill('SIGTERM')
    twice.child.kill('SIGINT')
    twice.child.kill('SIGCONT')
    expect(await twice.exited, twice.out.stderr()).toBe(130)
    expect(twice.out.stderr()).toContain('second signal')
  }, 60_000)
})
