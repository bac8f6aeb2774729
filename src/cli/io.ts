/**
 * Where the CLI's output goes and what it knows of its environment. The real process supplies stdout,
 * stderr and process.env; tests run commands in-process with captured streams. Results go to stdout,
 * everything else (logs, progress, errors) to stderr.
 */
export interface CliIo {
  /** Results: text (or raw bytes, for `retrieve -o -`). */
  out(data: string | Uint8Array): void
  /** Logs, progress and errors. */
  err(text: string): void
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  /** Terminal input for password prompts; undefined when stdin is not a terminal. */
  tty?: NodeJS.ReadStream | undefined
  /** Progress bars and live summaries redraw in place only on a terminal. */
  stderrIsTTY: boolean
}

export function processIo(): CliIo {
  return {
    out: (data) => process.stdout.write(data),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    tty: process.stdin.isTTY ? process.stdin : undefined,
    stderrIsTTY: process.stderr.isTTY === true,
  }
}

/** Waits until everything written to stdout and stderr has been handed to the OS, before process.exit. */
export async function flushProcessOutput(): Promise<void> {
  await Promise.all(
    [process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))),
  )
}
