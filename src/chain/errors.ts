import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for the chain side: member tree, committee summary, on-chain certificates. Tests match on these. */
export const ChainErrorCode = {
  /** On-chain certificate bytes do not follow PROTOCOL §4.5 (certificate layout, witness version or lengths). */
  MALFORMED_ONCHAIN_CERTIFICATE: 'CHAIN_MALFORMED_ONCHAIN_CERTIFICATE',
  /** A field element or point encoding is the wrong length, has non-zero padding or is not below p. */
  MALFORMED_POINT: 'CHAIN_MALFORMED_POINT',
  /** A member tree was asked for with no leaves, leaves that are not 32 bytes, or indices not increasing in 0..m-1. */
  INVALID_MEMBER_TREE: 'CHAIN_INVALID_MEMBER_TREE',
  /** A certificate or summary hash given with a committee does not belong to that committee. */
  COMMITTEE_MISMATCH: 'CHAIN_COMMITTEE_MISMATCH',
  /** The committee cannot be written as a summary: a threshold's numerator or denominator exceeds a u64. */
  UNREPRESENTABLE_COMMITTEE: 'CHAIN_UNREPRESENTABLE_COMMITTEE',
  /** An option is out of range (a record index that is not a u32, an epoch that is not a u64, a bad RPC URL). */
  INVALID_OPTIONS: 'CHAIN_INVALID_OPTIONS',
  /** The chain's JSON-RPC endpoint failed or timed out, or the chain has no confirmed block since the registry. */
  UNAVAILABLE: 'CHAIN_UNAVAILABLE',
  /** No anvil binary for this platform under node_modules (its optional platform package is not installed). */
  ANVIL_NOT_INSTALLED: 'CHAIN_ANVIL_NOT_INSTALLED',
  /** anvil could not be spawned, exited early, or did not answer JSON-RPC in time. */
  ANVIL_START_FAILED: 'CHAIN_ANVIL_START_FAILED',
  /** A registry or token transaction was refused (the contract's error is in the message) or reverted, or was sent but its receipt could not be read (`meta.hash` says where to look). */
  TRANSACTION_FAILED: 'CHAIN_TRANSACTION_FAILED',
  /** A deployment transaction was refused, reverted, created no contract, or its receipt could not be read. */
  DEPLOY_FAILED: 'CHAIN_DEPLOY_FAILED',
  /** The registry's events do not replay (a member index out of order, a departure of an unknown member). */
  INCONSISTENT_EVENTS: 'CHAIN_INCONSISTENT_EVENTS',
  /**
   * The RPC answers, but its head has not moved for `maxHeadStallMs`: a stalled node. The committees known so far
   * keep serving; the source reports itself stale until the head moves again.
   */
  HEAD_STALLED: 'CHAIN_HEAD_STALLED',
} as const

export type ChainErrorCode = (typeof ChainErrorCode)[keyof typeof ChainErrorCode]

export function chainError(
  code: ChainErrorCode,
  message: string,
  meta?: ErrorMeta,
  options?: ErrorOptions,
): DacnetError<ChainErrorCode> {
  return new DacnetError(code, message, meta, options)
}

/** The first line of what a JSON-RPC client said went wrong (viem's short message), for an error's message. */
export function rpcFailure(err: unknown): string {
  const message = (err as { shortMessage?: string; message?: string })?.shortMessage ?? (err as Error)?.message
  return String(message ?? err)
    .split('\n')[0]!
    .slice(0, 200)
}
