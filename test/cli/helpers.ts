import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateSecretKey, publicKeyOf } from '../../src/attest/keys.ts'
import { createProofOfPossession } from '../../src/attest/pop.ts'
import type { CliIo } from '../../src/cli/io.ts'
import { runCli } from '../../src/cli/main.ts'
import type { MemberCard } from '../../src/cli/operator/member-card.ts'

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `dacnet ...args` in this process with captured output; for commands that do not install signal handlers. */
export async function cli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    out: (data) => {
      stdout += typeof data === 'string' ? data : Buffer.from(data).toString('latin1')
    },
    err: (text) => {
      stderr += text
    },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    tty: undefined,
    stderrIsTTY: false,
  }
  const code = await runCli(args, io)
  return { code, stdout, stderr }
}

/** `dacnet ...args` as its own OS process (Node 24 from process.execPath), without a terminal. */
export function spawnCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

const running = new Set<ChildProcess>()

/** Kills whatever a failed test left running (call from afterAll). */
export function killLeftovers(): void {
  for (const child of running) child.kill('SIGKILL')
}

export async function runCliProcess(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawnCli(args, opts)
  const out = collect(child)
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)))
  clearTimeout(timer)
  return { code, stdout: out.stdout(), stderr: out.stderr() }
}

/** Accumulates a child's stdout and stderr as text. */
export function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8')
  })
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8')
  })
  return { stdout: () => stdout, stderr: () => stderr }
}

/** Polls `check` until it returns a value (not undefined or null, so a RegExp `exec` works) or the time is up. */
export async function waitFor<T>(
  check: () => T | undefined | null | Promise<T | undefined | null>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== null) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function tempDir(prefix = 'dacnet-cli-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true })
}

/** A member card with fresh keys, written without a keystore (fast): what `init` would print. */
export async function writeCard(path: string, multiaddrs: string[] = []): Promise<MemberCard> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const secretKey = generateSecretKey()
  const card: MemberCard = {
    version: 1,
    peerId,
    publicKey: `0x${Buffer.from(publicKeyOf(secretKey)).toString('hex')}`,
    proofOfPossession: `0x${Buffer.from(createProofOfPossession(secretKey)).toString('hex')}`,
    multiaddrs,
    listen: [],
  }
  await writeFile(path, JSON.stringify(card))
  return card
}

/** The code of an `error CODE: message` line on stderr. */
export function errorCode(stderr: string): string | undefined {
  return /^error ([A-Z0-9_]+): /m.exec(stderr)?.[1]
}
