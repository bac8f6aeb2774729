import { isPeerId, type PeerId, type Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DacnetLibp2p } from '../p2p/node.ts'
import type { StreamOpener } from '../p2p/store.ts'
import type { ExchangePhase } from './dispersal-options.ts'

/**
 * While its share flows, a member is silent only after this many times its longest step between two signs of
 * progress so far, if that is longer than `silenceMs`. A share goes out in sends of about 60 KiB, each credited by the
 * member as it lands, so an honest member's steps are about one send's transit on its link; the factor leaves room
 * for a larger frame (after its window grows) or a link that slows down. A stopped member is found after a few of its
 * own steps.
 */
export const SILENCE_PACE_FACTOR = 4

/**
 * Watches one member's store exchange for progress, so that a member that stopped (a paused or hung process: TCP
 * still accepts, nothing answers) can be told from one that is merely slow. Progress is anything the exchange does
 * that needs the member: its addresses found, a new connection up (the noise and yamux handshakes need the
 * member's replies), the store stream agreed (multistream-select needs its reply), bytes of the share taken by the
 * stream (past the first window, only as the member grants more), its answer arriving. A 16 MiB share on a slow
 * link makes progress all along; a stopped member makes none after the bytes already in flight.
 *
 * Progress while sending comes in steps: the member credits bytes a yamux frame at a time, and a frame can hold up
 * to its window (2 MiB), so on a slow link steps can be seconds apart. Once the share is flowing, a member is
 * therefore held to its own pace: silent after max(`silenceMs`, SILENCE_PACE_FACTOR × its longest step so far). Once the
 * whole share is handed over, its answer is due after what is still in flight lands (at most a window: a few such
 * steps) and the member has stored it: that allowance plus `silenceMs`. The handshakes and the stream agreement are
 * round trips of a few bytes: there `silenceMs` alone applies.
 *
 * The watch reports silence once the deadline passes without progress, and the member's return at its next
 * progress. A late timer (this process's own event loop stalled) is judged only after pending I/O has run, so a
 * stall here is not taken for silence there.
 */
export class SilenceWatch {
  readonly #silenceMs: number
  readonly #onChange: (silent: boolean, phase: ExchangePhase, quietMs: number) => void
  #last = performance.now()
  /** The longest step between two signs of progress while the share flowed (steps judged silent excluded). */
  #longestStep = 0
  #phase: ExchangePhase = 'connecting'
  #silent = false
  #stopped = false
  #timer: NodeJS.Timeout | undefined
  #judging: NodeJS.Immediate | undefined
  readonly #detach: (() => void)[] = []

  /** `onChange(true, …)` when the member goes silent, `onChange(false, …)` when it makes progress again. */
  constructor(silenceMs: number, onChange: (silent: boolean, phase: ExchangePhase, quietMs: number) => void) {
    this.#silenceMs = silenceMs
    this.#onChange = onChange
    this.#arm(silenceMs)
  }

  get silent(): boolean {
    return this.#silent
  }

  get phase(): ExchangePhase {
    return this.#phase
  }

  /** The exchange moved on: `phase` if it entered a new one. */
  progress(phase?: ExchangePhase): void {
    if (this.#stopped) return
    const now = performance.now()
    const quiet = now - this.#last
    this.#last = now
    if (!this.#silent && flowing(this.#phase)) this.#longestStep = Math.max(this.#longestStep, quiet)
    if (phase) this.#phase = phase
    if (this.#silent) {
      this.#silent = false
      this.#arm(this.#silenceMs)
      this.#onChange(false, this.#phase, quiet)
    }
  }

  /** Enters a phase without progress (e.g. a stream on a connection that was already open). */
  enter(phase: ExchangePhase): void {
    this.#phase = phase
  }

  /**
   * Counts the stream's flow as progress: bytes taken ('idle', 'drain'). Never a 'message' listener: a stream hands
   * data that arrived before anyone listened to its first 'message' listener, so one here could take the member's
   * answer (a refusal sent the moment the stream opened) from the reader that sendStore attaches next. The answer
   * ends the exchange, and with it the watch, anyway.
   */
  observe(stream: Stream): void {
    if (this.#stopped) return
    const onFlow = () => this.progress()
    const onClose = () => detach()
    const detach = () => {
      stream.removeEventListener('idle', onFlow)
      stream.removeEventListener('drain', onFlow)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('idle', onFlow)
    stream.addEventListener('drain', onFlow)
    stream.addEventListener('close', onClose)
    this.#detach.push(detach)
  }

  /** Ends the watch: no more reports, no timers, no listeners. */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    clearTimeout(this.#timer)
    if (this.#judging) clearImmediate(this.#judging)
    for (const detach of this.#detach.splice(0)) detach()
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      // Let I/O that arrived while this timer waited (a busy event loop) count before judging.
      this.#judging = setImmediate(() => this.#judge())
    }, ms)
  }

  /** How long the member may stay quiet in its current phase. */
  #deadline(): number {
    if (!flowing(this.#phase)) return this.#silenceMs
    const paced = Math.max(this.#silenceMs, SILENCE_PACE_FACTOR * this.#longestStep)
    return this.#phase === 'answering' ? paced + this.#silenceMs : paced
  }

  #judge(): void {
    this.#judging = undefined
    if (this.#stopped || this.#silent) return
    const quiet = performance.now() - this.#last
    const deadline = this.#deadline()
    if (quiet < deadline) {
      this.#arm(deadline - quiet)
      return
    }
    this.#silent = true
    this.#onChange(true, this.#phase, quiet)
  }
}

/** Phases in which the share is flowing or its answer is due: progress comes in frame-sized steps. */
function flowing(phase: ExchangePhase): boolean {
  return phase === 'sending' || phase === 'answering'
}

/**
 * Opens a store stream for `sendStore` in libp2p's own two steps — the connection, then a stream on it — and
 * reports each to the watch: addresses found and a new connection as progress (a connection that was already open
 * proves nothing about the member now), the stream agreed as progress, then its flow.
 */
export function watchedOpener(libp2p: DacnetLibp2p, watch: SilenceWatch): StreamOpener {
  return async (peer, protocol, options) => {
    const known = new Set(connectionsTo(libp2p, peer).map((c) => c.id))
    const connection = await libp2p.dial(peer, {
      ...options,
      onProgress: (event) => {
        if (event.type === 'dial-queue:calculated-addresses') watch.progress()
      },
    })
    if (known.has(connection.id)) watch.enter('negotiating')
    else watch.progress('negotiating')
    const stream = await connection.newStream(protocol, options)
    watch.progress('sending')
    watch.observe(stream)
    return stream
  }
}

function connectionsTo(libp2p: DacnetLibp2p, peer: PeerId | Multiaddr | Multiaddr[]) {
  return isPeerId(peer) ? libp2p.getConnections(peer) : []
}
