import {
  type Address,
  BlockNotFoundError,
  bytesToHex,
  createPublicClient,
  decodeEventLog,
  type Hex,
  hexToBytes,
  http,
  type PublicClient,
} from 'viem'
import { Committee } from '../committee/committee.ts'
import { CommitteeErrorCode, committeeError } from '../committee/errors.ts'
import type { MemberKeyVerifier } from '../committee/member.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { DacnetError } from '../errors.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { dacnetRegistryAbi } from './artifacts/DacnetRegistry.ts'
import { ChainErrorCode, chainError } from './errors.ts'
import { type CommitteeSnapshot, committeeInputOf, type RegistryEvent, RegistryReplay } from './registry-replay.ts'
import { committeeSummary, summaryHash } from './summary.ts'

/** Blocks below the head a party trusts: two blocks survive the reorgs Ethereum sees outside of attacks. */
export const DEFAULT_CONFIRMATIONS = 2
/** How often the source looks for new blocks: a third of a 12 s slot, so an epoch change shows within a slot. */
export const DEFAULT_POLL_INTERVAL_MS = 4_000
/** Blocks per eth_getLogs request: within what public RPC providers allow. */
export const DEFAULT_LOG_RANGE_BLOCKS = 2_000
/** One JSON-RPC request: past this the RPC is treated as down for this poll. */
export const DEFAULT_RPC_TIMEOUT_MS = 10_000
/** Committee objects kept built (each epoch has its own; epochs between changes share their members). */
export const DEFAULT_CACHED_COMMITTEES = 64

export interface ChainCommitteeSourceOptions {
  /** JSON-RPC endpoint of an Ethereum node (http or https). */
  rpcUrl: string
  /** The DacnetRegistry's address. */
  registry: Address
  /** Checks keys and proofs of possession off-chain too (`blsKeyVerifier` from attest). */
  verifier: MemberKeyVerifier
  /** Blocks below the head that count as final. Default DEFAULT_CONFIRMATIONS. */
  confirmations?: number
  /** Default DEFAULT_POLL_INTERVAL_MS. */
  pollIntervalMs?: number
  /** Default DEFAULT_LOG_RANGE_BLOCKS. */
  logRangeBlocks?: number
  /** Default DEFAULT_RPC_TIMEOUT_MS. */
  rpcTimeoutMs?: number
  /** Default DEFAULT_CACHED_COMMITTEES. */
  cachedCommittees?: number
  logger?: Logger
}

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
}

interface ChainConstants {
  networkId: number
  genesisBlock: bigint
  epochBlocks: bigint
}

/** A committee's epochs: `to` undefined for the live committee. */
interface CommitteeRange {
  from: number
  to: number | undefined
  snapshot: CommitteeSnapshot
  /** True once its summary hash matched the registry's record. */
  checked: boolean
  /** Why its epochs cannot be served (off-chain checks refused it, or its hash differs from the record). */
  problem?: DacnetError
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
  readonly #options: Required<Omit<ChainCommitteeSourceOptions, 'logger'>>
  readonly #logger: Logger
  readonly #client: PublicClient
  readonly #keyChecks: CachingKeyVerifier
  #constants: Promise<ChainConstants> | undefined
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

  constructor(options: ChainCommitteeSourceOptions) {
    const resolved = {
      rpcUrl: options.rpcUrl,
      registry: options.registry,
      verifier: options.verifier,
      confirmations: options.confirmations ?? DEFAULT_CONFIRMATIONS,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      logRangeBlocks: options.logRangeBlocks ?? DEFAULT_LOG_RANGE_BLOCKS,
      rpcTimeoutMs: options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS,
      cachedCommittees: options.cachedCommittees ?? DEFAULT_CACHED_COMMITTEES,
    }
    validate(resolved)
    this.#options = resolved
    this.#logger = (options.logger ?? silentLogger).child({ component: 'chain' })
    // No block-number cache: viem would answer getBlockNumber from a 4 s cache and hide new blocks.
    this.#client = createPublicClient({
      transport: http(resolved.rpcUrl, { timeout: resolved.rpcTimeoutMs, retryCount: 1 }),
      cacheTime: 0,
    })
    this.#keyChecks = new CachingKeyVerifier(resolved.verifier)
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
  }

  /** Reads new blocks now (one sync at a time; a caller during a sync waits for it). */
  async refresh(): Promise<void> {
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
    const { networkId } = await this.#chainConstants()
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
    const record = await this.#readRecord(epoch)
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
        `the chain RPC at ${this.#options.rpcUrl} failed: ${reason(err)}`,
        {},
        { cause: err },
      )
    }
  }

  async #syncOnce(): Promise<void> {
    const constants = await this.#chainConstants()
    const head = await this.#client.getBlockNumber()
    const safe = head - BigInt(this.#options.confirmations)
    if (safe < constants.genesisBlock) {
      throw chainError(ChainErrorCode.UNAVAILABLE, 'the chain has no confirmed block since the registry was deployed')
    }
    if (this.#syncedBlock !== undefined) {
      // A block that is gone, or has another hash, means the chain reorganised below the confirmation depth.
      const seen = await this.#client.getBlock({ blockNumber: this.#syncedBlock }).catch((err: unknown) => {
        if (err instanceof BlockNotFoundError) return undefined
        throw err
      })
      if (seen?.hash !== this.#syncedHash) {
        this.#deepReorgs++
        this.#logger.error('reorg below the confirmation depth: reading the registry again', {
          block: Number(this.#syncedBlock),
          confirmations: this.#options.confirmations,
        })
        this.#reset()
      }
    }
    if (this.#syncedBlock !== undefined && safe <= this.#syncedBlock) return
    const resume = this.#syncedBlock !== undefined
    const events = await this.#readEvents(resume ? this.#syncedBlock! + 1n : constants.genesisBlock, safe)
    // Applied to copies, so that a failure below leaves the last good state serving.
    const state: SyncState = {
      replay: resume ? this.#replay.clone() : new RegistryReplay(),
      ranges: resume ? this.#ranges.map((r) => ({ ...r })) : [],
      lastChangeEpoch: resume ? this.#lastChangeEpoch : undefined,
    }
    const live = state.ranges.at(-1)?.to === undefined ? state.ranges.pop() : undefined
    for (const { block, event } of events) applyEvent(state, epochOf(block, constants), event)
    if (state.lastChangeEpoch !== undefined && state.replay.memberCount > 0) {
      const unchanged = live !== undefined && events.length === 0
      state.ranges.push(
        unchanged
          ? live
          : { from: state.lastChangeEpoch + 1, to: undefined, snapshot: state.replay.snapshot(), checked: false },
      )
    }
    const inForce = epochOf(safe, constants)
    const { hash } = await this.#client.getBlock({ blockNumber: safe })
    await this.#checkRanges(state.ranges, inForce, safe)
    this.#replay = state.replay
    this.#ranges = state.ranges
    this.#lastChangeEpoch = state.lastChangeEpoch
    this.#syncedBlock = safe
    this.#syncedHash = hash
    if (this.#inForce !== inForce) this.#logger.info('epoch in force', { epoch: inForce, block: Number(safe) })
    this.#inForce = inForce
  }

  /**
   * Every committee in force so far must have the summary hash the registry holds for its epochs. A committee the
   * off-chain checks refuse, or whose hash differs, is marked with that problem (its epochs then throw it) while
   * the others stay in service; only an RPC failure fails the sync.
   */
  async #checkRanges(ranges: CommitteeRange[], inForce: number, safe: bigint): Promise<void> {
    const { networkId } = await this.#chainConstants()
    for (const range of ranges) {
      if (range.checked || range.problem || range.from > inForce) continue
      let committee: Committee
      try {
        committee = new Committee(committeeInputOf(range.snapshot, networkId, range.from), {
          verifier: this.#keyChecks,
        })
      } catch (err) {
        if (!(err instanceof DacnetError)) throw err
        range.problem = err
        this.#logger.error('the registry holds a committee that fails the off-chain checks', {
          epoch: range.from,
          error: err,
        })
        continue
      }
      const record = await this.#readRecord(range.from, safe)
      if (record.summaryHash.toLowerCase() !== bytesToHex(summaryHash(committeeSummary(committee)))) {
        range.problem = chainError(
          ChainErrorCode.COMMITTEE_MISMATCH,
          `the committee rebuilt from the registry's events for epoch ${range.from} does not match its record ${record.recordIndex}`,
          { epoch: range.from, recordIndex: record.recordIndex },
        )
        this.#logger.error('committee does not match the registry record', { epoch: range.from, error: range.problem })
        continue
      }
      range.checked = true
    }
  }

  async #readRecord(epoch: number, blockNumber?: bigint): Promise<{ recordIndex: number; summaryHash: Hex }> {
    const [recordIndex, hash] = await this.#client.readContract({
      address: this.#options.registry,
      abi: dacnetRegistryAbi,
      functionName: 'committeeFor',
      args: [BigInt(epoch)],
      ...(blockNumber === undefined ? {} : { blockNumber }),
    })
    return { recordIndex: Number(recordIndex), summaryHash: hash }
  }

  async #readEvents(from: bigint, to: bigint): Promise<{ block: bigint; event: RegistryEvent }[]> {
    const out: { block: bigint; event: RegistryEvent }[] = []
    const step = BigInt(this.#options.logRangeBlocks)
    for (let start = from; start <= to; start += step) {
      const end = start + step - 1n < to ? start + step - 1n : to
      const logs = await this.#client.getLogs({ address: this.#options.registry, fromBlock: start, toBlock: end })
      for (const log of logs) {
        if (log.removed || log.blockNumber === null) continue
        const event = decodeRegistryEvent(log.data, log.topics)
        if (event) out.push({ block: log.blockNumber, event })
      }
    }
    return out
  }

  #chainConstants(): Promise<ChainConstants> {
    this.#constants ??= this.#readConstants()
    this.#constants.catch(() => {
      this.#constants = undefined
    })
    return this.#constants
  }

  async #readConstants(): Promise<ChainConstants> {
    const read = (functionName: 'networkId' | 'genesisBlock' | 'epochBlocks') =>
      this.#client.readContract({ address: this.#options.registry, abi: dacnetRegistryAbi, functionName })
    try {
      const [networkId, genesisBlock, epochBlocks] = await Promise.all([
        read('networkId'),
        read('genesisBlock'),
        read('epochBlocks'),
      ])
      return { networkId: Number(networkId), genesisBlock: BigInt(genesisBlock), epochBlocks: BigInt(epochBlocks) }
    } catch (err) {
      throw chainError(
        ChainErrorCode.UNAVAILABLE,
        `cannot read the registry at ${this.#options.registry} through ${this.#options.rpcUrl}: ${reason(err)}`,
        { registry: this.#options.registry },
        { cause: err },
      )
    }
  }

  #reset(): void {
    this.#replay = new RegistryReplay()
    this.#ranges = []
    this.#lastChangeEpoch = undefined
    this.#syncedBlock = undefined
    this.#syncedHash = undefined
    this.#committees.clear()
    this.#records.clear()
  }
}

interface SyncState {
  replay: RegistryReplay
  ranges: CommitteeRange[]
  lastChangeEpoch: number | undefined
}

/**
 * One change, made in `epoch`: the first change of a later epoch than the last closes the committee so far, in
 * force from the epoch after the last change up to and including `epoch` — the contract's archive rule.
 */
function applyEvent(state: SyncState, epoch: number, event: RegistryEvent): void {
  if (state.lastChangeEpoch !== undefined && epoch > state.lastChangeEpoch && state.replay.memberCount > 0) {
    state.ranges.push({ from: state.lastChangeEpoch + 1, to: epoch, snapshot: state.replay.snapshot(), checked: false })
  }
  state.replay.apply(event)
  state.lastChangeEpoch = epoch
}

function epochOf(block: bigint, constants: ChainConstants): number {
  return Number((block - constants.genesisBlock) / constants.epochBlocks)
}

/** The events that change a committee, decoded; others (unbonding, withdrawals, records) are not needed here. */
export function decodeRegistryEvent(data: Hex, topics: readonly Hex[]): RegistryEvent | undefined {
  let decoded: { eventName: string; args: Record<string, unknown> }
  try {
    decoded = decodeEventLog({ abi: dacnetRegistryAbi, data, topics: topics as [Hex, ...Hex[]] }) as typeof decoded
  } catch {
    return undefined // not a registry event (none other is emitted from its address)
  }
  const a = decoded.args
  const bytes = (v: unknown) => hexToBytes(v as Hex)
  switch (decoded.eventName) {
    case 'MemberRegistered':
      return {
        kind: 'MemberRegistered',
        operator: a.operator as string,
        index: Number(a.index),
        publicKey: bytes(a.publicKey),
        proofOfPossession: bytes(a.proofOfPossession),
        peerId: bytes(a.peerId),
        multiaddrs: a.multiaddrs as string[],
        stake: a.stake as bigint,
      }
    case 'StakeChanged':
      return { kind: 'StakeChanged', operator: a.operator as string, index: Number(a.index), stake: a.stake as bigint }
    case 'MemberLeft':
      return {
        kind: 'MemberLeft',
        operator: a.operator as string,
        index: Number(a.index),
        movedFrom: Number(a.movedFrom),
      }
    case 'MultiaddrsChanged':
      return { kind: 'MultiaddrsChanged', operator: a.operator as string, multiaddrs: a.multiaddrs as string[] }
    case 'ThresholdsChanged':
      return {
        kind: 'ThresholdsChanged',
        qNum: a.qNum as bigint,
        qDen: a.qDen as bigint,
        fNum: a.fNum as bigint,
        fDen: a.fDen as bigint,
      }
    case 'RetentionChanged':
      return { kind: 'RetentionChanged', retentionSeconds: a.retentionSeconds as bigint }
    case 'SequencerAdded':
      return { kind: 'SequencerAdded', peerId: bytes(a.peerId) }
    case 'SequencerRemoved':
      return { kind: 'SequencerRemoved', peerId: bytes(a.peerId) }
    default:
      return undefined
  }
}

/** Checks each (key, proof) once: every epoch builds a Committee, and its members rarely change. */
class CachingKeyVerifier implements MemberKeyVerifier {
  readonly #inner: MemberKeyVerifier
  readonly #results = new Map<string, ReturnType<MemberKeyVerifier['checkKeys']>[number]>()

  constructor(inner: MemberKeyVerifier) {
    this.#inner = inner
  }

  checkKeys(entries: Parameters<MemberKeyVerifier['checkKeys']>[0]): ReturnType<MemberKeyVerifier['checkKeys']> {
    const keyOf = (e: (typeof entries)[number]) =>
      `${Buffer.from(e.publicKey).toString('hex')}:${e.proofOfPossession ? Buffer.from(e.proofOfPossession).toString('hex') : ''}`
    const missing = entries.filter((e) => !this.#results.has(keyOf(e)))
    if (missing.length > 0) {
      const results = this.#inner.checkKeys(missing)
      for (const [i, e] of missing.entries()) this.#results.set(keyOf(e), results[i])
    }
    return entries.map((e) => this.#results.get(keyOf(e)))
  }
}

function validate(o: Required<Omit<ChainCommitteeSourceOptions, 'logger'>>): void {
  const bad = (why: string) => chainError(ChainErrorCode.INVALID_OPTIONS, why)
  if (!/^https?:\/\//.test(o.rpcUrl)) throw bad(`rpcUrl ${o.rpcUrl} is not an http(s) URL`)
  if (!/^0x[0-9a-fA-F]{40}$/.test(o.registry)) throw bad(`registry ${o.registry} is not an address`)
  for (const [name, value, min] of [
    ['confirmations', o.confirmations, 0],
    ['pollIntervalMs', o.pollIntervalMs, 50],
    ['logRangeBlocks', o.logRangeBlocks, 1],
    ['rpcTimeoutMs', o.rpcTimeoutMs, 100],
    ['cachedCommittees', o.cachedCommittees, 1],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) throw bad(`${name} must be an integer >= ${min}, got ${value}`)
  }
}

function reason(err: unknown): string {
  const message = (err as { shortMessage?: string; message?: string })?.shortMessage ?? (err as Error)?.message
  return String(message ?? err)
    .split('\n')[0]!
    .slice(0, 200)
}
