import { type ChildProcess, execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DevnetLayout } from '../../src/cli/devnet/layout.ts'
import { pathExists } from '../../src/cli/files.ts'
import { DEFAULT_MAX_SAMPLES } from '../../src/node/light-client.ts'
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

/** The devnet's default stakes, 300 + 200 + 150 + 120 + 100 + 86 = 956 tokens of 18 decimals on its chain. */
const DEFAULT_TOTAL_STAKE = 956n * 10n ** 18n

afterAll(() => killLeftovers())

describe('dacnet devnet --once --json', () => {
  it('certifies, samples and retrieves every blob, one JSON object per blob, then stops every node cleanly', async () => {
    const r = await runCliProcess(['devnet', '--once', '--json', '--blobs', '2', '--blob-size', '200KiB'], {
      timeoutMs: 100_000,
    })
    expect(r.code, r.stderr).toBe(0)
    const blobs = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(blobs).toHaveLength(2)
    for (const [i, blob] of blobs.entries()) {
      expect(blob).toMatchObject({
        index: i + 1,
        blobId: expect.stringMatching(/^bafkrei/),
        size: 200 * 1024,
        timeToCertificateMs: expect.any(Number),
        totalStake: DEFAULT_TOTAL_STAKE.toString(),
        epoch: 1,
        available: true,
        retrieved: true,
        l1: { verified: true, gas: expect.any(Number) },
        ok: true,
        error: null,
      })
      // The verifier contract's cost for a 6-member committee: the pairing and hash to G2 floor plus little.
      expect(blob.l1.gas).toBeGreaterThan(150_000)
      expect(blob.l1.gas).toBeLessThan(200_000)
      expect(BigInt(blob.signedStake) * 3n >= DEFAULT_TOTAL_STAKE * 2n).toBe(true)
      expect(blob.confidence).toBeGreaterThanOrEqual(1 - 1e-6)
      // What the light client downloaded: whole samples (a shard of at most 4 KiB and its proof) beside the time,
      // those of the counted rounds and of later rounds drawn early while a holder was slow, never past the cap.
      expect(blob.sampleMs).toEqual(expect.any(Number))
      expect(blob.sampleBytes).toBeGreaterThan(0)
      expect(blob.sampleBytes).toBeLessThanOrEqual(DEFAULT_MAX_SAMPLES * (4096 + 15 * 32))
    }
    expect(r.stderr).toMatch(/6 nodes ready/)
    expect(r.stderr).toMatch(/stopped 6 nodes in .*, all cleanly/)
    const root = /in (\S+) \(removed on exit/.exec(r.stderr)?.[1]
    expect(root).toBeDefined()
    expect(await pathExists(root!)).toBe(false)
  }, 100_000)
})

describe('dacnet devnet --no-chain', () => {
  it('runs the committee from a file: certified, available, intact, and no L1 verdict', async () => {
    const r = await runCliProcess(
      ['devnet', '--no-chain', '--nodes', '3', '--once', '--json', '--blobs', '1', '--blob-size', '64KiB'],
      {
        timeoutMs: 100_000,
      },
    )
    expect(r.code, r.stderr).toBe(0)
    const blob = JSON.parse(r.stdout.trim())
    expect(blob).toMatchObject({ epoch: 0, ok: true, available: true, retrieved: true, totalStake: '650' })
    expect(blob).not.toHaveProperty('l1')
    expect(r.stderr).toContain('committee file')
  }, 100_000)
})

describe('dacnet devnet without --blobs (npm start)', () => {
  it('keeps dispersing, one blob after another, until Ctrl-C; then stops every node cleanly and exits 0', async () => {
    const devnet = spawnCli(['devnet', '--no-chain', '--nodes', '3', '--blob-size', '16KiB', '--json'])
    const output = collect(devnet)
    const exited = new Promise<number | null>((resolve) => devnet.once('exit', (code) => resolve(code)))
    const lines = () => output.stdout().trim().split('\n').filter(Boolean)
    await waitFor(() => (lines().length >= 5 ? true : undefined), 90_000, 'five blobs')
    devnet.kill('SIGINT')
    expect(await exited).toBe(0)
    const blobs = lines().map((line) => JSON.parse(line))
    expect(blobs.length).toBeGreaterThanOrEqual(5)
    expect(blobs.map((b) => b.index)).toEqual(blobs.map((_, i) => i + 1))
    for (const blob of blobs) expect(blob).toMatchObject({ ok: true })
    expect(output.stderr()).toMatch(/stopped 3 nodes in .*, all cleanly/)
  }, 120_000)
})

describe('a running devnet', () => {
  let dir: string
  let out: string
  let devnet: ChildProcess
  let output: ReturnType<typeof collect>
  let exited: Promise<number | null>
  let layout: DevnetLayout
  let first: { blobId: string; certificate: string }

  beforeAll(async () => {
    dir = await tempDir()
    out = join(dir, 'devnet')
    // Without --json: the table people read (the JSON form is checked above).
    devnet = spawnCli(['devnet', '--nodes', '4', '--blobs', '1', '--blob-size', '100KiB', '--out', out])
    output = collect(devnet)
    exited = new Promise((resolve) => devnet.once('exit', (code) => resolve(code)))
    const row = await waitFor(
      () =>
        /^1\s+(bafkrei\w+)\s+1\s+100(\.0)? KiB\s.*\bintact\s+verified \d+k gas$/m.exec(output.stdout()) ?? undefined,
      60_000,
      'blob 1',
    )
    expect(output.stdout()).toMatch(
      /^#\s+blob\s+epoch\s+size\s+certified in\s+signed stake\s+confidence\s+sampled in\s+sample bytes\s+retrieved\s+on L1$/m,
    )
    first = { blobId: row[1]!, certificate: join(out, 'certificates', `${row[1]}.json`) }
    layout = JSON.parse(await readFile(join(out, 'devnet.json'), 'utf8'))
  }, 70_000)

  afterAll(async () => {
    // Still running when the Ctrl-C test did not run (a filtered or failed run): stop it as a user would, so that it
    // stops its anvil too (a SIGKILLed devnet leaves its anvil behind); SIGKILL only if it does not exit.
    if (devnet && devnet.exitCode === null && devnet.signalCode === null) {
      devnet.kill('SIGINT')
      const timer = setTimeout(() => devnet.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    }
    await removeDir(dir)
  }, 40_000)

  const run = (args: string[]) => runCliProcess(args, { cwd: dir, env: { DACNET_CHAIN: layout.chainPath! } })

  it('keeps what --out promises: chain.json, node directories, certificates/<blobId>.json and .l1.hex', async () => {
    expect(await pathExists(join(out, 'chain.json'))).toBe(true)
    expect(await pathExists(join(out, 'committee.json'))).toBe(false)
    expect(await pathExists(join(out, 'certificates', `${first.blobId}.l1.hex`))).toBe(true)
    expect(await pathExists(join(out, 'nodes', 'node-1', 'eth.key'))).toBe(true)
    expect((await readdir(join(out, 'nodes'))).sort()).toEqual(['node-1', 'node-2', 'node-3', 'node-4'])
    expect(first.certificate).toBe(join(out, 'certificates', `${first.blobId}.json`))
    expect((await stat(first.certificate)).isFile()).toBe(true)
    const keystore = JSON.parse(await readFile(join(out, 'nodes', 'node-1', 'keystore.json'), 'utf8'))
    expect(keystore.description).toContain('light KDF')
  })

  it('round-trips a file: disperse, verify, sample, retrieve by blob id and by certificate', async () => {
    const data = randomBytes(300_000)
    await writeFile(join(dir, 'blob.bin'), data)
    const dispersed = await run(['disperse', 'blob.bin', '--key', layout.clientKeyPath, '-o', 'cert.json'])
    expect(dispersed.code, dispersed.stderr).toBe(0)
    const blobId = dispersed.stdout.trim()
    expect(blobId).toMatch(/^bafkrei/)
    expect(dispersed.stderr).toContain(`certified ${blobId}`)

    const verified = await run(['verify', 'cert.json', '--json'])
    expect(verified.code, verified.stderr).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, blobId, members: 4 })

    const sampled = await run(['sample', 'cert.json', '--json'])
    expect(sampled.code, sampled.stderr).toBe(0)
    expect(JSON.parse(sampled.stdout)).toMatchObject({ blobId, available: true, bytes: expect.any(Number) })

    const byId = await run(['retrieve', blobId, '-o', 'by-id.bin'])
    expect(byId.code, byId.stderr).toBe(0)
    expect((await readFile(join(dir, 'by-id.bin'))).equals(data)).toBe(true)

    // In-process, to get the raw bytes of `-o -` from stdout.
    const toStdout = await cli(['retrieve', 'cert.json', '-o', '-', '--chain', layout.chainPath!], { cwd: dir })
    expect(toStdout.code, toStdout.stderr).toBe(0)
    expect(Buffer.from(toStdout.stdout, 'latin1').equals(data)).toBe(true)
    expect(toStdout.stderr).toContain(`retrieved ${blobId}`)
  }, 60_000)

  it('retrieve -o DIR writes DIR/<blobId>, and names that file, never a temporary one', async () => {
    await mkdir(join(dir, 'got'))
    const r = await run(['retrieve', first.blobId, '-o', 'got'])
    expect(r.code, r.stderr).toBe(0)
    const written = join(dir, 'got', first.blobId)
    expect((await stat(written)).size).toBe(100 * 1024)
    expect(r.stdout).toContain(`-> ${written}`)
    expect(r.stdout + r.stderr).not.toMatch(/\.tmp\b/)
  }, 60_000)

  it('runs the README SDK example against it: disperse, sample, retrieve', async () => {
    const example = fileURLToPath(new URL('../../examples/sdk.ts', import.meta.url))
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [example, layout.chainPath!, layout.clientKeyPath],
        { timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      )
    })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/certified bafkrei\w+/)
    expect(result.stdout).toContain('available: true')
    expect(result.stdout).toMatch(/retrieved bafkrei\w+: intact/)
  }, 70_000)

  it('samples a blob id with the certificate a node kept from gossip, and reports node status', async () => {
    const api = layout.nodes[0]!.apiUrl
    const sampled = await waitFor(
      async () => {
        const r = await run(['sample', first.blobId, '--api', api])
        return r.code === 0 ? r : undefined
      },
      20_000,
      'a kept certificate',
    )
    expect(sampled.stdout).toContain(`${first.blobId}: available`)
    const status = await run(['status', '--api', api, '--json'])
    expect(JSON.parse(status.stdout)).toMatchObject({ peerId: layout.nodes[0]!.peerId, running: true })
  }, 40_000)

  it('serves the browser light client with the chain as committee source: the page finds the blob available', async () => {
    const web = spawnCli(
      ['web', '--chain', layout.chainPath!, '--certificates', join(out, 'certificates'), '--port', '0'],
      { cwd: dir },
    )
    const webOut = collect(web)
    try {
      const url = await waitFor(() => /^(http:\/\/\S+)$/m.exec(webOut.stdout())?.[1], 30_000, 'the page URL')
      const committees = (await (await fetch(new URL('/api/committees', url))).json()) as { epochs: number[] }
      expect(committees.epochs.length).toBeGreaterThan(0)
      expect((await fetch(new URL(`/api/certificates/${first.blobId}`, url))).status).toBe(200)
      const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
      if (!(await pathExists(chromiumPath))) return
      const { chromium } = await import('playwright-core')
      const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })
      try {
        const page = await browser.newPage()
        await page.goto(`${url}?blob=${first.blobId}`)
        await page.waitForSelector('body:not([data-status="idle"]):not([data-status="checking"])[data-status]', {
          timeout: 40_000,
        })
        expect(await page.textContent('[data-testid=status]')).toBe('available')
      } finally {
        await browser.close()
      }
    } finally {
      web.kill('SIGTERM')
    }
  }, 90_000)

  it('answers bad input on a live network with clear codes', async () => {
    const cert = JSON.parse(await readFile(first.certificate, 'utf8'))
    await writeFile(join(dir, 'stake.json'), JSON.stringify({ ...cert, signedStake: '1' }))
    const flipped = `${cert.signature.slice(0, -2)}${cert.signature.endsWith('00') ? '01' : '00'}`
    await writeFile(join(dir, 'signature.json'), JSON.stringify({ ...cert, signature: flipped }))
    expect(errorCode((await run(['verify', 'stake.json'])).stderr)).toBe('ATTEST_SIGNED_STAKE_MISMATCH')
    expect(errorCode((await run(['sample', 'signature.json'])).stderr)).toMatch(
      /^ATTEST_(INVALID|MALFORMED)_SIGNATURE$/,
    )

    const unknown = 'bafkreihkx7hgjczud23mcxb3cirtcffzkeqmpxuoy4ifjjafyz3dyjjjgq'
    const missing = await run(['retrieve', unknown, '-o', 'nothing.bin'])
    expect(missing.code).toBe(1)
    expect(errorCode(missing.stderr)).toMatch(/^NODE_(BLOB_NOT_FOUND|NOT_ENOUGH_SHARDS)$/)
    expect(await pathExists(join(dir, 'nothing.bin'))).toBe(false)
    const unheld = await run(['sample', unknown, '--api', layout.nodes[0]!.apiUrl])
    expect([unheld.code, errorCode(unheld.stderr)]).toEqual([1, 'API_BLOB_NOT_FOUND'])

    await run(['identity', '--key', 'stranger.key'])
    const stranger = await run(['disperse', 'blob.bin', '--key', 'stranger.key'])
    expect(stranger.code).toBe(1)
    expect(errorCode(stranger.stderr)).toBe('NODE_THRESHOLD_UNREACHABLE')
    expect(stranger.stderr).toContain('NODE_UNREGISTERED_SEQUENCER')
  }, 60_000)

  it('stops every node cleanly on Ctrl-C and exits 0; the stores then check clean', async () => {
    devnet.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(output.stderr()).toMatch(/stopped 4 nodes in .*, all cleanly/)
    const check = await run(['db', 'check', '--config', join(out, 'nodes', 'node-1', 'config.json'), '--json'])
    expect(check.code, check.stderr).toBe(0)
    // The devnet's blob, the round trip's, and the SDK example's: node-1 holds a share of each.
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, blobs: 3, attestations: 3 })
  }, 40_000)

  it('restarts from the same --out: same keys and stores, members registered on a new chain, and a blob more', async () => {
    const r = await runCliProcess(
      ['devnet', '--out', out, '--blobs', '1', '--once', '--json', '--blob-size', '64KiB'],
      {
        timeoutMs: 100_000,
      },
    )
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`restarting the devnet in ${out}`)
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ ok: true, l1: { verified: true } })
    const again: DevnetLayout = JSON.parse(await readFile(join(out, 'devnet.json'), 'utf8'))
    expect(again.nodes.map((n) => n.peerId)).toEqual(layout.nodes.map((n) => n.peerId))
    const check = await run(['db', 'check', '--config', join(out, 'nodes', 'node-1', 'config.json'), '--json'])
    expect(check.code, check.stderr).toBe(0)
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, blobs: 4 })
    // The devnet kept there has a chain: restarting it without one is a usage error, before anything starts.
    const mismatch = await runCliProcess(['devnet', '--out', out, '--no-chain', '--once'], { timeoutMs: 30_000 })
    expect([mismatch.code, errorCode(mismatch.stderr)]).toEqual([2, 'CLI_USAGE'])
    expect(mismatch.stderr).toContain('holds a devnet with a chain')
    // A directory that holds something other than a devnet is still refused.
    await writeFile(join(dir, 'not-a-devnet.txt'), 'x')
    const refused = await runCliProcess(['devnet', '--out', dir, '--once'], { timeoutMs: 30_000 })
    expect([refused.code, errorCode(refused.stderr)]).toEqual([1, 'CLI_ALREADY_EXISTS'])
  }, 110_000)
})
