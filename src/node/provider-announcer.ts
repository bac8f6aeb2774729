import type { BlobId } from '../erasure/blob-id.ts'
import type { Logger } from '../logger.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { type ProvideOutcome, publishProviderRecords } from '../p2p/provider-records.ts'
import { NodeErrorCode, nodeError } from './errors.ts'

/** Publications running at once: each writes to the ~20 closest DHT servers of each of its blobs. */
const MAX_CONCURRENT_PROVIDES = 2
/** Blob ids published together, on one stream per DHT server (publishProviderRecords). */
export const MAX_RECORDS_PER_PUBLICATION = 64
/** Blob ids waiting for a provide; past this the oldest waiting ones are dropped, never announced. */
const MAX_QUEUED_PROVIDES = 10_000
/**
 * Provides wait until the node has had no store activity for this long. A record is sent to the ~20 closest DHT
 * servers (after a lookup when the DHT has more than 20); on a 16-member devnet sharing two cores a provide by
 * lookup cost the committee about as much CPU as storing a 1 MiB blob, and run while the next blob was being stored
 * it slowed that blob's certificate. A provider record serves retrievals by a bare blob id, which ask the members of
 * the newest epochs first in any case, so a record published a little later loses nothing.
 */
export const DEFAULT_PROVIDE_QUIET_MS = 2_000
/** A provide waits for quiet at most this long: under a steady stream of stores records still go out. */
export const DEFAULT_PROVIDE_MAX_DELAY_MS = 60_000

export interface ProviderAnnouncerOptions {
  enabled: boolean
  logger: Logger
  /** Store activity that holds provides back for this long. Default DEFAULT_PROVIDE_QUIET_MS; 0 announces at once. */
  quietMs?: number | undefined
  /** The longest a blob waits for quiet. Default DEFAULT_PROVIDE_MAX_DELAY_MS. */
  maxDelayMs?: number | undefined
  /** Publishes the records of a batch of blobs. Default publishProviderRecords on the node's libp2p. */
  publish?: ((blobIds: BlobId[], options: { signal: AbortSignal }) => Promise<ProvideOutcome>) | undefined
}

interface Waiting {
  blobId: BlobId
  since: number
}

/**
 * Publishes DHT provider records for stored blobs in the background when the node is not busy storing: the blobs
 * waiting are published together (up to MAX_RECORDS_PER_PUBLICATION, two publications at a time) once no store
 * has begun or ended for `quietMs`, or once the oldest has waited `maxDelayMs`. Announcing never delays an
 * attestation, and a burst of stores never floods the DHT.
 */
export class ProviderAnnouncer {
  readonly #publish: NonNullable<ProviderAnnouncerOptions['publish']>
  readonly #enabled: boolean
  readonly #logger: Logger
  readonly #quietMs: number
  readonly #maxDelayMs: number
  readonly #queue: Waiting[] = []
  readonly #active = new Set<Promise<void>>()
  readonly #controller = new AbortController()
  #lastStoreActivity = Number.NEGATIVE_INFINITY
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(libp2p: DacnetLibp2p, opts: ProviderAnnouncerOptions) {
    this.#publish = opts.publish ?? ((blobIds, options) => publishProviderRecords(libp2p, blobIds, options))
    this.#enabled = opts.enabled
    this.#logger = opts.logger
    this.#quietMs = checkedMs('provideQuietMs', opts.quietMs ?? DEFAULT_PROVIDE_QUIET_MS)
    this.#maxDelayMs = checkedMs('provideMaxDelayMs', opts.maxDelayMs ?? DEFAULT_PROVIDE_MAX_DELAY_MS)
  }

  /** Provider records queued or being published. */
  get pending(): number {
    return this.#queue.length + this.#active.size
  }

  /** A store began or ended on this node: provides wait for quiet again. */
  storeActivity(): void {
    this.#lastStoreActivity = performance.now()
  }

  announce(blobId: BlobId): void {
    if (!this.#enabled || this.#controller.signal.aborted) return
    this.#queue.push({ blobId, since: performance.now() })
    if (this.#queue.length > MAX_QUEUED_PROVIDES) {
      const dropped = this.#queue.shift()!
      this.#logger.warn('provider record dropped: too many waiting', { blobId: dropped.blobId.toString() })
    }
    this.#pump()
  }

  async stop(): Promise<void> {
    this.#queue.length = 0
    this.#controller.abort()
    clearTimeout(this.#timer)
    this.#timer = undefined
    await Promise.allSettled([...this.#active])
  }

  /** How long until the next waiting blob may be announced: 0 now, else the sooner of quiet and its deadline. */
  #wait(now: number): number {
    const oldest = this.#queue[0]
    if (oldest === undefined) return Number.POSITIVE_INFINITY
    const quiet = this.#lastStoreActivity + this.#quietMs - now
    const deadline = oldest.since + this.#maxDelayMs - now
    return Math.max(0, Math.min(quiet, deadline))
  }

  #pump(): void {
    if (this.#controller.signal.aborted) return
    while (this.#active.size < MAX_CONCURRENT_PROVIDES && this.#queue.length > 0) {
      const wait = this.#wait(performance.now())
      if (wait > 0) {
        // Store activity may move the quiet point later; the timer looks again when it fires.
        if (this.#timer === undefined) {
          this.#timer = setTimeout(() => {
            this.#timer = undefined
            this.#pump()
          }, Math.ceil(wait))
          this.#timer.unref?.()
        }
        return
      }
      this.#start(this.#queue.splice(0, MAX_RECORDS_PER_PUBLICATION).map((waiting) => waiting.blobId))
    }
  }

  #start(blobIds: BlobId[]): void {
    // Each server written to and each lookup has its own deadline (publishProviderRecords); stop aborts the rest.
    const signal = this.#controller.signal
    const first = blobIds[0]!.toString()
    const work = this.#publish(blobIds, { signal })
      .then(
        (outcome) => this.#logger.debug('provider records published', { blobs: blobIds.length, first, ...outcome }),
        (err) => this.#logger.debug('provide failed', { blobs: blobIds.length, first, error: err }),
      )
      .finally(() => {
        this.#active.delete(work)
        this.#pump()
      })
    this.#active.add(work)
  }
}

function checkedMs(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw nodeError(NodeErrorCode.INVALID_OPTIONS, `${name} must be a non-negative number of milliseconds, got ${ms}`)
  }
  return ms
}
