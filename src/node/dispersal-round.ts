import { setTimeout as sleep } from 'node:timers/promises'
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
  DEFAULT_SILENCE_MS,
  type DispersalReceipt,
  type DisperseOptions,
  type DisperserOptions,
  type LocalMember,
  type MemberFailure,
  type UnreachableVerdict,
} from './dispersal-options.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { SilenceWatch, watchedOpener } from './member-silence.ts'
import { memberPeer, refreshPeerAddresses } from './peers.ts'
import { defaultSendLanes, type FreeLane, SendLanes, sendOrder } from './send-lanes.ts'
import { StakeLedger } from './stake-ledger.ts'

/**
 * After the verdict, how long `run` waits for the aborted exchanges to wind down before it rejects, so that the
 * caller hears of the failure with no store stream of the round left open. Aborting takes milliseconds; only this
 * node's own store (a LocalMember, which is not aborted) could take longer.
 */
export const ABORT_SETTLE_MS = 1_000

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
  readonly #ledger: StakeLedger
  readonly #receipts: DispersalReceipt[] = []
  readonly #failures: MemberFailure[] = []
  readonly #start = performance.now()
  readonly #settled = Promise.withResolvers<void>()
  /** Aborts every exchange of the round: fired by the verdict (and linked to the caller's signal). */
  readonly #stop = new AbortController()
  readonly #signal: AbortSignal
  readonly #verdict = Promise.withResolvers<never>()
  /** The silence watch of each remote exchange still running, and its member. */
  readonly #watches = new Map<SilenceWatch, Member>()
  /** Each running exchange's own abort: a straggler silent after the certificate is let go (see `#letGo`). */
  readonly #exchanges = new Map<number, AbortController>()
  /** How many exchanges run at once until the certificate (largest stake first). */
  readonly #sendLanes: SendLanes
  /** The lane each running exchange holds, by member index. */
  readonly #lanes = new Map<number, FreeLane>()
  /** Set at the certificate or the verdict: from then on silence no longer counts against q. */
  #decided = false
  /** Set at the certificate: from then on a silent straggler is let go rather than waited for. */
  #certified = false

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
    this.#ledger = new StakeLedger(ctx.committee)
    this.#sendLanes = new SendLanes(ctx.opts.sendLanes ?? defaultSendLanes(ctx.committee))
    const caller = ctx.events.signal
    this.#signal = caller ? AbortSignal.any([caller, this.#stop.signal]) : this.#stop.signal
  }

  async run(): Promise<{
    certificate: Certificate
    receipts: DispersalReceipt[]
    failures: MemberFailure[]
    silent: MemberFailure[]
    certifyMs: number
  }> {
    this.#aggregator.on('receipt', (receipt) => {
      if (this.#stop.signal.aborted) return
      this.#ledger.resume(receipt.member)
      const full: DispersalReceipt = {
        ...receipt,
        shards: this.#ctx.assignment.counts[receipt.member] ?? 0,
        ms: this.#elapsed(),
        totalStake: this.#ctx.committee.totalStake,
      }
      this.#receipts.push(full)
      this.#ctx.events.onReceipt?.(full)
    })
    const caller = this.#ctx.events.signal
    const sends = sendOrder(this.#ctx.committee).map((member) => this.#sendInLane(member))
    const allSettled = Promise.allSettled(sends)
    void allSettled.then(() => this.#settled.resolve())
    const aborted = new Promise<never>((_, rejectAbort) => {
      caller?.addEventListener('abort', () => rejectAbort(nodeError(NodeErrorCode.ABORTED, 'dispersal aborted')), {
        once: true,
      })
    })
    aborted.catch(() => {})
    this.#verdict.promise.catch(() => {})
    let certificate: Certificate
    try {
      certificate = await Promise.race([this.#aggregator.wait(this.#signal), this.#verdict.promise, aborted])
    } catch (err) {
      this.#decide()
      // After a verdict, the aborted exchanges wind down first: the caller is told once nothing is left open.
      if (this.#stop.signal.aborted) await settleWithin(allSettled, ABORT_SETTLE_MS)
      throw err
    }
    const silent = this.#ledger.silent()
    this.#certify()
    // Certified: the members still waiting for a lane are stragglers like any other, all sent to now.
    this.#sendLanes.open()
    const grace = this.#ctx.opts.graceMs ?? DEFAULT_GRACE_MS
    if (grace > 0) {
      await settleWithin(allSettled, grace)
      certificate = this.#aggregator.certificate()
    }
    return {
      certificate,
      receipts: [...this.#receipts],
      failures: [...this.#failures],
      silent,
      certifyMs: this.#elapsed(),
    }
  }

  #elapsed(): number {
    return performance.now() - this.#start
  }

  /** The round failed: silence stops mattering and every watch ends (the exchanges are aborted anyway). */
  #decide(): void {
    this.#decided = true
    for (const watch of this.#watches.keys()) watch.stop()
    this.#watches.clear()
  }

  /**
   * Certified: silence no longer counts against q, and the stragglers' exchanges go on (each member that stores
   * its share is one more holder), each still watched. One that is silent now, or falls silent later, is let go:
   * waiting out its timeout, and a retry, would only hold the encoded blob (and a caller's dispersal slot) for
   * minutes for a member that is not there.
   */
  #certify(): void {
    this.#decided = true
    this.#certified = true
    for (const [watch, member] of this.#watches) if (watch.silent) this.#letGo(member, watch)
  }

  #letGo(member: Member, watch: SilenceWatch): void {
    this.#exchanges
      .get(member.index)
      ?.abort(nodeError(NodeErrorCode.SILENT, `no progress while ${watch.phase}, after the certificate: let go`))
  }

  #onFailure(failure: MemberFailure): void {
    // Exchanges aborted by the verdict are not failures of their members.
    if (this.#stop.signal.aborted) return
    this.#failures.push(failure)
    this.#ctx.events.onFailure?.(failure)
    if (this.#decided) return
    this.#ledger.fail(failure)
    this.#judge()
  }

  #onSilence(member: Member, silent: boolean, watch: SilenceWatch, quietMs: number): void {
    // A silent member's exchange goes on, but no longer holds back the members after it.
    if (silent) this.#lanes.get(member.index)?.()
    if (this.#certified) {
      if (silent) this.#letGo(member, watch)
      return
    }
    if (this.#decided) return
    if (silent) {
      this.#ledger.silence({
        member: member.index,
        peerId: member.peerId,
        stake: member.stake,
        code: NodeErrorCode.SILENT,
        message: `no progress for ${(quietMs / 1000).toFixed(1)} s while ${watch.phase}`,
      })
    } else {
      this.#ledger.resume(member.index)
    }
    this.#ctx.events.onSilence?.({
      member: member.index,
      peerId: member.peerId,
      stake: member.stake,
      silent,
      phase: watch.phase,
      quietMs,
      ms: this.#elapsed(),
    })
    this.#judge()
  }

  /** Fails the round the moment the stake counted out makes q unreachable. */
  #judge(): void {
    if (this.#decided || this.#ledger.reachable) return
    const { committee } = this.#ctx
    const lost = this.#ledger.lost()
    const signers = new Set(this.#aggregator.signers())
    const verdict: UnreachableVerdict = {
      lost,
      lostStake: this.#ledger.lostStake,
      signedStake: this.#aggregator.signedStake,
      totalStake: committee.totalStake,
      outstanding: committee.members
        .filter((m) => !signers.has(m.index) && !this.#ledger.isLost(m.index))
        .map((m) => ({ member: m.index, peerId: m.peerId, stake: m.stake })),
      ms: this.#elapsed(),
    }
    const error = nodeError(
      NodeErrorCode.THRESHOLD_UNREACHABLE,
      `members holding ${verdict.lostStake} of ${verdict.totalStake} stake failed or are silent; the threshold cannot be reached: ${lost
        .map((f) => `member ${f.member} (${f.peerId}): ${f.code}`)
        .join('; ')}`,
      {
        failures: lost.map((f) => ({ ...f, stake: f.stake.toString() })),
        lostStake: verdict.lostStake.toString(),
        signedStake: verdict.signedStake.toString(),
        outstanding: verdict.outstanding.map((m) => ({ ...m, stake: m.stake.toString() })),
        ms: Math.round(verdict.ms),
      },
    )
    this.#decide()
    this.#ctx.events.onUnreachable?.(verdict)
    // The verdict settles the round before the abort reaches the exchanges (and the aggregator's wait).
    this.#verdict.reject(error)
    this.#stop.abort(error)
  }

  /** A member's exchange once a lane is free (none if the round ends first); its lane frees when it ends or falls silent. */
  async #sendInLane(member: Member): Promise<void> {
    const free = await this.#sendLanes.take(this.#signal)
    if (free === undefined) return
    this.#lanes.set(member.index, free)
    try {
      await this.#sendWithRetry(member)
    } finally {
      this.#lanes.delete(member.index)
      free()
    }
  }

  async #sendWithRetry(member: Member): Promise<void> {
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
      this.#ctx.events.onSent?.({ member: member.index, shards: shards.length, bytes, ms: this.#elapsed() })
    }
    const local = this.#ctx.localMember
    const remote = local?.peerId !== member.peerId
    const watch = remote ? this.#watch(member) : undefined
    const exchange = new AbortController()
    this.#exchanges.set(member.index, exchange)
    const signal = AbortSignal.any([this.#signal, exchange.signal])
    let last: DacnetError | undefined
    /** Whether the exchange ends here: the round's end returns at once, a straggler let go is a failure. */
    const ended = (): boolean => {
      if (!exchange.signal.aborted) return false
      last = exchange.signal.reason as DacnetError
      return true
    }
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        if (this.#signal.aborted) return
        if (ended()) break
        if (attempt > 0) {
          watch?.enter('connecting')
          await sleep(this.#ctx.opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, undefined, { signal }).catch(() => {})
          if (this.#signal.aborted) return
          if (ended()) break
          // The member may have moved: look its addresses up afresh before the retry.
          if (isDialFailure(last)) await refreshPeerAddresses(this.#ctx.libp2p, member, signal)
        }
        try {
          let signature: Uint8Array
          if (!remote) {
            // This node's own share goes straight to its store: nothing crosses the network.
            reportSent()
            signature = await local!.storeOwnShare(this.#ctx.encoded.headerBytes, shards)
          } else {
            signature = await sendStore(
              this.#ctx.libp2p,
              await memberPeer(this.#ctx.libp2p, member),
              this.#ctx.encoded.headerBytes,
              shards,
              {
                timeoutMs: this.#ctx.opts.memberTimeoutMs ?? DEFAULT_MEMBER_TIMEOUT_MS,
                ...(watch ? { openStream: watchedOpener(this.#ctx.libp2p, watch) } : {}),
                onSent: () => {
                  watch?.enter('answering')
                  reportSent()
                },
                signal,
              },
            )
          }
          watch?.stop()
          // It answered: no longer silent while its signature waits to be verified (up to a batch's wait), so
          // that another member failing meanwhile is not judged against stake that has in fact come back.
          if (!this.#decided) this.#ledger.resume(member.index)
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
          if (this.#signal.aborted) return
          if (ended()) break
          last =
            err instanceof DacnetError ? err : nodeError(NodeErrorCode.STORE_FAILED, String((err as Error).message))
          this.#ctx.logger.debug('store to member failed', { member: member.index, attempt, error: last })
        }
      }
    } finally {
      this.#exchanges.delete(member.index)
      if (watch) {
        watch.stop()
        this.#watches.delete(watch)
      }
    }
    this.#onFailure({
      member: member.index,
      peerId: member.peerId,
      stake: member.stake,
      code: last?.code ?? NodeErrorCode.STORE_FAILED,
      message: last?.message ?? 'unknown failure',
    })
  }

  /** A silence watch over one member's exchange, while the outcome is open and silence is on. */
  #watch(member: Member): SilenceWatch | undefined {
    const silenceMs = this.#ctx.opts.silenceMs ?? DEFAULT_SILENCE_MS
    if (silenceMs <= 0 || (this.#decided && !this.#certified)) return undefined
    const watch: SilenceWatch = new SilenceWatch(silenceMs, (silent, _phase, quietMs) =>
      this.#onSilence(member, silent, watch, quietMs),
    )
    this.#watches.set(watch, member)
    return watch
  }
}

/**
 * Failures a fresh address lookup may cure: the member could not be reached at all. Only this node's own reading of
 * the wire counts: a member that answers with one of these codes was reached (and chose its code).
 */
function isDialFailure(err: DacnetError | undefined): boolean {
  if (err?.meta['remote'] === true) return false
  return (
    err?.code === P2pErrorCode.DIAL_FAILED ||
    err?.code === P2pErrorCode.TIMEOUT ||
    err?.code === P2pErrorCode.STREAM_ENDED
  )
}
