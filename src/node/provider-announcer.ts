import type { BlobId } from '../erasure/blob-id.ts'
import type { Logger } from '../logger.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'

/** A provide that has not finished in this time is given up; the DHT's reprovider tries again later. */
export const PROVIDE_TIMEOUT_MS = 30_000
/** Provides running at once: each is a DHT query touching ~20 peers. */
const MAX_CONCURRENT_PROVIDES = 2
/** Blob ids waiting for a provide; past this the oldest waiting ones are dropped (the reprovider covers them). */
const MAX_QUEUED_PROVIDES = 10_000

/**
 * Publishes DHT provider records for stored blobs in the background, a few at a time, so announcing never
 * delays an attestation and a burst of stores never floods the DHT.
 */
export class ProviderAnnouncer {
  readonly #libp2p: DacnetLibp2p
  readonly #enabled: boolean
  readonly #logger: Logger
  readonly #queue: BlobId[] = []
  readonly #active = new Set<Promise<void>>()
  readonly #controller = new AbortController()

  constructor(libp2p: DacnetLibp2p, opts: { enabled: boolean; logger: Logger }) {
    this.#libp2p = libp2p
    this.#enabled = opts.enabled
    this.#logger = opts.logger
  }

  announce(blobId: BlobId): void {
    if (!this.#enabled || this.#controller.signal.aborted) return
    this.#queue.push(blobId)
    if (this.#queue.length > MAX_QUEUED_PROVIDES) this.#queue.shift()
    this.#pump()
  }

  async stop(): Promise<void> {
    this.#queue.length = 0
    this.#controller.abort()
    await Promise.allSettled([...this.#active])
  }

  #pump(): void {
    while (this.#active.size < MAX_CONCURRENT_PROVIDES && this.#queue.length > 0) {
      const blobId = this.#queue.shift()!
      const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(PROVIDE_TIMEOUT_MS)])
      const work = this.#libp2p.contentRouting
        .provide(blobId, { signal })
        .then(
          () => this.#logger.debug('provider record published', { blobId: blobId.toString() }),
          (err) => this.#logger.debug('provide failed', { blobId: blobId.toString(), error: err }),
        )
        .finally(() => {
          this.#active.delete(work)
          this.#pump()
        })
      this.#active.add(work)
    }
  }
}
