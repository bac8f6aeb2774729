import { encodeCertificate } from '../attest/certificate-codec.ts'
import { assignShards } from '../committee/assignment.ts'
import type { Committee } from '../committee/committee.ts'
import type { EncodedBlob } from '../erasure/encode.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../erasure/params.ts'
import { ErasurePool } from '../erasure/pool.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { publishCertificate } from '../p2p/gossip.ts'
import { isTimerDelay, MAX_TIMER_MS } from '../timer-limit.ts'
import type { DispersalResult, DisperseOptions, DisperserInit, DisperserOptions } from './dispersal-options.ts'
import { DispersalRound } from './dispersal-round.ts'
import { currentCommittee } from './epochs.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { guardedEvents } from './guarded-events.ts'

/**
 * The sequencer side: encode a blob, send every member its shards (largest stake first, `sendLanes` at once),
 * collect attestations and return a certificate as soon as signed stake reaches q. A failed member is retried once; a slow one never
 * holds the certificate back (its store goes on in the background). A member whose exchange makes no progress for
 * `silenceMs` counts as silent until it does. When the members that failed or are silent hold so much stake that
 * q is out of reach, dispersal fails at once with NODE_THRESHOLD_UNREACHABLE naming them (`onUnreachable` first),
 * the exchanges still under way are aborted, and nothing is certified.
 */
export class Disperser {
  readonly #init: DisperserInit
  readonly #opts: DisperserOptions
  readonly #pool: ErasurePool
  readonly #ownsPool: boolean
  readonly #logger: Logger
  #unsettled = 0

  constructor(init: DisperserInit, opts: DisperserOptions = {}) {
    const silenceMs = opts.silenceMs
    if (silenceMs !== undefined && !(Number.isFinite(silenceMs) && silenceMs >= 0 && silenceMs <= MAX_TIMER_MS)) {
      throw nodeError(
        NodeErrorCode.INVALID_OPTIONS,
        `silenceMs ${silenceMs} is not a number of milliseconds in 0..${MAX_TIMER_MS}`,
      )
    }
    for (const [name, min] of [
      ['memberTimeoutMs', 1],
      ['retryDelayMs', 0],
      ['graceMs', 0],
    ] as const) {
      const ms = opts[name]
      if (ms !== undefined && !isTimerDelay(ms, min)) {
        throw nodeError(
          NodeErrorCode.INVALID_OPTIONS,
          `${name} ${ms} is not a whole number of milliseconds in ${min}..${MAX_TIMER_MS}`,
        )
      }
    }
    const sendLanes = opts.sendLanes
    if (
      sendLanes !== undefined &&
      !(sendLanes === Number.POSITIVE_INFINITY || (Number.isInteger(sendLanes) && sendLanes >= 1))
    ) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `sendLanes ${sendLanes} is not a whole number >= 1 (or Infinity)`)
    }
    this.#init = init
    this.#opts = opts
    this.#ownsPool = init.pool === undefined
    this.#pool = init.pool ?? new ErasurePool()
    this.#logger = init.logger ?? silentLogger
  }

  async disperse(bytes: Uint8Array, given: DisperseOptions = {}): Promise<DispersalResult> {
    const opts = guardedEvents(given, this.#logger)
    opts.signal?.throwIfAborted()
    const committee = await currentCommittee(this.#init.committees)
    const encodeStart = performance.now()
    // The committee's shape for a blob of this size: the only one members admit (PROTOCOL.md §3.3 step 6). A
    // non-Uint8Array is left for the encoder to refuse with its own code.
    const shape = committee.shapeFor(bytes instanceof Uint8Array ? bytes.length : 0)
    const encoded = await this.#pool.encodeBlob(bytes, {
      networkId: committee.networkId,
      epoch: committee.epoch,
      k: shape.k,
      n: shape.n,
      maxBlobSize: this.#opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE,
    })
    const encodeMs = performance.now() - encodeStart
    opts.onEncoded?.({ blobId: encoded.blobId.toString(), encodeMs, shards: encoded.shards.length })
    // Once every member's send is done the shards' memory goes back to the pool for the next blob.
    return this.#certify(committee, encoded, encodeMs, opts, () => this.#pool.release(encoded))
  }

  /**
   * Disperses a blob its caller already encoded (e.g. in its own pipeline). The header must be for the
   * current epoch with the committee's shape for its size (`Committee.shapeFor`): members admit only that shape
   * (dispersal policy, stricter than the safety rule certificates are checked against), and check shards
   * against its root.
   */
  async disperseEncoded(encoded: EncodedBlob, given: DisperseOptions = {}): Promise<DispersalResult> {
    const opts = guardedEvents(given, this.#logger)
    const committee = await currentCommittee(this.#init.committees)
    const { header } = encoded
    const shape = committee.shapeFor(header.dataSize)
    if (
      header.epoch !== committee.epoch ||
      header.networkId !== committee.networkId ||
      header.k !== shape.k ||
      header.n !== shape.n
    ) {
      throw nodeError(NodeErrorCode.HEADER_MISMATCH, 'the encoded blob does not match the current committee')
    }
    return this.#certify(committee, encoded, 0, opts)
  }

  async #certify(
    committee: Committee,
    encoded: EncodedBlob,
    encodeMs: number,
    opts: DisperseOptions,
    /** Called once nothing of the round uses `encoded` any more. */
    done?: () => void,
  ): Promise<DispersalResult> {
    if (opts.signal?.aborted) {
      done?.()
      opts.signal.throwIfAborted()
    }
    const assignment = assignShards(committee, encoded.blobId.bytes, encoded.header.n)
    const round = new DispersalRound({
      libp2p: this.#init.libp2p,
      localMember: this.#init.localMember,
      committee,
      encoded,
      assignment,
      opts: this.#opts,
      events: opts,
      logger: this.#logger,
    })
    this.#unsettled++
    void round.settled.then(() => {
      this.#unsettled--
      done?.()
    })
    const { certificate, receipts, failures, silent, certifyMs } = await round.run()
    const certificateBytes = encodeCertificate(certificate)
    if (this.#opts.publish ?? true) {
      publishCertificate(this.#init.libp2p, certificateBytes).catch((err) =>
        this.#logger.warn('publishing the certificate failed', { error: err }),
      )
    }
    await this.#init.localMember
      ?.keepCertificate(certificateBytes)
      .catch((err) => this.#logger.warn('keeping the certificate failed', { error: err }))
    const { shards: _s, proofs: _p, ...blob } = encoded
    return { certificate, blob, receipts, failures, silent, encodeMs, certifyMs }
  }

  /**
   * Dispersals whose member sends have not all finished, stragglers after a certificate included: each holds
   * its encoded blob (about n/k times the blob) until then. Callers that bound memory (the HTTP API) count these.
   */
  get unsettled(): number {
    return this.#unsettled
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.close()
  }
}

export * from './dispersal-options.ts'
