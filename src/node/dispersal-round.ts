import type { Aggregator } from '../attest/aggregator.ts'
import { Aggregator as AttestationAggregator } from '../attest/aggregator.ts'
import type { Certificate } from '../attest/certificate.ts'
import type { Assignment } from '../committee/assignment.ts'
import type { Committee } from '../committee/committee.ts'
import type { Member } from '../committee/member.ts'
import type { EncodedBlob } from '../erasure/encode.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { DacnetError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { P2pErrorCode } from '../p2p/errors.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { sendStore } from '../p2p/store.ts'
import { settleWithin } from '../timing.ts'
import {
  DEFAULT_GRACE_MS,
  DEFAULT_MEMBER_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
  type DispersalReceipt,
  type DisperseOptions,
  type DisperserOptions,
  type LocalMember,
  type MemberFailure,
} from './dispersal-options.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { memberPeer, refreshPeerAddresses } from './peers.ts'

export interface RoundContext {
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
export class DispersalRound {
  readonly #ctx: RoundContext
  readonly #aggregator: Aggregator
  readonly #receipts: DispersalReceipt[] = []
  readonly #failures: MemberFailure[] = []
  readonly #start = performance.now()
  #lostStake = 0n
  readonly #settled = Promise.withResolvers<void>()

  /**
   * Resolves once every member's send has finished (answered, failed or timed out), which may be after the
   * certificate: until then the round holds the encoded blob. Never rejects.
   */
  get settled(): Promise<void> {
    return this.#settled.promise
  }

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
    void Promise.allSettled(sends).then(() => this.#settled.resolve())
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
      await settleWithin(Promise.allSettled(sends), grace)
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
    let sent = false
    const reportSent = () => {
      if (sent) return
      sent = true
      const bytes = shards.reduce((sum, s) => sum + s.data.length + s.proof.length, 0)
      const ms = performance.now() - this.#start
      this.#ctx.events.onSent?.({ member: member.index, shards: shards.length, bytes, ms })
    }
    let last: DacnetError | undefined
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#ctx.events.signal?.aborted) return
      if (attempt > 0) {
        await new Promise((r) => setTimeout(r, this.#ctx.opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS))
        // The member may have moved: look its addresses up afresh before the retry.
        if (isDialFailure(last)) await refreshPeerAddresses(this.#ctx.libp2p, member, this.#ctx.events.signal)
      }
      try {
        const local = this.#ctx.localMember
        let signature: Uint8Array
        if (local?.peerId === member.peerId) {
          // This node's own share goes straight to its store: nothing crosses the network.
          reportSent()
          signature = await local.storeOwnShare(this.#ctx.encoded.headerBytes, shards)
        } else {
          signature = await sendStore(
            this.#ctx.libp2p,
            await memberPeer(this.#ctx.libp2p, member),
            this.#ctx.encoded.headerBytes,
            shards,
            {
              timeoutMs: this.#ctx.opts.memberTimeoutMs ?? DEFAULT_MEMBER_TIMEOUT_MS,
              onSent: reportSent,
              ...(this.#ctx.events.signal ? { signal: this.#ctx.events.signal } : {}),
            },
          )
        }
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
        last = err instanceof DacnetError ? err : nodeError(NodeErrorCode.STORE_FAILED, String((err as Error).message))
        this.#ctx.logger.debug('store to member failed', { member: member.index, attempt, error: last })
      }
    }
    onFailure({
      member: member.index,
      peerId: member.peerId,
      stake: member.stake,
      code: last?.code ?? NodeErrorCode.STORE_FAILED,
      message: last?.message ?? 'unknown failure',
    })
  }
}

/** Failures a fresh address lookup may cure: the member could not be reached at all. */
function isDialFailure(err: DacnetError | undefined): boolean {
  return (
    err?.code === P2pErrorCode.DIAL_FAILED ||
    err?.code === P2pErrorCode.TIMEOUT ||
    err?.code === P2pErrorCode.STREAM_ENDED
  )
}
