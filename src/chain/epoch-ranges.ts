import type { DacnetError } from '../errors.ts'
import { type CommitteeSnapshot, type RegistryEvent, RegistryReplay } from './registry-replay.ts'

/**
 * The committees of a registry as ranges of epochs, built from its events in chain order: pure bookkeeping the
 * chain source does on copies and swaps in once a sync has read and checked everything.
 */

/** A committee's epochs: `to` undefined for the live committee. */
export interface CommitteeRange {
  from: number
  to: number | undefined
  snapshot: CommitteeSnapshot
  /** True once its summary hash matched the registry's record. */
  checked: boolean
  /**
   * The latest of its epochs whose record it was checked against (its first and, at each new epoch in force while
   * it is live, that one): a log the RPC left out of its answers shows as a record that no longer matches.
   */
  checkedTo?: number
  /** Its summary hash (hex), once computed for a check. */
  summaryHash?: string
  /** Why its epochs cannot be served (off-chain checks refused it, or its hash differs from the record). */
  problem?: DacnetError
}

export interface SyncState {
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

/**
 * The state after `events` (each with the epoch of its block), from `previous` (undefined: from the registry's
 * deployment). `previous` is not changed. The live committee — in force from the epoch after the last change, with
 * no end — is the last range; it keeps its check when no event changed it.
 */
export function advance(
  previous: Readonly<SyncState> | undefined,
  events: readonly { epoch: number; event: RegistryEvent }[],
): SyncState {
  const state: SyncState = {
    replay: previous ? previous.replay.clone() : new RegistryReplay(),
    ranges: previous ? previous.ranges.map((r) => ({ ...r })) : [],
    lastChangeEpoch: previous?.lastChangeEpoch,
  }
  const live = state.ranges.at(-1)?.to === undefined ? state.ranges.pop() : undefined
  for (const { epoch, event } of events) applyEvent(state, epoch, event)
  if (state.lastChangeEpoch !== undefined && state.replay.memberCount > 0) {
    const unchanged = live !== undefined && events.length === 0
    state.ranges.push(
      unchanged
        ? live
        : { from: state.lastChangeEpoch + 1, to: undefined, snapshot: state.replay.snapshot(), checked: false },
    )
  }
  return state
}
