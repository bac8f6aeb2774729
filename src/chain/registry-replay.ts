import { base58btc } from 'multiformats/bases/base58'
import type { CommitteeInput } from '../committee/committee.ts'
import { DEFAULT_ADVERSARY, DEFAULT_RETENTION_SECONDS, DEFAULT_THRESHOLD } from '../committee/committee.ts'
import { type Fraction, fraction } from '../committee/fraction.ts'
import { ChainErrorCode, chainError } from './errors.ts'

/**
 * The registry's committee state rebuilt from its events (PROTOCOL.md §4.2), the way the contract changes it:
 * members in registration order with swap-and-pop departures, thresholds, retention, sequencers. Pure: the
 * chain source feeds it decoded logs in chain order and takes snapshots at epoch boundaries.
 */

/** One registry event that changes a committee, as the chain source decodes it. */
export type RegistryEvent =
  | {
      kind: 'MemberRegistered'
      operator: string
      index: number
      publicKey: Uint8Array
      proofOfPossession: Uint8Array
      peerId: Uint8Array
      multiaddrs: readonly string[]
      stake: bigint
    }
  | { kind: 'StakeChanged'; operator: string; index: number; stake: bigint }
  | { kind: 'MemberLeft'; operator: string; index: number; movedFrom: number }
  | { kind: 'MultiaddrsChanged'; operator: string; multiaddrs: readonly string[] }
  | { kind: 'ThresholdsChanged'; qNum: bigint; qDen: bigint; fNum: bigint; fDen: bigint }
  | { kind: 'RetentionChanged'; retentionSeconds: bigint }
  | { kind: 'SequencerAdded'; peerId: Uint8Array }
  | { kind: 'SequencerRemoved'; peerId: Uint8Array }

interface MemberState {
  readonly operator: string
  readonly publicKey: Uint8Array
  readonly proofOfPossession: Uint8Array
  readonly peerId: string
  multiaddrs: readonly string[]
  stake: bigint
}

/** A committee as the registry held it at an epoch boundary: what `new Committee()` needs, minus the epoch. */
export interface CommitteeSnapshot {
  readonly members: readonly Readonly<MemberState>[]
  readonly threshold: Fraction
  readonly adversary: Fraction
  readonly retentionSeconds: number
  readonly sequencers: readonly string[]
}

export class RegistryReplay {
  #members: MemberState[] = []
  #threshold: Fraction = DEFAULT_THRESHOLD
  #adversary: Fraction = DEFAULT_ADVERSARY
  #retentionSeconds = DEFAULT_RETENTION_SECONDS
  /** Sequencer peer ids (base58btc), in the order they were added. */
  #sequencers: string[] = []

  get memberCount(): number {
    return this.#members.length
  }

  /** Applies one event; an event that does not fit the state (a log out of order, a gap) is CHAIN_INCONSISTENT_EVENTS. */
  apply(event: RegistryEvent): void {
    switch (event.kind) {
      case 'MemberRegistered': {
        if (event.index !== this.#members.length)
          this.#inconsistent(event, `index ${event.index}, expected ${this.#members.length}`)
        this.#members.push({
          operator: event.operator.toLowerCase(),
          publicKey: event.publicKey,
          proofOfPossession: event.proofOfPossession,
          peerId: base58btc.baseEncode(event.peerId),
          multiaddrs: event.multiaddrs,
          stake: event.stake,
        })
        return
      }
      case 'StakeChanged':
        this.#member(event, event.index).stake = event.stake
        return
      case 'MemberLeft': {
        this.#member(event, event.index)
        const last = this.#members.length - 1
        if (event.movedFrom !== last) this.#inconsistent(event, `moved from ${event.movedFrom}, last is ${last}`)
        this.#members[event.index] = this.#members[last]!
        this.#members.pop()
        return
      }
      case 'MultiaddrsChanged': {
        const member = this.#members.find((m) => m.operator === event.operator.toLowerCase())
        // A departed member may still change its addresses; only current members matter here.
        if (member) member.multiaddrs = event.multiaddrs
        return
      }
      case 'ThresholdsChanged':
        this.#threshold = fraction(event.qNum, event.qDen, 'threshold')
        this.#adversary = fraction(event.fNum, event.fDen, 'adversary')
        return
      case 'RetentionChanged':
        this.#retentionSeconds = Number(event.retentionSeconds)
        return
      case 'SequencerAdded': {
        const peerId = base58btc.baseEncode(event.peerId)
        if (!this.#sequencers.includes(peerId)) this.#sequencers.push(peerId)
        return
      }
      case 'SequencerRemoved': {
        const peerId = base58btc.baseEncode(event.peerId)
        this.#sequencers = this.#sequencers.filter((s) => s !== peerId)
        return
      }
    }
  }

  /** A copy that later events change independently. */
  clone(): RegistryReplay {
    const copy = new RegistryReplay()
    copy.#members = this.#members.map((m) => ({ ...m }))
    copy.#threshold = this.#threshold
    copy.#adversary = this.#adversary
    copy.#retentionSeconds = this.#retentionSeconds
    copy.#sequencers = [...this.#sequencers]
    return copy
  }

  /** The state now, detached from later changes. */
  snapshot(): CommitteeSnapshot {
    return Object.freeze({
      members: Object.freeze(this.#members.map((m) => Object.freeze({ ...m }))),
      threshold: this.#threshold,
      adversary: this.#adversary,
      retentionSeconds: this.#retentionSeconds,
      sequencers: Object.freeze([...this.#sequencers]),
    })
  }

  #member(event: RegistryEvent, index: number): MemberState {
    const member = this.#members[index]
    if (!member || ('operator' in event && member.operator !== event.operator.toLowerCase())) {
      this.#inconsistent(event, `no member of that operator at index ${index}`)
    }
    return member
  }

  #inconsistent(event: RegistryEvent, why: string): never {
    throw chainError(
      ChainErrorCode.INCONSISTENT_EVENTS,
      `registry event ${event.kind} does not fit the replayed state: ${why}`,
      {
        event: event.kind,
      },
    )
  }
}

/** The CommitteeInput of a snapshot for one epoch (the registry already refused what the committee layer would). */
export function committeeInputOf(snapshot: CommitteeSnapshot, networkId: number, epoch: number): CommitteeInput {
  return {
    networkId,
    epoch,
    members: snapshot.members.map((m) => ({
      peerId: m.peerId,
      publicKey: m.publicKey,
      proofOfPossession: m.proofOfPossession,
      stake: m.stake,
      multiaddrs: m.multiaddrs,
    })),
    sequencers: snapshot.sequencers.map((peerId) => ({ peerId })),
    threshold: snapshot.threshold,
    adversary: snapshot.adversary,
    retentionSeconds: snapshot.retentionSeconds,
  }
}
