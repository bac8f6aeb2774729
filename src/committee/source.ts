import type { Committee } from './committee.ts'
import { CommitteeErrorCode, committeeError } from './errors.ts'
import type { CommitteeRegistry } from './file.ts'

/**
 * Where committees come from. Callers only ask for an epoch's committee and for the epoch in force; a file
 * and the L1 registry implement the same methods, so no caller changes when the source does.
 */
export interface CommitteeSource {
  /** The committee of `epoch`; throws COMMITTEE_UNKNOWN_EPOCH if none is registered. */
  getCommittee(epoch: number): Promise<Committee>
  /**
   * Epochs at which a committee begins, ascending: every epoch of a file; for a chain, the first epoch of
   * each distinct committee up to the epoch in force (the epochs between share the committee before them).
   */
  epochs(): Promise<number[]>
  /**
   * The epoch in force, the same for every party reading the same source: a file's newest epoch; for a chain,
   * the epoch of the block `confirmations` below the head. Sources without it use the newest listed epoch.
   */
  currentEpoch?(): Promise<number>
  /** Asks the source to look for news now (a chain source polls); sources that cannot change omit it. */
  refresh?(): Promise<void>
}

/** Looks an epoch up in a registry; shared by every source that holds one. */
export function committeeOf(registry: CommitteeRegistry, epoch: number): Committee {
  const committee = registry.committees.find((c) => c.epoch === epoch)
  if (!committee) {
    throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, `no committee is registered for epoch ${epoch}`, {
      epoch,
      networkId: registry.networkId,
    })
  }
  return committee
}

/** A source over committees already in memory (tests, tools, or a file parsed elsewhere). */
export class StaticCommitteeSource implements CommitteeSource {
  readonly #registry: CommitteeRegistry

  constructor(registry: CommitteeRegistry) {
    this.#registry = registry
  }

  get networkId(): number {
    return this.#registry.networkId
  }

  async getCommittee(epoch: number): Promise<Committee> {
    return committeeOf(this.#registry, epoch)
  }

  async epochs(): Promise<number[]> {
    return this.#registry.committees.map((c) => c.epoch)
  }

  async currentEpoch(): Promise<number> {
    return newestEpoch(this.#registry)
  }
}

/** A registry's newest epoch: the epoch in force for a committee file. */
export function newestEpoch(registry: CommitteeRegistry): number {
  const epoch = registry.committees.at(-1)?.epoch
  if (epoch === undefined) {
    throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, 'the committee source lists no epoch', {
      networkId: registry.networkId,
    })
  }
  return epoch
}
