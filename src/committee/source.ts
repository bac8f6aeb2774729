import type { Committee } from './committee.ts'
import { CommitteeErrorCode, committeeError } from './errors.ts'
import type { CommitteeRegistry } from './file.ts'

/**
 * Where committees come from. Callers only ask for an epoch's committee; a file today and an L1 staking
 * contract later implement the same two methods, so no caller changes when the source does.
 */
export interface CommitteeSource {
  /** The committee of `epoch`; throws COMMITTEE_UNKNOWN_EPOCH if none is registered. */
  getCommittee(epoch: number): Promise<Committee>
  /** Registered epochs, ascending. */
  epochs(): Promise<number[]>
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
}
