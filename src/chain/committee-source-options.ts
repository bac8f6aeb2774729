import type { Address } from 'viem'
import type { MemberKeyVerifier } from '../committee/member.ts'
import type { Logger } from '../logger.ts'
import { ChainErrorCode, chainError } from './errors.ts'

/** Blocks below the head a party trusts: two blocks survive the reorgs Ethereum sees outside of attacks. */
export const DEFAULT_CONFIRMATIONS = 2
/** How often the source looks for new blocks: a third of a 12 s slot, so an epoch change shows within a slot. */
export const DEFAULT_POLL_INTERVAL_MS = 4_000
/** Blocks per eth_getLogs request: within what public RPC providers allow. */
export const DEFAULT_LOG_RANGE_BLOCKS = 2_000
/** One JSON-RPC request: past this the RPC is treated as down for this poll. */
export const DEFAULT_RPC_TIMEOUT_MS = 10_000
/**
 * A head that has not moved for this long is a stalled RPC node (its chain stopped, or it lost its peers), not a
 * quiet chain: ten Ethereum slots. Its answers then stop counting as syncs (CHAIN_HEAD_STALLED).
 */
export const DEFAULT_MAX_HEAD_STALL_MS = 120_000
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
  /** Default DEFAULT_MAX_HEAD_STALL_MS; set it above the chain's longest expected gap between blocks. */
  maxHeadStallMs?: number
  logger?: Logger
}

export type ResolvedSourceOptions = Required<Omit<ChainCommitteeSourceOptions, 'logger'>>

/** Fills in the defaults and checks every option; CHAIN_INVALID_OPTIONS names the first one out of range. */
export function resolveSourceOptions(options: ChainCommitteeSourceOptions): ResolvedSourceOptions {
  const resolved = {
    rpcUrl: options.rpcUrl,
    registry: options.registry,
    verifier: options.verifier,
    confirmations: options.confirmations ?? DEFAULT_CONFIRMATIONS,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    logRangeBlocks: options.logRangeBlocks ?? DEFAULT_LOG_RANGE_BLOCKS,
    rpcTimeoutMs: options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS,
    cachedCommittees: options.cachedCommittees ?? DEFAULT_CACHED_COMMITTEES,
    maxHeadStallMs: options.maxHeadStallMs ?? DEFAULT_MAX_HEAD_STALL_MS,
  }
  validate(resolved)
  return resolved
}

function validate(o: ResolvedSourceOptions): void {
  const bad = (why: string) => chainError(ChainErrorCode.INVALID_OPTIONS, why)
  if (!/^https?:\/\//.test(o.rpcUrl)) throw bad(`rpcUrl ${o.rpcUrl} is not an http(s) URL`)
  if (!/^0x[0-9a-fA-F]{40}$/.test(o.registry)) throw bad(`registry ${o.registry} is not an address`)
  for (const [name, value, min] of [
    ['confirmations', o.confirmations, 0],
    ['pollIntervalMs', o.pollIntervalMs, 50],
    ['logRangeBlocks', o.logRangeBlocks, 1],
    ['rpcTimeoutMs', o.rpcTimeoutMs, 100],
    ['cachedCommittees', o.cachedCommittees, 1],
    ['maxHeadStallMs', o.maxHeadStallMs, 100],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) throw bad(`${name} must be an integer >= ${min}, got ${value}`)
  }
}
