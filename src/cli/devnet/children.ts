import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { settleWithin } from '../../timing.ts'
import type { NodeReadyMessage } from '../commands/node.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import type { DevnetNode } from './layout.ts'

/** Start-up of a node process: module loading, keystore unlock, LevelDB open, libp2p listen. */
export const DEFAULT_READY_TIMEOUT_MS = 60_000
/** A clean stop finishes stores under way; past this the node is killed. */
export const DEFAULT_STOP_TIMEOUT_MS = 45_000
/**
 * Node.js options every node process starts with (OPERATORS.md §7 recommends the same for a node run on its own):
 *
 * - `--max-semi-space-size=4` caps V8's young generation (by default it may grow to 128 MiB on Node 24, and a node's
 *   allocation rate grows it and keeps it grown): on the 16-member devnet it took each node's idle RSS from 227-229
 *   to 164-171 MiB and its peak during a 16 MiB dispersal from 243-244 to 184-192 MiB, with member CPU per MiB
 *   stored, time to certificate and sustained rate unchanged within the noise (BENCHMARKS.md).
 * - `--initial-old-space-size=64` lets the old generation reach 64 MiB before V8 collects it. A node's heap is small
 *   (~30-50 MiB live) and V8 sized its limit from it (~40 MiB), so a node serving a flood of sample requests, whose
 *   short-lived objects partly outlive the capped young generation, ran a full mark-compact every ~230 ms: under ten
 *   flooding identities the node's CPU fell from 62-69% to 31-40% of a core and its GC time by half with it.
 */
export const DEFAULT_NODE_EXEC_ARGV: readonly string[] = ['--max-semi-space-size=4', '--initial-old-space-size=64']

/**
 * The Node.js options of every node process: DEFAULT_NODE_EXEC_ARGV, then those of DACNET_NODE_EXEC_ARGV
 * (space-separated; a later option wins, so it may override a default), for example `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile each member (options NODE_OPTIONS does not allow).
 */
export function nodeExecArgv(env: Readonly<Record<string, string | undefined>>): string[] {
  return [...DEFAULT_NODE_EXEC_ARGV, ...(env.DACNET_NODE_EXEC_ARGV ?? '').split(' ').filter((arg) => arg !== '')]
}

/**
 * Environment every node process starts with, under the devnet's own (a variable set there wins). glibc's allocator
 * otherwise keeps what a store frees where the next store's memory cannot come from:
 *
 * - `MALLOC_ARENA_MAX=1`: one arena for every thread, instead of up to eight a core. A store's memory is freed on
 *   one thread and wanted on another: the received buffers and LevelDB's batch, grown by doubling, on the main
 *   thread; the memtable's copy of the share on libuv's pool, where the batch is written; the flushed memtable on
 *   LevelDB's compaction thread. With an arena per thread each reuses only its own frees.
 * - `MALLOC_MMAP_THRESHOLD_=4194304`, `MALLOC_TRIM_THRESHOLD_=33554432`: blocks from 4 MiB up (a large share's
 *   batch as it grows) come from the kernel and go back to it when freed, and free memory above 32 MiB at the top of
 *   the heap is returned. By default glibc raises its threshold to the largest block freed (up to 32 MiB), so after
 *   the first large store every batch came from the arenas and what it left stayed resident.
 *
 * On the 16-member devnet (chain committee, the 32 MiB dispersal of `npm run bench -- e2e`, two alternating full
 * plans) the peak above idle went from 4.20 and 5.35 to 2.94 and 3.14 shares held on the worst node (2.88 and 3.18
 * in two later plans), 3.44 and 3.16 to 2.16 and 2.21 on the median one, for members' CPU per MiB stored within the
 * noise on the chain committee (0.0346 / 0.0330, 0.0332 / 0.0346) and 9-11% more on the file committee; eight 16 MiB
 * blobs back to back, six pairs: 9.78 against 10.16 CPU-s (medians), 20.2 against 19.9 MB/s (BENCHMARKS.md).
 */
export const DEFAULT_NODE_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '4194304',
  MALLOC_TRIM_THRESHOLD_: '33554432',
}

/** The environment of every node process: DEFAULT_NODE_ENV under `env`. */
export function nodeEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return { ...DEFAULT_NODE_ENV, ...env }
}

/** Lines of a failed node's log quoted in the error. */
const LOG_TAIL_LINES = 8

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/**
 * One committee node as its own OS process: `dacnet node --config …` with stdout and stderr appended to
 * node.log, and an IPC channel over which it says when it is ready. It runs in its own process group, so a
 * Ctrl-C in the terminal reaches only the devnet, which then stops the nodes in order; and if the devnet
 * dies, the closed channel tells the node to stop.
 */
export class NodeProcess {
  readonly node: DevnetNode
  readonly #child: ChildProcess
  readonly exited: Promise<Exit>
  #exit: Exit | undefined
  #ready = false

  /** `program`: the module the process runs (nodeProgram: the bundled CLI, or its entry module). */
  constructor(node: DevnetNode, program: string) {
    this.node = node
    const log = openSync(node.logPath, 'a')
    try {
      this.#child = spawn(
        process.execPath,
        [...nodeExecArgv(process.env), program, 'node', '--config', node.configPath],
        {
          stdio: ['ignore', log, log, 'ipc'],
          detached: true,
          env: nodeEnv(process.env),
        },
      )
    } finally {
      closeSync(log)
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal }
        resolve(this.#exit)
      })
    })
  }

  /** It said it serves: from then on it has state to close cleanly. */
  get isReady(): boolean {
    return this.#ready
  }

  /** The node's OS process id, for readings of its own (/proc/<pid>/status and stat: memory, CPU time). */
  get pid(): number | undefined {
    return this.#child.pid
  }

  get alive(): boolean {
    return this.#exit === undefined
  }

  /** Resolves with the node's ready message; rejects if it exits first or takes too long. */
  ready(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<NodeReadyMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`did not become ready within ${timeoutMs / 1000} s`), timeoutMs)
      const fail = (why: string) => {
        clearTimeout(timer)
        this.#tail().then((tail) =>
          reject(
            cliError(
              CliErrorCode.NODE_START_FAILED,
              `${this.node.name} ${why}; last lines of ${this.node.logPath}:\n${tail}`,
              {
                node: this.node.name,
              },
            ),
          ),
        )
      }
      this.#child.on('message', (message: NodeReadyMessage) => {
        if (message?.type !== 'ready') return
        clearTimeout(timer)
        this.#ready = true
        resolve(message)
      })
      this.exited.then((exit) => fail(`exited (${exit.signal ?? `code ${exit.code}`}) before it was ready`))
    })
  }

  /** SIGTERM (the node finishes its stores and closes LevelDB), then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<Exit & { killed: boolean }> {
    if (this.#exit) return { ...this.#exit, killed: false }
    this.#child.kill('SIGTERM')
    const exit = await settleWithin(this.exited, timeoutMs)
    if (exit !== undefined) return { ...exit.value, killed: false }
    this.kill()
    return { ...(await this.exited), killed: true }
  }

  kill(): void {
    if (this.#exit === undefined) this.#child.kill('SIGKILL')
  }

  async #tail(): Promise<string> {
    const text = await readFile(this.node.logPath, 'utf8').catch(() => '')
    return text
      .trimEnd()
      .split('\n')
      .slice(-LOG_TAIL_LINES)
      .map((l) => `  | ${l}`)
      .join('\n')
  }
}
