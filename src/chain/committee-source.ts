import type { Address, Hex } from 'viem'
import { Committee } from '../committee/committee.ts'
import { CommitteeErrorCode, committeeError } from '../committee/errors.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { DacnetError } from '../errors.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { CachingKeyVerifier } from './caching-key-verifier.ts'
import {
  type ChainCommitteeSourceOptions,
  type ResolvedSourceOptions,
  resolveSourceOptions,
} from './committee-source-options.ts'
import { advance, type CommitteeRange } from './epoch-ranges.ts'
import { ChainErrorCode, chainError, rpcFailure } from './errors.ts'
import { bloomMayContainAddress } from './log-bloom.ts'
import { checkRanges, type RangeCheckContext } from './range-checks.ts'
import { epochOf, RegistryReader } from './registry-reader.ts'
import { committeeInputOf, RegistryReplay } from './registry-replay.ts'

export {
  type ChainCommitteeSourceOptions,
  DEFAULT_CACHED_COMMITTEES,
  DEFAULT_CONFIRMATIONS,
  DEFAULT_LOG_RANGE_BLOCKS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_RPC_TIMEOUT_MS,
} from './committee-source-options.ts'

/** What the source knows and how fresh it is: for /health, metrics and `dacnet chain status`. */
export interface ChainSourceStatus {
  /** `starting` before the first sync, `synced` after a sync within 3 polls, `stale` when syncs have failed since. */
  readonly state: 'starting' | 'synced' | 'stale'
  /** The block `confirmations` below the head at the last sync. */
  readonly safeBlock: number | undefined
  /** The epoch in force at that block. */
  readonly epoch: number | undefined
  /** When the last sync succeeded (ms since the epoch). */
  readonly lastSyncAt: number | undefined
  /** The code of the last failure since then, if any. */
  readonly lastError: string | undefined
  /** Reorgs found deeper than the confirmation depth since start. */
  readonly deepReorgs: number
  /**
   * Times since start that the registry's events, read block by block, did not add up to its own records (a log an
   * RPC backend left out of its answer) and the registry was read again from its deployment.
   */
  readonly registryRereads: number
}

/**
 * Committees read from the DacnetRegistry over JSON-RPC (PROTOCOL.md §4). The source replays the registry's
 * events up to the block `confirmations` below the head, cutting a committee at every epoch boundary a change
 * crossed, exactly as the contract archives its records, and checks every committee it serves against the
 * summary hash the contract holds for it. Closed epochs are kept; new blocks are read every poll.
 *
 * RPC trouble is normal input: a failed poll keeps everything known so far in service and shows in `status()`;
 * only a source that has never synced throws (CHAIN_UNAVAILABLE). A reorg deeper than the confirmation depth is
 * found by the hash of the last block read, logged, counted, and answered by reading the events again.
 *
 * Lifecycle: `start()` syncs once and then polls; `stop()` ends polling. Whoever creates the source stops it.
 * Used without `start()` (a one-shot client), it syncs on first use.
 */
export class ChainCommitteeSource implements CommitteeSource {
  readonly #options: ResolvedSourceOptions
  readonly #logger: Logger
  readonly #chain: RegistryReader
  readonly #keyChecks: CachingKeyVerifier
  readonly #rangeChecks: RangeCheckContext
  #replay = new RegistryReplay()
  #ranges: CommitteeRange[] = []
  #lastChangeEpoch: number | undefined
  #syncedBlock: bigint | undefined
  #syncedHash: Hex | undefined
  #inForce: number | undefined
  #committees = new Map<number, Committee>()
  #records = new Map<number, { recordIndex: number; summaryHash: Hex }>()
  #syncing: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #running = false
  #lastSyncAt: number | undefined
  #lastError: string | undefined
  #deepReorgs = 0
  /** A deep reorg was found and the registry's full re-read has not completed yet (the old state serves meanwhile). */
  #rereading = false
  /**
   * The events read so far did not add up to the registry's own records (an RPC backend that answered getLogs
   * before it had indexed a block): the next sync reads the registry again from its deployment.
   */
  #suspect = false
  #rereads = 0
  /** Full reads in a row whose events did not add up to the registry's records. */
  #inconsistentReads = 0
  /**
   * The epoch in force when the state serving was taken from a full read after MAX_INCONSISTENT_READS inconsistent
   * ones: reading on from it, the same failures are no news until the next epoch in force, when the checks run
   * again (so a backend that left logs out for a while is read past once it has them, at most once an epoch).
   */
  #takenInconsistentAt: number | undefined
  /** The highest safe block the RPC has shown, and when it first showed it (ms since the epoch). */
  #headSafe: bigint | undefined
  #headAdvancedAt = 0

  constructor(options: ChainCommitteeSourceOptions) {
    const resolved = resolveSourceOptions(options)
    this.#options = resolved
    this.#logger = (options.logger ?? silentLogger).child({ component: 'chain' })
    this.#chain = new RegistryReader(resolved)
    this.#keyChecks = new CachingKeyVerifier(resolved.verifier)
    this.#rangeChecks = { chain: this.#chain, keyChecks: this.#keyChecks, logger: this.#logger }
  }

  get registry(): Address {
    return this.#options.registry
  }

  /** Syncs once (a failure is logged and shows in status, not thrown), then polls until `stop()`. */
  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    await this.refresh().catch(() => {})
    this.#schedule()
  }

  async stop(): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#syncing?.catch(() => {})
    this.#chain.close()
  }

  /**
   * Reads new blocks now: a sync that begins after this call (one sync at a time). A sync already under way may
   * have read the head before the block the caller heard of — a member asked to store for an epoch the sequencer
   * saw first — so the caller waits for it and then for the next one, which callers meanwhile share.
   */
  async refresh(): Promise<void> {
    if (this.#syncing) await this.#syncing.catch(() => {})
    this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined
    })
    return this.#syncing
  }

  status(): ChainSourceStatus {
    const fresh = this.#lastSyncAt !== undefined && Date.now() - this.#lastSyncAt <= 3 * this.#options.pollIntervalMs
    return {
      state: this.#lastSyncAt === undefined ? 'starting' : fresh || this.#lastError === undefined ? 'synced' : 'stale',
      safeBlock: this.#syncedBlock === undefined ? undefined : Number(this.#syncedBlock),
      epoch: this.#inForce,
      lastSyncAt: this.#lastSyncAt,
      lastError: this.#lastError,
      deepReorgs: this.#deepReorgs,
      registryRereads: this.#rereads,
    }
  }

  async currentEpoch(): Promise<number> {
    await this.#ready()
    return this.#inForce!
  }

  async epochs(): Promise<number[]> {
    await this.#ready()
    return this.#ranges.filter((r) => r.from <= this.#inForce!).map((r) => r.from)
  }

  async getCommittee(epoch: number): Promise<Committee> {
    await this.#ready()
    const cached = this.#committees.get(epoch)
    if (cached) {
      this.#committees.delete(epoch) // LRU: re-insert as the newest
      this.#committees.set(epoch, cached)
      return cached
    }
    const range = this.#rangeOf(epoch)
    const { networkId } = await this.#chain.constants()
    const committee = new Committee(committeeInputOf(range.snapshot, networkId, epoch), { verifier: this.#keyChecks })
    this.#committees.set(epoch, committee)
    if (this.#committees.size > this.#options.cachedCommittees) {
      this.#committees.delete(this.#committees.keys().next().value!)
    }
    return committee
  }

  /**
   * Which registry record holds the committee of `epoch` and its summary hash: the witness's record index of an
   * on-chain certificate (PROTOCOL.md §4.5). Cached: a record's index never changes once given.
   */
  async committeeRecord(epoch: number): Promise<{ recordIndex: number; summaryHash: Hex }> {
    await this.#ready()
    this.#rangeOf(epoch) // UNKNOWN_EPOCH before asking the chain
    const cached = this.#records.get(epoch)
    if (cached) return cached
    const record = await this.#chain.record(epoch)
    this.#records.set(epoch, record)
    return record
  }

  async #ready(): Promise<void> {
    if (this.#inForce !== undefined) return
    try {
      await this.refresh()
    } catch (err) {
      if (this.#inForce === undefined) throw err
    }
  }

  #rangeOf(epoch: number): CommitteeRange {
    if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > this.#inForce!) {
      throw committeeError(
        CommitteeErrorCode.UNKNOWN_EPOCH,
        `epoch ${epoch} is not in force yet on the chain (the epoch in force is ${this.#inForce})`,
        { epoch },
      )
    }
    const range = this.#ranges.find((r) => r.from <= epoch && (r.to === undefined || epoch <= r.to))
    if (!range) {
      throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, `the registry had no member in epoch ${epoch}`, { epoch })
    }
    if (range.problem) throw range.problem
    if (!range.checked) {
      throw chainError(
        ChainErrorCode.COMMITTEE_MISMATCH,
        `the committee of epoch ${epoch} is not confirmed by the registry yet`,
        {
          epoch,
        },
      )
    }
    return range
  }

  #schedule(): void {
    if (!this.#running) return
    this.#timer = setTimeout(() => {
      this.refresh()
        .catch(() => {})
        .finally(() => this.#schedule())
    }, this.#options.pollIntervalMs)
    this.#timer.unref()
  }

  async #sync(): Promise<void> {
    try {
      await this.#syncOnce()
      const stalledMs = Date.now() - this.#headAdvancedAt
      if (stalledMs > this.#options.maxHeadStallMs) {
        // The RPC answers, but its chain stopped: what it says is no news, and must not look like a fresh sync.
        if (this.#lastError !== ChainErrorCode.HEAD_STALLED) {
          this.#logger.warn('the chain RPC answers but its head has not moved; serving the committees known so far', {
            block: Number(this.#headSafe),
            stalledSeconds: Math.round(stalledMs / 1000),
          })
        }
        this.#lastError = ChainErrorCode.HEAD_STALLED
        return
      }
      this.#lastSyncAt = Date.now()
      this.#lastError = undefined
    } catch (err) {
      const code = err instanceof DacnetError ? err.code : ChainErrorCode.UNAVAILABLE
      if (this.#lastError !== code)
        this.#logger.warn('chain sync failed; serving the committees known so far', { error: err })
      this.#lastError = code
      if (err instanceof DacnetError) throw err
      throw chainError(
        ChainErrorCode.UNAVAILABLE,
        `the chain RPC at ${this.#options.rpcUrl} failed: ${rpcFailure(err)}`,
        {},
        { cause: err },
      )
    }
  }

  async #syncOnce(): Promise<void> {
    const constants = await this.#chain.constants()
    const head = await this.#chain.head()
    const safe = head - BigInt(this.#options.confirmations)
    if (this.#headSafe === undefined || safe > this.#headSafe) {
      this.#headSafe = safe
      this.#headAdvancedAt = Date.now()
    }
    if (safe < constants.genesisBlock) {
      throw chainError(ChainErrorCode.UNAVAILABLE, 'the chain has no confirmed block since the registry was deployed')
    }
    // Nothing new: most polls end here, after one request. (A reorg that keeps the head's height is found with the
    // next block.)
    if (safe === this.#syncedBlock && !this.#suspect) return
    const block = await this.#chain.block(safe)
    const synced = this.#syncedBlock
    let reread = this.#suspect
    if (synced !== undefined && !reread) {
      // A block that is gone, or has another hash, means the chain reorganised below the confirmation depth. One
      // block on (the usual poll), the new block's parent hash says it without another request.
      const seenHash = safe === synced + 1n ? block.parentHash : (await this.#chain.blockIfAny(synced))?.hash
      // A head below the synced block, or no block at its height, is as often an RPC backend a few blocks behind
      // (load-balanced providers) as a reorg to a shorter chain: nothing to conclude until the chain is read past
      // that height again, which tells the two apart.
      if (seenHash === undefined) return
      if (seenHash !== this.#syncedHash) {
        reread = true
        if (!this.#rereading) {
          this.#deepReorgs++
          this.#logger.error('reorg below the confirmation depth: reading the registry again', {
            block: Number(synced),
            confirmations: this.#options.confirmations,
          })
        }
        this.#rereading = true
      } else if (safe <= synced) {
        return
      }
    }
    // After a deep reorg the registry is read again from its deployment into a fresh state, which replaces the one
    // serving only once it is complete: a read that fails leaves the committees known so far in service, and the
    // next poll finds the reorg again and retries.
    const resume = synced !== undefined && !reread
    // One new block whose logs bloom rules out the registry (the usual case) has no registry event: no getLogs.
    const quiet = resume && safe === synced + 1n && !bloomMayContainAddress(block.logsBloom!, this.#options.registry)
    const events = quiet ? [] : await this.#chain.events(resume ? synced + 1n : constants.genesisBlock, safe)
    // Applied to copies, so that a failure below leaves the last good state serving.
    const previous = resume
      ? { replay: this.#replay, ranges: this.#ranges, lastChangeEpoch: this.#lastChangeEpoch }
      : undefined
    const inForce = epochOf(safe, constants)
    // Strict: an inconsistency between the events read and the registry's records fails the sync and leaves the
    // state serving as it was. While reading on block by block, unless the state serving was itself taken
    // inconsistent in this epoch in force; for a full read, until it has come out inconsistent
    // MAX_INCONSISTENT_READS times in a row (then the registry and the off-chain rules disagree, or the backend
    // still lacks logs, and what does not match is marked, epoch by epoch). A first read marks mismatching
    // committees at once (a client used once, or a node starting, is served the epochs that do match) and refuses
    // only events that give no committee for the epoch in force at all.
    const fullReadStrict = this.#inconsistentReads < MAX_INCONSISTENT_READS
    const relaxed = resume && this.#takenInconsistentAt !== undefined && inForce <= this.#takenInconsistentAt
    // Reading on, the coverage check (an eth_call when no committee covers the epoch in force, as for a registry
    // without members) is needed only when the epoch in force moves: committees change only then.
    const strict = resume
      ? { ranges: !relaxed, coverage: !relaxed && inForce !== this.#inForce }
      : { ranges: fullReadStrict && this.#inForce !== undefined, coverage: fullReadStrict }
    let state: ReturnType<typeof advance>
    try {
      state = advance(
        previous,
        events.map(({ block, event }) => ({ epoch: epochOf(block, constants), event })),
      )
      await checkRanges(this.#rangeChecks, state.ranges, inForce, safe, strict)
    } catch (err) {
      if (!(strict.ranges || strict.coverage) || !isInconsistency(err)) throw err
      // What was read does not add up to the registry's records: a log left out of an answer (a backend that had
      // not indexed the block yet). The committees known so far may be wrong from that block on: the next poll
      // reads the registry again from its deployment, and the state serving stays as it was until one does add up.
      if (resume) {
        this.#rereads++
        this.#logger.error('the registry events read so far do not match its records: reading the registry again', {
          block: Number(safe),
          error: err,
        })
      } else {
        this.#inconsistentReads++
      }
      this.#suspect = true
      throw err
    }
    // Taken without the checks it failed before: reading on from it, the same failures are no news this epoch.
    if (!resume) this.#takenInconsistentAt = fullReadStrict ? undefined : inForce
    this.#inconsistentReads = 0
    if (reread) {
      // Committees and record indices cached from the abandoned branch (or the inconsistent state) go with it.
      this.#committees.clear()
      this.#records.clear()
      this.#rereading = false
      this.#suspect = false
    }
    this.#replay = state.replay
    this.#ranges = state.ranges
    this.#lastChangeEpoch = state.lastChangeEpoch
    this.#syncedBlock = safe
    this.#syncedHash = block.hash
    if (this.#inForce !== inForce) this.#logger.info('epoch in force', { epoch: inForce, block: Number(safe) })
    this.#inForce = inForce
  }
}

/**
 * Full reads of the registry that may come out inconsistent with its records, in a row, before what they read is
 * taken as the registry's state with the mismatching committees marked: a backend missing a log has caught up by
 * then (polls are seconds apart); a disagreement that outlasts them is not a missing log.
 */
const MAX_INCONSISTENT_READS = 3

/** A failure that says the replayed state is wrong (events missing), not that the RPC failed. */
function isInconsistency(err: unknown): boolean {
  return (
    err instanceof DacnetError &&
    (err.code === ChainErrorCode.INCONSISTENT_EVENTS || err.code === ChainErrorCode.COMMITTEE_MISMATCH)
  )
}
