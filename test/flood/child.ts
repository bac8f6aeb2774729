import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** How long a child may take to answer a message before the harness gives up on it. */
const ANSWER_TIMEOUT_MS = 120_000

/**
 * A child process of the flood harness, spoken to over IPC: each `ask` sends a message and waits for the first
 * answer of the given type. A `failed` answer or the child's exit rejects every wait.
 */
export class Child<To extends { type: string }, From extends { type: string }> {
  readonly #process: ChildProcess
  readonly #waiting = new Set<{ type: string; resolve: (m: From) => void; reject: (e: Error) => void }>()
  readonly #listeners = new Set<(m: From) => void>()
  #exited = false

  /** `execArgv`: Node options for the child beyond this process's own (e.g. a V8 heap flag). */
  constructor(module: string, execArgv: readonly string[] = []) {
    this.#process = fork(fileURLToPath(new URL(module, import.meta.url)), [], {
      execPath: process.execPath,
      execArgv: [...process.execArgv, ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    })
    this.#process.on('message', (message: From) => {
      for (const listener of this.#listeners) listener(message)
      for (const w of [...this.#waiting]) {
        if (message.type === 'failed') {
          w.reject(new Error(`${module} failed: ${(message as unknown as { message: string }).message}`))
        } else if (message.type === w.type) w.resolve(message)
      }
    })
    this.#process.on('exit', (code, signal) => {
      this.#exited = true
      for (const w of [...this.#waiting]) w.reject(new Error(`${module} exited (${code ?? signal}) while waited on`))
    })
  }

  get pid(): number | undefined {
    return this.#process.pid
  }

  /** Hears every message the child sends, until the returned function is called. */
  onMessage(listener: (message: From) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Sends `message`; resolves with the child's next message of type `answer`. */
  ask<T extends From['type']>(message: To, answer: T): Promise<Extract<From, { type: T }>> {
    if (this.#exited) return Promise.reject(new Error('the child has exited'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no ${answer} within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS)
      const entry = {
        type: answer as string,
        resolve: (m: From) => done(undefined, m),
        reject: (e: Error) => done(e),
      }
      const done = (err?: Error, m?: From) => {
        clearTimeout(timer)
        this.#waiting.delete(entry)
        if (err) reject(err)
        else resolve(m as Extract<From, { type: T }>)
      }
      this.#waiting.add(entry)
      this.#process.send(message)
    })
  }

  /** Sends `message` without waiting for an answer. */
  tell(message: To): void {
    if (!this.#exited) this.#process.send(message)
  }

  /** Asks the child to stop (`stop` message), then kills it if it has not exited within `graceMs`. */
  async stop(stopMessage: To, graceMs = 10_000): Promise<void> {
    if (this.#exited) return
    const exited = new Promise<void>((resolve) => this.#process.once('exit', () => resolve()))
    this.tell(stopMessage)
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
}
