import type { CliIo } from './io.ts'

/** Redraws at most this often: a terminal cannot show more, and each redraw costs a write. */
const REDRAW_INTERVAL_MS = 100
const BAR_WIDTH = 24

/**
 * One status line on stderr, redrawn in place. It only draws on a terminal: piped or redirected stderr
 * gets no progress at all, so logs and captured output stay clean.
 */
export class ProgressLine {
  readonly #io: CliIo
  readonly #enabled: boolean
  #last = 0
  #pending: string | undefined
  #drawn = false

  constructor(io: CliIo) {
    this.#io = io
    this.#enabled = io.stderrIsTTY
  }

  update(text: string, force = false): void {
    if (!this.#enabled) return
    this.#pending = text
    const now = performance.now()
    if (!force && now - this.#last < REDRAW_INTERVAL_MS) return
    this.#last = now
    this.#io.err(`\r\u001b[2K${text}`)
    this.#drawn = true
  }

  /** Clears the line, so that what follows starts on a clean one. */
  clear(): void {
    if (this.#enabled && this.#drawn) this.#io.err('\r\u001b[2K')
    this.#drawn = false
    this.#pending = undefined
  }

  /** The latest text, drawn now even if it came within the redraw interval. */
  flush(): void {
    if (this.#pending !== undefined) this.update(this.#pending, true)
  }
}

/** `[#########|-------]`: `fraction` filled, with a mark at `mark` (e.g. the signing threshold). */
export function bar(fraction: number, mark?: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width)
  const cells: string[] = Array.from({ length: width }, (_, i) => (i < filled ? '#' : '-'))
  if (mark !== undefined) {
    const at = Math.min(width - 1, Math.round(mark * width))
    cells[at] = '|'
  }
  return `[${cells.join('')}]`
}
