/**
 * A local EVM chain for tests and the devnet: anvil from the installed npm package (the binary of the platform
 * package `@foundry-rs/anvil-<os>-<arch>`, never a download), with the Prague hardfork so the EIP-2537 BLS
 * precompiles exist, listening on loopback on a port the OS picks.
 *
 * anvil keeps recent states in memory and writes older ones to a cache directory, by default under
 * ~/.foundry/anvil/tmp, where a killed anvil leaves them for good (hundreds of MB for a long devnet, gigabytes
 * over many test runs). Each anvil started here gets a cache directory of its own in the OS temp dir, removed
 * when it stops and when this process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ChainErrorCode, chainError } from './errors.ts'

/** Stable codes for starting a local chain. */

/** How long anvil gets to print its address and answer eth_chainId: a cold start takes well under a second. */
export const DEFAULT_ANVIL_START_TIMEOUT_MS = 20_000
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3_000
/** Pause between eth_chainId probes while anvil starts. */
const PROBE_INTERVAL_MS = 50
/** Bytes of anvil's stderr kept for the error of a failed start. */
const STDERR_TAIL = 4096

/** npm platform packages of anvil, by `${process.platform}-${process.arch}`. */
const PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
}

export interface AnvilOptions {
  /** Seconds between blocks; absent: a block for every transaction (automine). */
  readonly blockTime?: number | undefined
  /** Chain id; anvil's default (31337) when absent. */
  readonly chainId?: number | undefined
  /** Funded dev accounts derived from anvil's default mnemonic; anvil's default (10) when absent. */
  readonly accounts?: number | undefined
  readonly startTimeoutMs?: number | undefined
}

export interface Anvil {
  /** `http://127.0.0.1:<port>`. */
  readonly rpcUrl: string
  readonly chainId: number
  /** Stops anvil (SIGTERM, then SIGKILL after a grace); resolves once it has exited. Idempotent. */
  stop(): Promise<void>
}

/** The path of the anvil binary in node_modules; throws CHAIN_ANVIL_NOT_INSTALLED when there is none. */
export function anvilBinaryPath(): string {
  const platform = `${process.platform}-${process.arch}`
  const pkg = PLATFORM_PACKAGES[platform]
  if (pkg === undefined) {
    throw chainError(ChainErrorCode.ANVIL_NOT_INSTALLED, `anvil has no npm build for ${platform}`, { platform })
  }
  let dir: string
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`))
  } catch (err) {
    throw chainError(ChainErrorCode.ANVIL_NOT_INSTALLED, `${pkg} is not installed`, { platform, pkg }, { cause: err })
  }
  const binary = join(dir, 'bin', 'anvil')
  if (!existsSync(binary)) {
    throw chainError(ChainErrorCode.ANVIL_NOT_INSTALLED, `${pkg} has no bin/anvil`, { platform, pkg })
  }
  return binary
}

/** Starts anvil and resolves once it answers JSON-RPC. The process is killed on stop() and when this process exits. */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const args = ['--host', '127.0.0.1', '--port', '0', '--hardfork', 'prague']
  if (options.blockTime !== undefined) {
    checkInteger('blockTime', options.blockTime, 1, 86_400)
    args.push('--block-time', String(options.blockTime))
  }
  if (options.chainId !== undefined) {
    checkInteger('chainId', options.chainId, 1, Number.MAX_SAFE_INTEGER)
    args.push('--chain-id', String(options.chainId))
  }
  if (options.accounts !== undefined) {
    checkInteger('accounts', options.accounts, 1, 10_000)
    args.push('--accounts', String(options.accounts))
  }
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_ANVIL_START_TIMEOUT_MS
  checkInteger('startTimeoutMs', timeoutMs, 1, 600_000)

  const binary = anvilBinaryPath()
  const cachePath = mkdtempSync(join(tmpdir(), 'dacnet-anvil-'))
  args.push('--cache-path', cachePath)
  const removeCache = () => rmSync(cachePath, { recursive: true, force: true })
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  // A late 'error' (a failed kill) must not crash the process; a failed spawn is reported by listeningPort.
  child.on('error', () => {})
  const killOnExit = () => {
    child.kill('SIGKILL')
    removeCache()
  }
  process.on('exit', killOnExit)
  const stop = async () => {
    await stopChild(child, killOnExit)
    removeCache()
  }
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL)
  })
  try {
    const deadline = AbortSignal.timeout(timeoutMs)
    const port = await listeningPort(child, deadline)
    const rpcUrl = `http://127.0.0.1:${port}`
    const chainId = await probeChainId(rpcUrl, child, deadline)
    return { rpcUrl, chainId, stop }
  } catch (err) {
    await stop()
    const why = err instanceof Error ? err.message : String(err)
    throw chainError(ChainErrorCode.ANVIL_START_FAILED, `anvil did not start: ${why}`, { stderr }, { cause: err })
  }
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw chainError(ChainErrorCode.INVALID_OPTIONS, `${field} must be an integer in ${min}..${max}`, { field })
  }
}

/** Reads anvil's stdout until "Listening on 127.0.0.1:<port>"; the rest of its output is drained unread. */
function listeningPort(child: ChildProcess, deadline: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const done = (err: Error | undefined, port?: number) => {
      child.stdout!.off('data', onData)
      child.off('exit', onExit)
      child.off('error', onError)
      deadline.removeEventListener('abort', onAbort)
      child.stdout!.resume()
      if (err) reject(err)
      else resolve(port!)
    }
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-STDERR_TAIL)
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(seen)
      if (match) done(undefined, Number(match[1]))
    }
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`anvil exited (code ${code}, signal ${signal}) before listening`))
    const onAbort = () => done(new Error('anvil did not report its address in time'))
    const onError = (err: Error) => done(err)
    child.stdout!.on('data', onData)
    child.once('exit', onExit)
    child.once('error', onError)
    deadline.addEventListener('abort', onAbort, { once: true })
  })
}

/** Asks eth_chainId until anvil answers. */
async function probeChainId(rpcUrl: string, child: ChildProcess, deadline: AbortSignal): Promise<number> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('anvil exited before answering')
    if (deadline.aborted) throw new Error('anvil did not answer JSON-RPC in time')
    try {
      const response = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: deadline,
      })
      const body = (await response.json()) as { result?: string }
      if (typeof body.result === 'string') return Number(BigInt(body.result))
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS))
  }
}

async function stopChild(child: ChildProcess, killOnExit: () => void): Promise<void> {
  process.off('exit', killOnExit)
  // No pid: the spawn itself failed, there is nothing to stop.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  await exited
  clearTimeout(timer)
}
