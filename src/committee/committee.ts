import { CommitteeErrorCode, committeeError } from './errors.ts'
import { type Fraction, fraction, lessThan, reaches } from './fraction.ts'
import { toHex } from './hex.ts'
import type { Member, MemberInput, MemberKeyVerifier, Sequencer } from './member.ts'
import { blobShape, type EncodingParams } from './params.ts'
import { validateMembers, validateSequencers } from './validate.ts'

/** q: a certificate needs signatures from at least two thirds of the stake. */
export const DEFAULT_THRESHOLD: Fraction = { num: 2n, den: 3n }
/** f: up to a third of the stake may be adversarial (or offline) and a certificate still means recoverable. */
export const DEFAULT_ADVERSARY: Fraction = { num: 1n, den: 3n }
/** Two weeks: a 7-day optimistic challenge window plus a week for late retrievers. */
export const DEFAULT_RETENTION_SECONDS = 14 * 24 * 60 * 60

export interface CommitteeInput {
  /** u32, the same as in every blob header of this network. */
  networkId: number
  /** u64 within 2^53 - 1. */
  epoch: number
  /** In bitmap order: the member at position i is bit i of every certificate of this epoch. */
  members: readonly MemberInput[]
  sequencers?: readonly Sequencer[] | undefined
  /** Signing threshold q; DEFAULT_THRESHOLD when absent. */
  threshold?: Fraction | undefined
  /** Adversary bound f; DEFAULT_ADVERSARY when absent. */
  adversary?: Fraction | undefined
  /** How long members keep shards; DEFAULT_RETENTION_SECONDS when absent. */
  retentionSeconds?: number | undefined
  /** A fixed erasure n for every blob; when absent, n is chosen per blob from its size (`blobShape`). */
  totalShards?: number | undefined
}

export interface CommitteeOptions {
  /** Checks keys and proofs of possession; `blsKeyVerifier` from attest in production. */
  verifier: MemberKeyVerifier
}

/**
 * The committee of one epoch, validated on construction: a Committee object that exists is one whose
 * members all have distinct peer ids and keys (no key the negation of another), positive stakes and valid
 * proofs of possession, whose thresholds satisfy 0 <= f < q <= 1, and for which some safe (k, n) exists.
 * Immutable.
 */
export class Committee {
  readonly networkId: number
  readonly epoch: number
  readonly members: readonly Member[]
  readonly sequencers: readonly Sequencer[]
  readonly threshold: Fraction
  readonly adversary: Fraction
  readonly retentionSeconds: number
  readonly totalStake: bigint
  /** The file's totalShards, if it fixed n for every blob. */
  readonly totalShards: number | undefined
  readonly #byPeerId: Map<string, Member>
  readonly #byPublicKey: Map<string, Member>

  constructor(input: CommitteeInput, options: CommitteeOptions) {
    if (!Number.isInteger(input.networkId) || input.networkId < 0 || input.networkId > 0xffff_ffff) {
      throw committeeError(CommitteeErrorCode.INVALID_NETWORK_ID, `network id ${input.networkId} is not a u32`)
    }
    if (!Number.isSafeInteger(input.epoch) || input.epoch < 0) {
      throw committeeError(CommitteeErrorCode.INVALID_EPOCH, `epoch ${input.epoch} is not a non-negative safe integer`)
    }
    this.networkId = input.networkId
    this.epoch = input.epoch
    this.threshold = checkFraction(input.threshold ?? DEFAULT_THRESHOLD, 'threshold', input.epoch)
    this.adversary = checkFraction(input.adversary ?? DEFAULT_ADVERSARY, 'adversary', input.epoch)
    if (!lessThan(this.adversary, this.threshold)) {
      throw committeeError(
        CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY,
        `epoch ${input.epoch}: need 0 <= adversary < threshold <= 1, got f = ${fmt(this.adversary)}, q = ${fmt(this.threshold)}`,
        { epoch: input.epoch },
      )
    }
    const retention = input.retentionSeconds ?? DEFAULT_RETENTION_SECONDS
    if (!Number.isSafeInteger(retention) || retention <= 0) {
      throw committeeError(CommitteeErrorCode.INVALID_RETENTION, `retention ${retention} s is not a positive integer`, {
        epoch: input.epoch,
      })
    }
    this.retentionSeconds = retention
    this.members = validateMembers(input.members, options.verifier, input.epoch)
    this.sequencers = validateSequencers(input.sequencers ?? [], options.verifier, input.epoch)
    this.totalStake = this.members.reduce((sum, m) => sum + m.stake, 0n)
    this.totalShards = input.totalShards
    // The smallest blob's shape exists iff any does (kMax grows with n): refuse a committee no blob can use.
    blobShape(this, 0)
    this.#byPeerId = new Map(this.members.map((m) => [m.peerId, m]))
    this.#byPublicKey = new Map(this.members.map((m) => [toHex(m.publicKey), m]))
    Object.freeze(this)
  }

  get size(): number {
    return this.members.length
  }

  /** The member with this canonical (base58btc) peer id. */
  memberByPeerId(peerId: string): Member | undefined {
    return this.#byPeerId.get(peerId)
  }

  /** The member with this compressed public key. */
  memberByPublicKey(publicKey: Uint8Array): Member | undefined {
    return this.#byPublicKey.get(toHex(publicKey))
  }

  /** True when a sequencer entry matches the peer id or the public key given. */
  isSequencer(who: { peerId?: string; publicKey?: Uint8Array }): boolean {
    const key = who.publicKey === undefined ? undefined : toHex(who.publicKey)
    return this.sequencers.some(
      (s) =>
        (who.peerId !== undefined && s.peerId === who.peerId) ||
        (key !== undefined && s.publicKey !== undefined && toHex(s.publicKey) === key),
    )
  }

  /**
   * The shape (k, n) of a blob of `dataSize` bytes under this committee (PROTOCOL.md §2.3, `blobShape`): the one
   * dispersers encode with and members admit. It is policy, not the certificate rule: a certificate is valid for
   * any (k, n) safe for the committee (`isSafeEncoding`).
   */
  shapeFor(dataSize: number): EncodingParams {
    return blobShape(this, dataSize)
  }

  /** True when `stake` is at least q of the total stake, compared exactly. */
  reachesThreshold(stake: bigint): boolean {
    return reaches(stake, this.totalStake, this.threshold)
  }
}

function checkFraction(f: Fraction, field: string, epoch: number): Fraction {
  if (typeof f?.num !== 'bigint' || typeof f?.den !== 'bigint') {
    throw committeeError(CommitteeErrorCode.INVALID_THRESHOLD, `epoch ${epoch}: ${field} must be {num, den} bigints`, {
      field,
      epoch,
    })
  }
  const reduced = fraction(f.num, f.den, field)
  if (reduced.num > reduced.den) {
    throw committeeError(CommitteeErrorCode.INVALID_THRESHOLD, `epoch ${epoch}: ${field} ${fmt(reduced)} is above 1`, {
      field,
      epoch,
    })
  }
  return Object.freeze(reduced)
}

function fmt(f: Fraction): string {
  return `${f.num}/${f.den}`
}
