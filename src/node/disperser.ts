import type { Aggregator, Receipt } from '../attest/aggregator.ts'
import { Aggregator as AttestationAggregator } from '../attest/aggregator.ts'
import type { Certificate } from '../attest/certificate.ts'
import { encodeCertificate } from '../attest/certificate-codec.ts'
import { type Assignment, assignShards } from '../committee/assignment.ts'
import type { Committee } from '../committee/committee.ts'
import type { Member } from '../committee/member.ts'
import type { CommitteeSource } from '../committee/source.ts'
import type { EncodedBlob } from '../erasure/encode.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../erasure/params.ts'
import { ErasurePool } from '../erasure/pool.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { DacnetError } from '../errors.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { publishCertificate } from '../p2p/gossip.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { sendStore } from '../p2p/store.ts'
import { currentCommittee } from './epochs.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { memberPeer } from './peers.ts'

/** One store attempt to one member: dial, send its share, wait for the signature. */
export const DEFAULT_MEMBER_TIMEOUT_MS = 60_000
/** Pause before the single retry of a failed member. */
export const DEFAULT_RETRY_DELAY_MS = 500
/** After the threshold, wait this long for more signatures before certifying (0: certify at once). */
export const DEFAULT_GRACE_MS = 0

/**
 * The committee member running in the same process as the disperser (a node that is also a sequencer):
 * libp2p cannot dial itself, so its own share is stored directly, and it keeps the certificates it makes.
 */
export interface LocalMember {
  peerId: string
  /** Stores this member's shards exactly as the store protocol would, and returns its signature. */
  storeOwnShare(headerBytes: Uint8Array, shards: ShardWithProof[]): Promise<Uint8Array>
  keepCertificate(bytes: Uint8Array): Promise<void>
}

export interface DisperserInit {
  /** Started; its peer id must be a registered sequencer. */
  libp2p: DacnetLibp2p
  /** Set when this process is also a committee member (see LocalMember). */
  localMember?: LocalMember
  committees: CommitteeSource
  /** Encodes off the main thread; the disperser creates (and closes) its own if none is given. */
  pool?: ErasurePool
  logger?: Logger
}

export interface DisperserOptions {
  memberTimeoutMs?: number
  retryDelayMs?: number
  graceMs?: number
  maxBlobSize?: number
  /** Publish each certificate on the gossip topic. Default true. */
  publish?: boolean
}

/** A member's attestation as it arrives, before the aggregate exists. */
export interface DispersalReceipt extends Receipt {
  /** Shards the member stored. */
  shards: number
  /** Milliseconds from the start of sending to this attestation. */
  ms: number
  totalStake: bigint
}

export interface MemberFailure {
  member: number
  peerId: string
  stake: bigint
  code: string
  message: string
}

export interface DispersalEvents {
  onEncoded?: (info: { blobId: string; encodeMs: number; shards: number }) => void
  onReceipt?: (receipt: DispersalReceipt) => void
  onFailure?: (failure: MemberFailure) => void
}

export interface DisperseOptions extends DispersalEvents {
  signal?: AbortSignal
}

export interface DispersalResult {
  certificate: Certificate
  blob: Omit<EncodedBlob, 'shards' | 'proofs'>
  receipts: DispersalReceipt[]
  failures: MemberFailure[]
  encodeMs: number
  /** Milliseconds from the start of sending to the certificate. */
  certifyMs: number
}

/**
 * The sequencer side: encode a blob, send every member its shards in parallel, collect attestations and
 * return a certificate as soon as signed stake reaches q. A failed member is retried once; a slow one never
 * holds the certificate back (its store goes on in the background); when the members that failed hold so
 * much stake that q is out of reach, dispersal fails at once with NODE_THRESHOLD_UNREACHABLE naming them.
 */
export class Disperser {
  readonly #init: DisperserInit
  readonly #opts: DisperserOptions
  readonly #pool: ErasurePool
  readonly #ownsPool: boolean
  readonly #logger: Logger

  constructor(init: DisperserInit, opts: DisperserOptions = {}) {
    this.#init = init
    this.#opts = opts
    this.#ownsPool = init.pool === undefined
    this.#pool = init.pool ?? new ErasurePool()
    this.#logger = init.logger ?? silentLogger
  }

  async disperse(bytes: Uint8Array, opts: DisperseOptions = {}): Promise<DispersalResult> {
    opts.signal?.throwIfAborted()
    const committee = await currentCommittee(this.#init.committees)
    const encodeStart = performance.now()
    const encoded = await this.#pool.encodeBlob(bytes, {
      networkId: committee.networkId,
      epoch: committee.epoch,
      k: committee.encoding.k,
      n: committee.encoding.n,
      maxBlobSize: this.#opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE,
    })
    const encodeMs = performance.now() - encodeStart
    opts.onEncoded?.({ blobId: encoded.blobId.toString(), encodeMs, shards: encoded.shards.length })
    return this.#certify(committee, encoded, encodeMs, opts)
  }

  /**
   * Disperses a blob its caller already encoded (e.g. in its own pipeline). The header must be for the
   * current epoch with the committee's (k, n); members check their shards against its root, nothing more.
   */
  async disperseEncoded(encoded: EncodedBlob, opts: DisperseOptions = {}): Promise<DispersalResult> {
    const committee = await currentCommittee(this.#init.committees)
    const { header } = encoded
    if (
      header.epoch !== committee.epoch ||
      header.networkId !== committee.networkId ||
      header.k !== committee.encoding.k ||
      header.n !== committee.encoding.n
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
  ): Promise<DispersalResult> {
    opts.signal?.throwIfAborted()
    const assignment = assignShards(committee, encoded.blobId.bytes)
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
    const { certificate, receipts, failures, certifyMs } = await round.run()
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
    return { certificate, blob, receipts, failures, encodeMs, certifyMs }
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.close()
  }
}

interface RoundContext {
  libp2p: DacnetLibp2p
  localMember: LocalMember | undefined
  committee: Committee
  encoded: EncodedBlob
  assignment: Assignment
  opts: DisperserOptions
  events: DisperseOptions
  logger: Logger
}

/** One blob's dispersal: per-member sends, the aggregator, and the bookkeeping that decides the outcome. */
class DispersalRound {
  readonly #ctx: RoundContext
  readonly #aggregator: Aggregator
  readonly #receipts: DispersalReceipt[] = []
  readonly #failures: MemberFailure[] = []
  readonly #start = performance.now()
  #lostStake = 0n

  constructor(ctx: RoundContext) {
    this.#ctx = ctx
    this.#aggregator = new AttestationAggregator({ committee: ctx.committee, header: ctx.encoded.header })
  }

  async run(): Promise<{
    certificate: Certificate
    receipts: DispersalReceipt[]
    failures: MemberFailure[]
    certifyMs: number
  }> {
    const { promise: unreachable, reject } = Promise.withResolvers<never>()
    this.#aggregator.on('receipt', (receipt) => {
      const full: DispersalReceipt = {
        ...receipt,
        shards: this.#ctx.assignment.counts[receipt.member] ?? 0,
        ms: performance.now() - this.#start,
        totalStake: this.#ctx.committee.totalStake,
      }
      this.#receipts.push(full)
      this.#ctx.events.onReceipt?.(full)
    })
    const onFailure = (failure: MemberFailure) => {
      this.#failures.push(failure)
      this.#lostStake += failure.stake
      this.#ctx.events.onFailure?.(failure)
      if (!this.#ctx.committee.reachesThreshold(this.#ctx.committee.totalStake - this.#lostStake)) {
        reject(
          nodeError(
            NodeErrorCode.THRESHOLD_UNREACHABLE,
            `members holding ${this.#lostStake} of ${this.#ctx.committee.totalStake} stake failed; the threshold cannot be reached: ${this.#failures
              .map((f) => `member ${f.member} (${f.peerId}): ${f.code}`)
              .join('; ')}`,
            {
              failures: this.#failures.map((f) => ({ ...f, stake: f.stake.toString() })),
              lostStake: this.#lostStake.toString(),
            },
          ),
        )
      }
    }
    const signal = this.#ctx.events.signal
    const sends = this.#ctx.committee.members.map((member) => this.#sendWithRetry(member, onFailure))
    const aborted = new Promise<never>((_, rejectAbort) => {
      signal?.addEventListener('abort', () => rejectAbort(nodeError(NodeErrorCode.ABORTED, 'dispersal aborted')), {
        once: true,
      })
    })
    unreachable.catch(() => {})
    aborted.catch(() => {})
    let certificate = await Promise.race([this.#aggregator.wait(signal), unreachable, aborted])
    const grace = this.#ctx.opts.graceMs ?? DEFAULT_GRACE_MS
    if (grace > 0) {
      await Promise.race([Promise.allSettled(sends), new Promise((r) => setTimeout(r, grace))])
      certificate = this.#aggregator.certificate()
    }
    return {
      certificate,
      receipts: [...this.#receipts],
      failures: [...this.#failures],
      certifyMs: performance.now() - this.#start,
    }
  }

  async #sendWithRetry(member: Member, onFailure: (f: MemberFailure) => void): Promise<void> {
    const shards: ShardWithProof[] = this.#ctx.assignment.shardsOf(member.index).map((index) => ({
      index,
      data: this.#ctx.encoded.shards[index]!,
      proof: this.#ctx.encoded.proofs[index]!,
    }))
    let last: DacnetError | undefined
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#ctx.events.signal?.aborted) return
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.#ctx.opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS))
      try {
        const local = this.#ctx.localMember
        const signature =
          local?.peerId === member.peerId
            ? await local.storeOwnShare(this.#ctx.encoded.headerBytes, shards)
            : await sendStore(
                this.#ctx.libp2p,
                await memberPeer(this.#ctx.libp2p, member),
                this.#ctx.encoded.headerBytes,
                shards,
                {
                  timeoutMs: this.#ctx.opts.memberTimeoutMs ?? DEFAULT_MEMBER_TIMEOUT_MS,
                  ...(this.#ctx.events.signal ? { signal: this.#ctx.events.signal } : {}),
                },
              )
        const outcome = await this.#aggregator.add({
          networkId: this.#ctx.committee.networkId,
          epoch: this.#ctx.committee.epoch,
          blobId: this.#ctx.encoded.blobId.bytes,
          publicKey: member.publicKey,
          signature,
        })
        if (outcome.accepted) return
        // A member that signs something invalid will not do better on a retry.
        last = new DacnetError(outcome.rejection.code, outcome.rejection.reason)
        break
      } catch (err) {
        last = err instanceof DacnetError ? err : new DacnetError('NODE_STORE_FAILED', String((err as Error).message))
        this.#ctx.logger.debug('store to member failed', { member: member.index, attempt, error: last })
      }
    }
    onFailure({
      member: member.index,
      peerId: member.peerId,
      stake: member.stake,
      code: last?.code ?? 'NODE_STORE_FAILED',
      message: last?.message ?? 'unknown failure',
    })
  }
}
