/**
 * A committee on separate hosts: six `dacnet node` processes, each in its own network namespace with its own
 * address, a sequencer host and a light-client host, all on one switch; built the way an operator builds one
 * (`init`, `committee create`, `node`, then `disperse`, `sample`, `retrieve` from other hosts). Links are cut at the
 * switch (the processes keep running; packets to and from them are dropped, which loopback cannot do), and the
 * sequencer is killed while its shards cross real links.
 */
import type { ChildProcess } from 'node:child_process'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, MAIN, removeDir, runCliProcess, tempDir, waitFor } from '../cli/helpers.ts'
import { HostNetwork, unavailableReason } from './hosts.ts'

const skip = unavailableReason()
if (skip) console.warn(`separate-host suite skipped: ${skip}`)

/** Unequal stakes: 75 of 100 is over the 2/3 threshold, 65 is not. */
const STAKES = [30, 25, 20, 15, 5, 5]
const MEMBERS = STAKES.map((_, i) => `m${i}`)
const P2P_PORT = 4001
const NETWORK_ID = 7

interface RunResult {
  code: number
  stdout: string
  stderr: string
  ms: number
}

describe.skipIf(skip)('a committee on separate hosts (network namespaces)', () => {
  let net: HostNetwork
  let dir: string
  let committeeFile: string
  let seqKey: string
  const nodes = new Map<string, ChildProcess>()

  /** Runs `dacnet ...args` on `host`, with a deadline, and times it. */
  async function run(host: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
    const started = performance.now()
    const child = net.spawn(host, process.execPath, [MAIN, ...args])
    const out = collect(child)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)))
    clearTimeout(timer)
    return { code, stdout: out.stdout(), stderr: out.stderr(), ms: performance.now() - started }
  }

  async function startNode(member: string): Promise<void> {
    const child = net.spawn(member, process.execPath, [MAIN, 'node', '--config', join(dir, member, 'config.json')])
    const out = collect(child)
    nodes.set(member, child)
    await waitFor(() => out.stderr().includes('node ready') || undefined, 60_000, `${member} ready`).catch((err) => {
      throw new Error(`${err.message}: ${out.stderr().slice(-2000)}`)
    })
  }

  async function stopNode(member: string): Promise<number> {
    const child = nodes.get(member)!
    nodes.delete(member)
    if (child.exitCode !== null) return child.exitCode
    const exited = new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)))
    child.kill('SIGTERM')
    return exited
  }

  async function blob(name: string, size: number, seed: number): Promise<{ path: string; bytes: Buffer }> {
    const bytes = Buffer.alloc(size)
    for (let i = 0; i < size; i++) bytes[i] = (i * 131 + seed * 7919 + (i >> 9)) & 0xff
    const path = join(dir, name)
    await writeFile(path, bytes)
    return { path, bytes }
  }

  const disperse = (file: string, cert: string, timeoutMs?: number) =>
    run(
      'seq',
      ['disperse', file, '--key', seqKey, '--committee', committeeFile, '-o', cert, '--member-timeout', '20'],
      timeoutMs,
    )

  beforeAll(async () => {
    dir = await tempDir('dacnet-netns-')
    net = HostNetwork.create([...MEMBERS, 'seq', 'light'])
    const password = join(dir, 'password')
    await writeFile(password, 'netns-suite\n')
    // Node directories, as each operator would make theirs on their own host (init does not touch the network).
    const inits = await Promise.all(
      MEMBERS.map((m) =>
        runCliProcess([
          'init',
          '--dir',
          join(dir, m),
          '--password-file',
          password,
          '--listen',
          `/ip4/${net.address(m)}/tcp/${P2P_PORT}`,
        ]),
      ),
    )
    for (const r of inits) expect(r.code, r.stderr).toBe(0)
    seqKey = join(dir, 'seq.key')
    const identity = await runCliProcess(['identity', '--key', seqKey])
    expect(identity.code, identity.stderr).toBe(0)
    const seqPeerId = /12D3Koo\w+/.exec(identity.stdout)![0]
    committeeFile = join(dir, 'committee.json')
    const created = await runCliProcess([
      'committee',
      'create',
      '--network-id',
      String(NETWORK_ID),
      ...MEMBERS.flatMap((m, i) => ['--card', `${join(dir, m, 'member-card.json')}:${STAKES[i]}`]),
      '--sequencer',
      seqPeerId,
      '--out',
      committeeFile,
    ])
    expect(created.code, created.stderr).toBe(0)
    for (const m of MEMBERS) await copyFile(committeeFile, join(dir, m, 'committee.json'))
    await Promise.all(MEMBERS.map(startNode))
  }, 240_000)

  afterAll(async () => {
    await Promise.all([...nodes.keys()].map(stopNode)).catch(() => {})
    net?.destroy()
    await removeDir(dir)
  }, 120_000)

  it('certifies, samples and retrieves across real links', async () => {
    const { path, bytes } = await blob('healthy.bin', 1 << 20, 1)
    const cert = join(dir, 'healthy.cert.json')
    const dispersed = await disperse(path, cert)
    expect(dispersed.code, dispersed.stderr).toBe(0)
    // Over the 2/3 threshold; the certificate need not wait for the slowest members.
    expect(Number(JSON.parse(await readFile(cert, 'utf8')).signedStake)).toBeGreaterThan(200 / 3)

    const sampled = await run('light', ['sample', cert, '--committee', committeeFile, '--json'])
    expect(sampled.code, sampled.stderr).toBe(0)
    expect(JSON.parse(sampled.stdout)).toMatchObject({ available: true })

    const out = join(dir, 'healthy.out')
    const retrieved = await run('light', ['retrieve', cert, '--committee', committeeFile, '-o', out])
    expect(retrieved.code, retrieved.stderr).toBe(0)
    expect((await readFile(out)).equals(bytes)).toBe(true)
  }, 120_000)

  it('certifies without the members whose links are down (a quarter of the stake), and the blob stays available', async () => {
    const cut = ['m3', 'm4', 'm5']
    for (const m of cut) net.cut(m)
    try {
      const { path, bytes } = await blob('partitioned.bin', 1 << 20, 2)
      const cert = join(dir, 'partitioned.cert.json')
      const dispersed = await disperse(path, cert)
      expect(dispersed.code, dispersed.stderr).toBe(0)
      expect(JSON.parse(await readFile(cert, 'utf8')).signedStake).toBe('75')
      // Within the silence deadline's reach, not the 20 s member timeout: the certificate does not wait for them.
      expect(dispersed.ms).toBeLessThan(15_000)

      const sampled = await run('light', ['sample', cert, '--committee', committeeFile, '--json'])
      expect(sampled.code, sampled.stderr).toBe(0)
      expect(JSON.parse(sampled.stdout)).toMatchObject({ available: true })

      const out = join(dir, 'partitioned.out')
      const retrieved = await run('light', ['retrieve', cert, '--committee', committeeFile, '-o', out])
      expect(retrieved.code, retrieved.stderr).toBe(0)
      expect((await readFile(out)).equals(bytes)).toBe(true)
    } finally {
      for (const m of cut) net.restore(m)
    }
  }, 120_000)

  it('refuses with NODE_THRESHOLD_UNREACHABLE, within seconds, when the links of over a third of the stake are down', async () => {
    const cut = ['m2', 'm3']
    for (const m of cut) net.cut(m)
    try {
      const { path } = await blob('unreachable.bin', 1 << 20, 3)
      const cert = join(dir, 'unreachable.cert.json')
      const dispersed = await disperse(path, cert)
      expect(dispersed.code).toBe(1)
      expect(dispersed.stderr).toMatch(/^error NODE_THRESHOLD_UNREACHABLE: /m)
      expect(dispersed.ms).toBeLessThan(15_000)
      await expect(readFile(cert)).rejects.toMatchObject({ code: 'ENOENT' })
    } finally {
      for (const m of cut) net.restore(m)
    }
  }, 120_000)

  it('keeps every store intact when the sequencer dies mid-dispersal, and the blob certifies when sent again', async () => {
    const { path, bytes } = await blob('killed.bin', 4 << 20, 4)
    const cert = join(dir, 'killed.cert.json')
    // Killed while its shards are on the wire: past start-up and the dials, before the certificate.
    const child = net.spawn('seq', process.execPath, [
      MAIN,
      'disperse',
      path,
      '--key',
      seqKey,
      '--committee',
      committeeFile,
      '-o',
      cert,
    ])
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const before = net.sentBytes('seq')
    // The shards of a 4 MiB blob are over 8 MiB on the wire: kill it once 2 MiB of them have left its host.
    await waitFor(() => net.sentBytes('seq') - before > 2 << 20 || undefined, 60_000, 'the sequencer to send')
    child.kill('SIGKILL')
    await exited
    await expect(readFile(cert)).rejects.toMatchObject({ code: 'ENOENT' })

    const again = await disperse(path, cert)
    expect(again.code, again.stderr).toBe(0)
    const retrieved = join(dir, 'killed.out')
    const r = await run('light', ['retrieve', cert, '--committee', committeeFile, '-o', retrieved])
    expect(r.code, r.stderr).toBe(0)
    expect((await readFile(retrieved)).equals(bytes)).toBe(true)

    // Every member stops cleanly and its store passes the integrity check.
    for (const m of MEMBERS) expect(await stopNode(m), `${m} exit code`).toBe(0)
    for (const m of MEMBERS) {
      const check = await runCliProcess(['db', 'check', '--config', join(dir, m, 'config.json')])
      expect(check.code, `${m}: ${check.stdout}${check.stderr}`).toBe(0)
      expect(check.stdout).toContain('OK')
    }
  }, 180_000)
})
