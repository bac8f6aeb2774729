import { EventEmitter } from 'node:events'
import type { Committee } from '../committee/committee.ts'
import { toHex } from '../committee/hex.ts'
import { unsafeEncoding } from '../committee/params.ts'
import { type BlobId, blobIdOf } from '../erasure/blob-id.ts'
import { type BlobHeader, encodeHeader } from '../erasure/header.ts'
import { DacnetError } from '../errors.ts'
import { type Attestation, checkAttestation } from './attestation.ts'
import { verifySameMessage } from './batch-verify.ts'
import { aggregateSignatures, type Signature, signatureBytes } from './bls.ts'
import { CERTIFICATE_VERSION, type Certificate } from './certificate.ts'
import { committeeKeys } from './committee-keys.ts'
import { AttestErrorCode, attestError } from './errors.ts'
import { type AttestationContext, attestationContextOf, attestationMessage } from './message.ts'
import { bitmapFromSigners } from './signer-bitmap.ts'

/**
 * Attestations verified together at most. One same-message batch of 128 costs ~15 ms in the libuv pool;
 * larger batches would delay receipts, and a failed batch falls back to at most this many single checks.
 */
export const DEFAULT_MAX_BATCH_SIZE = 128

/**
 * How long an attestation waits for others to join its batch, unless the waiting ones could reach the threshold
 * (then they are verified at once). A sequencer's attestations arrive one by one over a few hundred ms: verified
 * on arrival, each cost a pairing (~1 ms on the event loop); waiting this long lets most of a blob's share one.
 */
export const DEFAULT_LINGER_MS = 50

export interface AggregatorInit {
  committee: Committee
  /** The blob being certified; its network and epoch must be the committee's. */
  header: BlobHeader
}

export interface AggregatorOptions {
  /** Attestations verified together at most. Default DEFAULT_MAX_BATCH_SIZE. */
  maxBatchSize?: number
  /**
   * How long an attestation may wait for a batch before the threshold, in ms; 0 verifies each tick's arrivals at
   * once. Attestations whose stake, with what is already accepted, reaches the threshold never wait, nor do those
   * that arrive after it. Default DEFAULT_LINGER_MS.
   */
  lingerMs?: number
}

/** Progress after an accepted attestation. */
export interface Receipt {
  member: number
  peerId: string
  /** The member's own stake. */
  stake: bigint
  /** Stake of all accepted members so far, this one included. */
  signedStake: bigint
  signerCount: number
  thresholdReached: boolean
}

/** Why an attestation was not counted. */
export interface Rejection {
  /** The member index, when the signer is a member. */
  member?: number
  /** The signer key as given, 0x hex ("" if it was not bytes). */
  publicKey: string
  code: string
  reason: string
}

export type AttestationOutcome = { accepted: true; receipt: Receipt } | { accepted: false; rejection: Rejection }

export interface AggregatorEvents {
  receipt: [Receipt]
  rejection: [Rejection]
  /** Once, when signed stake first reaches q. */
  threshold: [Certificate]
}

interface Pending {
  attestation: Attestation
  member: number
  settle: (outcome: AttestationOutcome) => void
}

/**
 * Collects attestations for one blob until members holding q of the stake have signed.
 *
 * `add` does the cheap checks at once (network, epoch, blob, membership, duplicates) and queues the rest;
 * queued attestations are verified together (same message: random-scalar aggregation and one pairing),
 * falling back to one check each when a batch fails. Before the threshold, a queued attestation waits up to
 * `lingerMs` for others to join its batch, except when the queue's stake could complete the threshold: then it is
 * checked at once. After the threshold every attestation is checked as it comes. Each member counts once.
 * Listeners get a `receipt` per accepted attestation and a `rejection` per refused one; `wait()` resolves with a
 * certificate as soon as signed stake >= q, and later attestations still join `certificate()`. Listeners must not
 * throw.
 */
export class Aggregator extends EventEmitter<AggregatorEvents> {
  readonly committee: Committee
  readonly header: BlobHeader
  readonly blobId: BlobId
  readonly context: AttestationContext
  readonly #message: Uint8Array
  readonly #maxBatchSize: number
  readonly #lingerMs: number
  readonly #pending: Pending[] = []
  #lingering: ReturnType<typeof setTimeout> | undefined
  readonly #accepted = new Set<number>()
  readonly #rejections: Rejection[] = []
  #signature: Signature | undefined
  #signedStake = 0n
  #scheduled = false
  #flushing = false
  #certified = false
  #resolveThreshold!: (certificate: Certificate) => void
  readonly #threshold: Promise<Certificate>

  constructor(init: AggregatorInit, options: AggregatorOptions = {}) {
    super()
    const { committee, header } = init
    if (header.networkId !== committee.networkId) {
      throw attestError(
        AttestErrorCode.WRONG_NETWORK,
        `blob is for network ${header.networkId}, not ${committee.networkId}`,
      )
    }
    if (header.epoch !== committee.epoch) {
      throw attestError(AttestErrorCode.WRONG_EPOCH, `blob is for epoch ${header.epoch}, not ${committee.epoch}`)
    }
    // The certificate rule (PROTOCOL.md §2.3), as verifyCertificate applies it: collecting signatures for a
    // blob whose (k, n) is not safe would only produce a certificate that nobody accepts.
    const unsafe = unsafeEncoding(committee, header.k, header.n)
    if (unsafe !== undefined) {
      throw attestError(AttestErrorCode.ENCODING_MISMATCH, `blob encoding is not safe for the committee: ${unsafe}`, {
        k: header.k,
        n: header.n,
      })
    }
    this.committee = committee
    this.header = header
    this.blobId = blobIdOf(encodeHeader(header))
    this.context = attestationContextOf(header)
    this.#message = attestationMessage(this.context)
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw attestError(AttestErrorCode.INVALID_OPTIONS, `maxBatchSize ${maxBatchSize} is not a positive integer`)
    }
    this.#maxBatchSize = maxBatchSize
    const lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS
    if (!Number.isFinite(lingerMs) || lingerMs < 0) {
      throw attestError(AttestErrorCode.INVALID_OPTIONS, `lingerMs ${lingerMs} is not a non-negative number`)
    }
    this.#lingerMs = lingerMs
    this.#threshold = new Promise((resolve) => {
      this.#resolveThreshold = resolve
    })
    committeeKeys(committee) // decode the keys now rather than on the first attestation
  }

  get signedStake(): bigint {
    return this.#signedStake
  }

  get signerCount(): number {
    return this.#accepted.size
  }

  get thresholdReached(): boolean {
    return this.#certified
  }

  get rejections(): readonly Rejection[] {
    return this.#rejections
  }

  /** Accepted member indices, ascending. */
  signers(): number[] {
    return [...this.#accepted].sort((a, b) => a - b)
  }

  /** Offers one attestation; resolves once it is accepted or rejected. Never rejects. */
  add(attestation: Attestation): Promise<AttestationOutcome> {
    let member: number
    try {
      member = checkAttestation(attestation, this.committee, this.context).index
    } catch (err) {
      if (!(err instanceof DacnetError)) throw err
      return Promise.resolve(this.#reject(attestation, undefined, err.code, err.message))
    }
    if (this.#accepted.has(member)) {
      return Promise.resolve(this.#reject(attestation, member, AttestErrorCode.DUPLICATE_SIGNER, 'already counted'))
    }
    return new Promise((settle) => {
      this.#pending.push({ attestation, member, settle })
      this.#schedule()
    })
  }

  /** Resolves with the first certificate whose signed stake reaches q. */
  wait(signal?: AbortSignal): Promise<Certificate> {
    if (!signal) return this.#threshold
    return new Promise((resolve, reject) => {
      const onAbort = () =>
        reject(attestError(AttestErrorCode.ABORTED, 'stopped waiting for the threshold', {}, { cause: signal.reason }))
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      void this.#threshold.then((certificate) => {
        signal.removeEventListener('abort', onAbort)
        resolve(certificate)
      })
    })
  }

  /** The certificate over everything accepted so far; INSUFFICIENT_STAKE while below q. */
  certificate(): Certificate {
    if (!this.#signature || !this.committee.reachesThreshold(this.#signedStake)) {
      throw attestError(
        AttestErrorCode.INSUFFICIENT_STAKE,
        `signed stake ${this.#signedStake} is below the threshold`,
        {
          signedStake: this.#signedStake.toString(),
        },
      )
    }
    return {
      version: CERTIFICATE_VERSION,
      epoch: this.committee.epoch,
      header: this.header,
      memberCount: this.committee.size,
      signers: bitmapFromSigners(this.committee.size, this.#accepted),
      signature: signatureBytes(this.#signature),
      signedStake: this.#signedStake,
    }
  }

  /**
   * Verifies what is pending now (next microtask, so one tick's arrivals share a batch) when it could complete
   * the threshold, the threshold is reached already, or nothing lingers; otherwise once the first of it has waited
   * lingerMs.
   */
  #schedule(): void {
    if (this.#scheduled || this.#flushing || this.#pending.length === 0) return
    // Only before the threshold: a straggler after it is checked as it comes, so that a dispersal's sends (which
    // wait for their attestation's verdict) settle as soon as the members answer.
    if (this.#lingerMs > 0 && !this.#certified && !this.#couldCertify()) {
      // Not unref'd: a caller awaiting add() is owed its outcome even when nothing else keeps the process up.
      this.#lingering ??= setTimeout(() => {
        this.#lingering = undefined
        this.#flushNow()
      }, this.#lingerMs)
      return
    }
    this.#flushNow()
  }

  #flushNow(): void {
    if (this.#scheduled || this.#flushing) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      void this.#flush()
    })
  }

  /** Not certified yet, and the pending attestations, if all valid, would bring signed stake to q. */
  #couldCertify(): boolean {
    if (this.#certified) return false
    let stake = this.#signedStake
    const counted = new Set<number>()
    for (const p of this.#pending) {
      if (this.#accepted.has(p.member) || counted.has(p.member)) continue
      counted.add(p.member)
      stake += this.committee.members[p.member]!.stake
    }
    return this.committee.reachesThreshold(stake)
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#lingering)
    this.#lingering = undefined
    this.#flushing = true
    try {
      // What is pending now; arrivals during a check wait for a batch of their own, as arrivals do.
      let due = this.#pending.length
      while (due > 0) {
        const batch: Pending[] = []
        const deferred: Pending[] = []
        const taken = this.#pending.splice(0, Math.min(due, this.#maxBatchSize))
        due -= taken.length
        for (const p of taken) {
          if (this.#accepted.has(p.member))
            p.settle(this.#reject(p.attestation, p.member, AttestErrorCode.DUPLICATE_SIGNER, 'already counted'))
          // A second attestation of one member waits for the first's verdict instead of joining its batch.
          else if (batch.some((b) => b.member === p.member)) deferred.push(p)
          else batch.push(p)
        }
        this.#pending.unshift(...deferred)
        due += deferred.length
        await this.#verify(batch)
      }
    } finally {
      this.#flushing = false
      this.#schedule()
    }
  }

  async #verify(batch: Pending[]): Promise<void> {
    const keys = committeeKeys(this.committee).publicKeys
    const { verdicts, aggregate } = await verifySameMessage(
      this.#message,
      batch.map((p) => ({ publicKey: keys[p.member]!, signature: p.attestation.signature })),
    )
    verdicts.forEach((verdict, i) => {
      const p = batch[i]!
      if (!verdict.ok) p.settle(this.#reject(p.attestation, p.member, verdict.code, verdict.reason))
    })
    if (aggregate)
      this.#commit(
        aggregate,
        batch.filter((_, i) => verdicts[i]!.ok),
      )
  }

  /**
   * Counts verified attestations whose signatures sum to `signature`. State changes first and events
   * after, so that a certificate built at the threshold has exactly the signers its signature covers.
   */
  #commit(signature: Signature, verified: Pending[]): void {
    this.#signature = this.#signature ? aggregateSignatures([this.#signature, signature]) : signature
    const receipts = verified.map((p): Receipt => {
      const member = this.committee.members[p.member]!
      this.#accepted.add(member.index)
      this.#signedStake += member.stake
      return {
        member: member.index,
        peerId: member.peerId,
        stake: member.stake,
        signedStake: this.#signedStake,
        signerCount: this.#accepted.size,
        thresholdReached: this.committee.reachesThreshold(this.#signedStake),
      }
    })
    verified.forEach((p, i) => {
      p.settle({ accepted: true, receipt: receipts[i]! })
      this.emit('receipt', receipts[i]!)
    })
    if (!this.#certified && this.committee.reachesThreshold(this.#signedStake)) {
      this.#certified = true
      const certificate = this.certificate()
      this.#resolveThreshold(certificate)
      this.emit('threshold', certificate)
    }
  }

  #reject(attestation: Attestation, member: number | undefined, code: string, reason: string): AttestationOutcome {
    const publicKey = attestation?.publicKey instanceof Uint8Array ? toHex(attestation.publicKey) : ''
    const rejection: Rejection =
      member === undefined ? { publicKey, code, reason } : { member, publicKey, code, reason }
    this.#rejections.push(rejection)
    this.emit('rejection', rejection)
    return { accepted: false, rejection }
  }
}
