/**
 * What the e2e suite leaves running or on disk while it runs: node processes, helper processes and temp dirs.
 * The normal way out stops each in a `finally`; these lists are for the forced way out, which must be
 * synchronous (a second Ctrl-C, or an exit while a stop is still under way).
 */
import { rmSync } from 'node:fs'

interface Killable {
  kill(): void
}

const dirs = new Set<string>()
const processes = new Set<Killable>()

/** A signal that follows the first within this long is the same Ctrl-C seen twice (terminal and runner). */
const DUPLICATE_SIGNAL_MS = 2_000
/** The exit code of a run stopped by a signal (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130

export function trackDir(dir: string): void {
  dirs.add(dir)
}

export function untrackDir(dir: string): void {
  dirs.delete(dir)
}

export function trackProcess(process: Killable): () => void {
  processes.add(process)
  return () => processes.delete(process)
}

/** Kills whatever is still tracked and removes the temp dirs, synchronously. */
export function forceCleanup(): void {
  for (const p of processes) {
    try {
      p.kill()
    } catch {}
  }
  processes.clear()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
}

/**
 * SIGINT and SIGTERM abort `controller` (the suite then stops its clusters in order); a second signal, later than
 * DUPLICATE_SIGNAL_MS after the first, kills everything tracked and exits. Whatever way the process exits,
 * the tracked processes are killed and the dirs removed. Returns a function that removes the signal handlers
 * (the exit handler stays: whatever is still tracked then was left by a failure).
 */
export function stopOnSignals(controller: AbortController, note: (text: string) => void): () => void {
  let firstAt = 0
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      firstAt = Date.now()
      note(`${signal}: stopping the nodes and removing the temp dirs (again to force)`)
      controller.abort(new Error(`stopped by ${signal}`))
      return
    }
    if (Date.now() - firstAt < DUPLICATE_SIGNAL_MS) return
    note(`${signal} again: killing the nodes`)
    forceCleanup()
    process.exit(EXIT_INTERRUPTED)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', forceCleanup)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
