import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildProgram } from '../../src/cli/main.ts'
import { ShardStore } from '../../src/storage/index.ts'
import { cli, errorCode, removeDir, tempDir, writeCard } from './helpers.ts'

let dir: string
beforeAll(async () => {
  dir = await tempDir()
})
afterAll(() => removeDir(dir))

/** Every command path, e.g. ['init'], ['committee', 'create'], ['db', 'check']. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])])
}

describe('the dacnet command', () => {
  it('has --help on every command, exiting 0 with its usage on stdout', async () => {
    const paths = commandPaths(buildProgram())
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining([
        'init',
        'committee create',
        'node',
        'devnet',
        'disperse',
        'sample',
        'retrieve',
        'verify',
        'status',
        'db check',
        'identity',
      ]),
    )
    for (const path of [[], ...paths]) {
      const r = await cli([...path, '--help'])
      expect(r.code, path.join(' ')).toBe(0)
      expect(r.stdout).toContain(`Usage: dacnet${path.length ? ` ${path.join(' ')}` : ''}`)
    }
  })

  it('answers bad usage with CLI_USAGE, a hint naming the command, and exit code 2', async () => {
    const cases = [
      ['frobnicate'],
      ['init', '--dir'],
      ['disperse'],
      ['disperse', 'f', '--key', 'k', '--bogus'],
      ['retrieve', 'bafk'],
      ['devnet', '--nodes', '0'],
      ['devnet', '--blob-size', 'big'],
      // Above what the devnet's nodes take: refused before anything starts, not blob after blob.
      ['devnet', '--blob-size', '33MiB'],
      // Past a day a time limit is a typo (and past ~24.8 days no timer holds it).
      ['da-server', '--key', 'k', '--put-timeout', '3000000'],
      ['disperse', 'f', '--key', 'k', '--member-timeout', '86401'],
      ['committee', 'create', '--network-id', '1', '--retention-seconds', '99999999999999'],
      ['sample', 'x', '--confidence', '2'],
      ['status', '--api', 'ftp://x'],
      ['db', 'check'],
      ['db', 'check', '--data-dir', 'a', '--config', 'b'],
      ['committee', 'create', '--card', 'c.json'],
      ['disperse', 'f', '--key', 'k', '--bootstrap', 'not-a-multiaddr'],
      ['init', '--dir', 'never-made', '--listen', 'ip4/127.0.0.1/tcp/5381'],
      ['init', '--dir', 'never-made', '--announce', '/dns4/node.example.org/tcp/5381', 'nope'],
    ]
    for (const args of cases) {
      const r = await cli(args, { cwd: dir })
      expect(r.code, args.join(' ')).toBe(2)
      expect(errorCode(r.stderr), args.join(' ')).toBe('CLI_USAGE')
      expect(r.stderr).toMatch(/^error CLI_USAGE: .*; hint: run 'dacnet .*--help' for usage$/m)
      expect(r.stdout).toBe('')
    }
    expect((await cli(['db', 'check'])).stderr).toContain("run 'dacnet db check --help'")
  })

  it('prints the stack and metadata of an error only with --debug', async () => {
    const plain = await cli(['verify', 'missing.json'], { cwd: dir })
    expect(plain.stderr.trim().split('\n')).toHaveLength(1)
    const debug = await cli(['verify', 'missing.json', '--debug'], { cwd: dir })
    expect(debug.stderr).toMatch(/^\s+at /m)
    expect(debug.stderr).toContain('meta: {"path":')
  })

  it('prints the version', async () => {
    const r = await cli(['--version'])
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) })
  })
})

describe('committee create', () => {
  it('writes a committee file from member cards, validated as nodes validate it, and appends epochs', async () => {
    const cards = ['a', 'b', 'c'].map((n) => join(dir, `${n}.card.json`))
    const made = []
    for (const [i, path] of cards.entries()) made.push(await writeCard(path, [`/ip4/127.0.0.1/tcp/${4000 + i}`]))
    const out = join(dir, 'committee.json')
    const r = await cli(
      [
        'committee',
        'create',
        '--network-id',
        '7',
        '--card',
        `${cards[0]}:30`,
        '--card',
        `${cards[1]}:20`,
        '--card',
        cards[2]!,
        '--sequencer',
        made[0]!.peerId,
        '--out',
        out,
        '--json',
      ],
      { cwd: dir },
    )
    expect(r.code, r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout)
    expect(summary).toMatchObject({
      networkId: 7,
      epoch: 0,
      members: 3,
      totalStake: '51',
      threshold: '2/3',
      sequencers: 1,
    })
    const file = JSON.parse(await readFile(out, 'utf8'))
    expect(file.epochs[0].members.map((m: { stake: string }) => m.stake)).toEqual(['30', '20', '1'])
    expect(file.epochs[0].members[0].multiaddrs).toEqual(['/ip4/127.0.0.1/tcp/4000'])

    const again = await cli(['committee', 'create', '--network-id', '7', '--card', cards[0]!, '--out', out], {
      cwd: dir,
    })
    expect([again.code, errorCode(again.stderr)]).toEqual([1, 'CLI_ALREADY_EXISTS'])

    const appended = await cli(
      [
        'committee',
        'create',
        '--append',
        '--epoch',
        '1',
        '--card',
        `${cards[1]}:5`,
        '--card',
        `${cards[2]}:5`,
        '--out',
        out,
      ],
      { cwd: dir },
    )
    expect(appended.code, appended.stderr).toBe(0)
    expect(appended.stdout).toContain('epochs in file: 0, 1')
    expect(appended.stderr).toContain('no sequencer is registered')

    const stale = await cli(['committee', 'create', '--append', '--epoch', '1', '--card', cards[0]!, '--out', out], {
      cwd: dir,
    })
    expect([stale.code, errorCode(stale.stderr)]).toEqual([2, 'CLI_USAGE'])
  })

  it('refuses a card with a forged proof of possession, a duplicate member, and missing or broken cards', async () => {
    const good = join(dir, 'good.card.json')
    await writeCard(good)
    const forged = join(dir, 'forged.card.json')
    const card = await writeCard(forged)
    const other = await writeCard(join(dir, 'other.card.json'))
    await writeFile(forged, JSON.stringify({ ...card, proofOfPossession: other.proofOfPossession }))
    await writeFile(join(dir, 'broken.card.json'), '{"version":1}')
    const create = (...cards: string[]) =>
      cli(
        [
          'committee',
          'create',
          '--network-id',
          '1',
          ...cards.flatMap((c) => ['--card', c]),
          '--out',
          join(dir, 'x.json'),
          '--force',
        ],
        { cwd: dir },
      )
    const forgedRun = await create(good, forged)
    expect(errorCode(forgedRun.stderr)).toBe('COMMITTEE_INVALID_POP')
    expect(forgedRun.stderr).toContain('forged.card.json')
    expect(errorCode((await create(good, good)).stderr)).toBe('COMMITTEE_DUPLICATE_PEER_ID')
    expect(errorCode((await create(good, 'missing.json')).stderr)).toBe('CLI_FILE_NOT_FOUND')
    expect(errorCode((await create('broken.card.json')).stderr)).toBe('CLI_MEMBER_CARD_INVALID')
    expect(errorCode((await create(`${good}:0`)).stderr)).toBe('CLI_USAGE')
  })
})

describe('client commands given bad input', () => {
  const blobId = 'bafkreihkx7hgjczud23mcxb3cirtcffzkeqmpxuoy4ifjjafyz3dyjjjgq'

  it('fail with a clear code before touching the network', async () => {
    const committee = join(dir, 'committee.json') // written by the committee test above
    await writeFile(join(dir, 'blob.bin'), 'hello')
    await writeFile(join(dir, 'not-a-cert.json'), JSON.stringify({ version: 1, blobId }))
    await writeFile(join(dir, 'bad.key'), 'not a key')
    const cases: [string[], string][] = [
      [['disperse', 'missing.bin', '--key', 'k'], 'CLI_FILE_NOT_FOUND'],
      [['disperse', 'blob.bin', '--key', 'missing.key'], 'CLI_FILE_NOT_FOUND'],
      [['disperse', 'blob.bin', '--key', 'bad.key', '--committee', committee], 'P2P_INVALID_KEY_FILE'],
      [['disperse', 'blob.bin', '--key', 'bad.key', '--max-blob-size', '2'], 'CLI_FILE_TOO_LARGE'],
      [['sample', 'missing.json'], 'CLI_FILE_NOT_FOUND'],
      [['sample', 'not-a-blob-id'], 'ERASURE_INVALID_BLOB_ID'],
      [['sample', blobId, '--committee', committee], 'CLI_NEEDS_CERTIFICATE'],
      [['sample', 'not-a-cert.json', '--committee', committee], 'ATTEST_MALFORMED_CERTIFICATE'],
      [['sample', 'blob.bin', '--committee', committee], 'CLI_READ_FAILED'],
      [['retrieve', blobId, '-o', 'out.bin', '--committee', 'nowhere.json'], 'CLI_FILE_NOT_FOUND'],
      [['retrieve', blobId, '-o', 'no/such/dir/out.bin', '--committee', committee], 'CLI_FILE_NOT_FOUND'],
      [['disperse', 'blob.bin', '--key', 'bad.key', '-o', 'no/such/dir/cert.json'], 'CLI_FILE_NOT_FOUND'],
      [['retrieve', blobId, '-o', 'out.bin', '--committee', 'blob.bin'], 'COMMITTEE_MALFORMED_FILE'],
      [['verify', 'missing.json', '--committee', committee], 'CLI_FILE_NOT_FOUND'],
      [['verify', 'not-a-cert.json', '--committee', committee], 'ATTEST_MALFORMED_CERTIFICATE'],
      [['status', '--api', 'http://127.0.0.1:9'], 'CLI_API_UNREACHABLE'],
      [['db', 'check', '--data-dir', 'nowhere'], 'CLI_FILE_NOT_FOUND'],
      [['db', 'check', '--config', 'missing.json'], 'CLI_FILE_NOT_FOUND'],
      [['node', '--config', 'missing.json'], 'CLI_FILE_NOT_FOUND'],
      [['devnet', '--out', dir], 'CLI_ALREADY_EXISTS'],
      [['identity', '--key', 'missing.key', '--no-create'], 'CLI_FILE_NOT_FOUND'],
      [['identity', '--key', 'bad.key'], 'P2P_INVALID_KEY_FILE'],
      // A directory where the key file should be: a user's mistake with its code, not CLI_INTERNAL.
      [['identity', '--key', '.'], 'P2P_INVALID_KEY_FILE'],
    ]
    for (const [args, code] of cases) {
      const r = await cli(args, { cwd: dir })
      expect(errorCode(r.stderr), `${args.join(' ')}: ${r.stderr}`).toBe(code)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toMatch(/^error [A-Z0-9_]+: .*; hint: \S.*$/m)
      expect(r.stderr).not.toMatch(/^\s+at /m)
    }
  })

  it('take the committee file from $DACNET_COMMITTEE when --committee is absent', async () => {
    const r = await cli(['verify', 'not-a-cert.json'], { cwd: dir, env: { DACNET_COMMITTEE: 'elsewhere.json' } })
    expect(errorCode(r.stderr)).toBe('ATTEST_MALFORMED_CERTIFICATE')
    const v = await cli(['sample', blobId], { cwd: dir, env: { DACNET_COMMITTEE: 'elsewhere.json' } })
    expect(v.stderr).toContain(join(dir, 'elsewhere.json'))
  })
})

describe('db check', () => {
  it('reports a healthy store as OK (text and JSON) and exits 0', async () => {
    const data = join(dir, 'store')
    const store = await ShardStore.open(data)
    await store.close()
    const text = await cli(['db', 'check', '--data-dir', data])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(': OK')
    const json = await cli(['db', 'check', '--data-dir', data, '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, blobs: 0, corrupt: { count: 0 } })
  })

  it('reads --config as the node does: DACNET_DATA_DIR over the file', async () => {
    const data = join(dir, 'store-of-config')
    const store = await ShardStore.open(data)
    await store.close()
    const config = join(dir, 'db-config.json')
    await writeFile(config, JSON.stringify({ version: 1, dataDir: data }))
    expect((await cli(['db', 'check', '--config', config])).code).toBe(0)
    // A container's volume set by the environment is the store checked, not the file's.
    const elsewhere = await cli(['db', 'check', '--config', config], {
      env: { DACNET_DATA_DIR: join(dir, 'no-volume') },
    })
    expect(errorCode(elsewhere.stderr)).toBe('CLI_FILE_NOT_FOUND')
    expect(elsewhere.stderr).toContain(join(dir, 'no-volume'))
  })

  it('refuses a directory that is not a shard store', async () => {
    const r = await cli(['db', 'check', '--data-dir', join(dir, 'blob.bin')])
    expect(r.code).toBe(1)
    expect(errorCode(r.stderr)).toMatch(/^STORAGE_/)
  })
})
