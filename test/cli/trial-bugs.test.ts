import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pathExists } from '../../src/cli/files.ts'
import { callerCwd } from '../../src/cli/main.ts'
import { cli, errorCode, killLeftovers, removeDir, runCliProcess, tempDir } from './helpers.ts'

/**
 * Bugs a user trial found in the operator surface, each as the user met it: a command run through npm from another
 * directory, a node whose p2p port is taken, `retrieve -o` naming a directory.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url))
let dir: string

beforeAll(async () => {
  dir = await tempDir()
  await writeFile(join(dir, 'password'), 'correct horse battery staple\n')
})

afterAll(async () => {
  killLeftovers()
  await removeDir(dir)
})

describe('npm run dacnet from another directory', () => {
  it("resolves relative paths against the caller's directory (INIT_CWD), not the repository", async () => {
    const caller = join(dir, 'caller')
    await mkdir(caller)
    // What `npm run dacnet -- identity --key trial.key` does when run in `caller`: the process runs in the
    // package root, with INIT_CWD naming where npm was called.
    const r = await runCliProcess(['identity', '--key', 'trial-init-cwd.key'], {
      cwd: REPO,
      env: { INIT_CWD: caller },
    })
    expect(r.code, r.stderr).toBe(0)
    expect(await pathExists(join(caller, 'trial-init-cwd.key'))).toBe(true)
    expect(await pathExists(join(REPO, 'trial-init-cwd.key'))).toBe(false)
  })

  it('keeps the working directory when the process does not run in the package root, or INIT_CWD is unset', () => {
    expect(callerCwd({ INIT_CWD: '/somewhere' }, REPO)).toBe('/somewhere')
    expect(callerCwd({ INIT_CWD: '/somewhere' }, '/elsewhere')).toBe('/elsewhere')
    expect(callerCwd({}, REPO)).toBe(REPO)
    expect(callerCwd({ INIT_CWD: 'relative' }, REPO)).toBe(REPO)
  })
})

describe('a node whose p2p port is taken', () => {
  let holder: Server
  afterAll(() => new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve())))

  it('fails with P2P_LISTEN_FAILED naming the address, and a hint about network.listen', async () => {
    holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = (holder.address() as { port: number }).port
    const nodeDir = join(dir, 'taken')
    const init = await runCliProcess(['init', '--dir', nodeDir, '--password-file', 'password'], { cwd: dir })
    expect(init.code, init.stderr).toBe(0)
    const configPath = join(nodeDir, 'config.json')
    const config = JSON.parse(await readFile(configPath, 'utf8'))
    config.network = { ...config.network, listen: [`/ip4/127.0.0.1/tcp/${port}`] }
    config.api = { ...config.api, port: 0 }
    await writeFile(configPath, JSON.stringify(config))
    const committee = await runCliProcess(
      [
        'committee',
        'create',
        '--network-id',
        '9',
        '--card',
        `${join(nodeDir, 'member-card.json')}:10`,
        '--out',
        'taken-committee.json',
      ],
      { cwd: dir },
    )
    expect(committee.code, committee.stderr).toBe(0)
    await copyFile(join(dir, 'taken-committee.json'), join(nodeDir, 'committee.json'))

    const r = await runCliProcess(['node', '--config', join(nodeDir, 'config.json')], { cwd: dir })
    expect([r.code, errorCode(r.stderr)], r.stderr).toEqual([1, 'P2P_LISTEN_FAILED'])
    expect(r.stderr).toContain(`/ip4/127.0.0.1/tcp/${port}`)
    expect(r.stderr).toContain('EADDRINUSE')
    expect(r.stderr).toMatch(/hint: .*network\.listen/)
    expect(r.stderr).not.toContain('CLI_INTERNAL')
    expect(r.stderr).not.toContain('faultTolerance')
  }, 60_000)
})

describe('retrieve -o', () => {
  const blobId = 'bafkreihkx7hgjczud23mcxb3cirtcffzkeqmpxuoy4ifjjafyz3dyjjjgq'

  it('refuses a directory that does not exist before anything is fetched, naming no temporary file', async () => {
    // No committee at all: the output is judged before the committee is even read.
    const r = await cli(['retrieve', blobId, '-o', 'no-such-dir/', '--committee', 'no-committee.json'], { cwd: dir })
    expect([r.code, errorCode(r.stderr)]).toEqual([1, 'CLI_FILE_NOT_FOUND'])
    expect(r.stderr).toContain(`output directory ${join(dir, 'no-such-dir')}`)
    expect(r.stderr).not.toMatch(/\.tmp\b/)
    const nested = await cli(['retrieve', blobId, '-o', 'no-such-dir/blob.bin', '--committee', 'x.json'], {
      cwd: dir,
    })
    expect([nested.code, errorCode(nested.stderr)]).toEqual([1, 'CLI_FILE_NOT_FOUND'])
  })

  it('takes an existing directory: the committee is the next thing read (the blob would go to DIR/<blobId>)', async () => {
    await mkdir(join(dir, 'blobs'))
    const r = await cli(['retrieve', blobId, '-o', 'blobs', '--committee', 'no-committee.json'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('output directory')
    expect(r.stderr).toContain('no-committee.json')
  })
})
