import type { OperatorStatus } from '../../chain/registry-client.ts'
import { type ChainSession, epochOfBlock, epochStartBlock, tokens } from './connect.ts'

/**
 * Where an unbonding entry stands (docs/PROTOCOL.md §4.2): stake unstaked in epoch E stays locked until
 * retentionSeconds after epoch E + 1 began; the first withdraw() from then on fixes the release time.
 * - `none`: no entry.
 * - `serving`: epoch E + 1 has not begun (the stake still serves); the lock starts at `lockStartsAtBlock`.
 * - `unfixed`: E + 1 has begun but no withdraw() fixed the release time yet; the next one does (and pays, if due).
 * - `locked`: the release time is fixed and not reached at the latest block.
 * - `withdrawable`: the release time has passed: withdraw() pays.
 */
export type UnbondingState = 'none' | 'serving' | 'unfixed' | 'locked' | 'withdrawable'

export interface UnbondingView {
  readonly state: UnbondingState
  readonly amount: bigint
  readonly lastServedEpoch: bigint
  /** Unix seconds; 0 until fixed. */
  readonly releaseAt: bigint
  /** The first block of epoch lastServedEpoch + 1. */
  readonly lockStartsAtBlock: bigint
  /** The latest block's time (Unix seconds), which the state was judged at. */
  readonly now: bigint
}

/** Reads the latest block (its number and time) to place the entry. */
export async function unbondingView(session: ChainSession, entry: OperatorStatus['unbonding']): Promise<UnbondingView> {
  const latest = await session.publicClient.getBlock({ blockTag: 'latest' })
  const base = {
    amount: entry.amount,
    lastServedEpoch: entry.lastServedEpoch,
    releaseAt: entry.releaseAt,
    lockStartsAtBlock: epochStartBlock(session.constants, entry.lastServedEpoch + 1n),
    now: latest.timestamp,
  }
  if (entry.amount === 0n) return { ...base, state: 'none' }
  if (entry.releaseAt !== 0n) return { ...base, state: latest.timestamp < entry.releaseAt ? 'locked' : 'withdrawable' }
  const epoch = epochOfBlock(session.constants, latest.number)
  return { ...base, state: epoch <= entry.lastServedEpoch ? 'serving' : 'unfixed' }
}

/** One line for people. */
export function describeUnbonding(session: ChainSession, u: UnbondingView): string {
  const amount = tokens(session, u.amount)
  const next = u.lastServedEpoch + 1n
  switch (u.state) {
    case 'none':
      return 'no stake unbonding'
    case 'serving':
      return `${amount} unbonding, serving through epoch ${u.lastServedEpoch}; locked until the retention passes after epoch ${next} begins (block ${u.lockStartsAtBlock})`
    case 'unfixed':
      return `${amount} unbonding since epoch ${next} began; the next \`dacnet withdraw\` fixes its release time (and pays if the retention has passed)`
    case 'locked':
      return `${amount} unbonding, locked until ${isoTime(u.releaseAt)} (in ${formatDuration(u.releaseAt - u.now)}, by the latest block's clock)`
    case 'withdrawable':
      return `${amount} unbonded since ${isoTime(u.releaseAt)}: \`dacnet withdraw\` pays it`
  }
}

/** `14d 0h`, `3h 05m`, `59m 52s`, `12s`: locks last from seconds (test chains) to weeks. */
export function formatDuration(seconds: bigint): string {
  const s = Number(seconds > 0n ? seconds : 0n)
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)]
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  return `${s}s`
}

export function isoTime(unixSeconds: bigint): string {
  return new Date(Number(unixSeconds) * 1000).toISOString().replace('.000Z', 'Z')
}
