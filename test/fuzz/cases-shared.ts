/**
 * What every kind of encoding case (encoding-cases.ts) is built from: the plan and the case's types, the random
 * choices a plan's seed makes, the blob a plan starts from, each member's honest delivery, and the retrievals of a
 * commitment (salted with spoiled shards, which the `proof-failing` kind also sends to members).
 */
import { assignShards } from '../../src/committee/assignment.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { prng } from '../erasure/helpers.ts'
import type { FuzzCommittee } from './encoding-members.ts'
import type { Commitment, ExpectedStore, Verdict } from './encoding-oracle.ts'

export const CATEGORIES = ['proof-failing', 'commitment', 'absurd-header', 'equivocation'] as const
export type Category = (typeof CATEGORIES)[number]

/** How the committed rows are made. The first three are codewords; the rest are not (or, rarely, happen to be). */
export const COMMITMENTS = [
  'honest',
  'codeword-data',
  'codeword-padding',
  'symbol',
  'original-symbol',
  'recovery-symbol',
  'last-row-symbol',
  'symbols',
  'byte',
  'row',
  'rows',
  'column',
  'column-recovery',
  'columns',
  'swap-rows',
  'foreign-recovery',
  'zero-recovery',
  'rotated-recovery',
  'other-rate',
  'padding-after-extend',
] as const
export type CommitmentStrategy = (typeof COMMITMENTS)[number]

export interface CasePlan {
  category: Category
  /** Index into COMMITTEE_SPECS. */
  committee: number
  dataSize: number
  /** The blob ends in a run of zero bytes (which a decoder must not mistake for padding). */
  zeroTail: boolean
  commitment: CommitmentStrategy
  /** The category's strategy: one of PROOF_ATTACKS, HEADER_ATTACKS or EQUIVOCATIONS ('' for `commitment`). */
  attack: string
  /** Seeds every further choice. */
  seed: number
}

export interface Delivery {
  member: number
  headerBytes: Uint8Array
  shards: ShardWithProof[]
  /** The count announced in the store request (the number of shards unless the attack says otherwise). */
  shardCount: number
  expect: ExpectedStore
}

/** What one retriever is handed: at least k valid rows of a commitment, mixed with rows that do not verify. */
export interface Retrieval {
  of: 'main' | 'rival'
  offered: ShardWithProof[]
  /** Distinct valid rows among `offered`. */
  valid: number
  /** Decoded in the retriever's worker pool rather than in this thread. */
  viaPool: boolean
}

export interface MaliciousCase {
  plan: CasePlan
  committee: FuzzCommittee
  /** The header bytes the sequencer sends and its expected refusal (undefined: a sound header). */
  headerBytes: Uint8Array
  headerRefusal: string | undefined
  /** The commitment under a sound header, and what decoding it must give. */
  main: { commitment: Commitment; verdict: Verdict } | undefined
  /** An equivocating sequencer's second commitment. */
  rival: { commitment: Commitment; verdict: Verdict } | undefined
  deliveries: Delivery[]
  retrievals: Retrieval[]
}

/** Retrievals per case: three in this thread, one in the worker pool. */
export const RETRIEVALS_PER_CASE = 4

/** Random choices from the plan's seed. */
export class Choices {
  readonly #next: () => number
  constructor(seed: number) {
    this.#next = prng(seed)
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1))
  }
  chance(p: number): boolean {
    return this.#next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!
  }
  bytes(size: number): Uint8Array {
    const out = new Uint8Array(size)
    for (let i = 0; i < size; i++) out[i] = this.int(0, 255)
    return out
  }
  /** `count` distinct integers of [0, n), in random order. */
  distinct(n: number, count: number): number[] {
    const all = Array.from({ length: n }, (_, i) => i)
    for (let i = 0; i < Math.min(count, n); i++) {
      const j = this.int(i, n - 1)
      ;[all[i], all[j]] = [all[j]!, all[i]!]
    }
    return all.slice(0, Math.min(count, n))
  }
  shuffle<T>(items: T[]): T[] {
    const order = this.distinct(items.length, items.length)
    return order.map((i) => items[i]!)
  }
}

/** The blob a plan starts from. */
export function blobData(plan: CasePlan, choices: Choices, size = plan.dataSize): Uint8Array {
  const data = choices.bytes(size)
  if (plan.zeroTail && size > 0) data.fill(0, choices.int(0, size - 1))
  return data
}

export const copyShard = (s: ShardWithProof): ShardWithProof => ({
  index: s.index,
  data: s.data.slice(),
  proof: s.proof.slice(),
})

/** A shard that fails its proof (or its size, or its index), made from a valid one. */
export function spoil(
  shard: ShardWithProof,
  attack: string,
  choices: Choices,
  n: number,
  foreign: Commitment,
): ShardWithProof {
  const s = copyShard(shard)
  switch (attack) {
    case 'data-bit':
      s.data[choices.int(0, s.data.length - 1)]! ^= 1 << choices.int(0, 7)
      return s
    case 'proof-bit':
      if (s.proof.length === 0) return { ...s, proof: choices.bytes(32) }
      s.proof[choices.int(0, s.proof.length - 1)]! ^= 1 << choices.int(0, 7)
      return s
    case 'proof-short':
      return { ...s, proof: s.proof.subarray(0, Math.max(0, s.proof.length - 32 * choices.int(1, 2))) }
    case 'proof-long':
      return { ...s, proof: Buffer.concat([s.proof, choices.bytes(32 * choices.int(1, 2))]) }
    case 'proof-empty':
      return { ...s, proof: s.proof.length === 0 ? choices.bytes(32) : new Uint8Array() }
    case 'data-short':
      return { ...s, data: s.data.subarray(0, s.data.length - 64 * choices.int(1, s.data.length / 64)) }
    case 'data-long':
      return { ...s, data: Buffer.concat([s.data, choices.bytes(64 * choices.int(1, 2))]) }
    case 'foreign-shard': {
      const other = foreign.shards[s.index % foreign.shards.length]!
      return { index: s.index, data: other.data.slice(), proof: other.proof.slice() }
    }
    case 'foreign-proof':
      return { ...s, proof: foreign.shards[s.index % foreign.shards.length]!.proof.slice() }
    case 'out-of-range':
      return { ...s, index: n + choices.int(0, 8) }
    default:
      throw new Error(`unknown shard attack ${attack}`)
  }
}

/** What a retriever's input is salted with: each makes a shard no retriever may use. */
const JUNK = [
  'data-bit',
  'proof-bit',
  'proof-short',
  'proof-long',
  'proof-empty',
  'data-short',
  'data-long',
  'foreign-shard',
  'foreign-proof',
  'out-of-range',
]

/** Retrievals of a commitment: several choices of at least k valid rows, each salted with rows that do not verify. */
export function retrievalsOf(
  of: 'main' | 'rival',
  c: Commitment,
  committee: FuzzCommittee,
  choices: Choices,
  foreign: Commitment,
  count: number,
): Retrieval[] {
  const { k, n } = c.header
  const out: Retrieval[] = []
  for (let r = 0; r < count; r++) {
    let indices: number[]
    switch (choices.int(0, 4)) {
      case 0: // exactly k, any
        indices = choices.distinct(n, k)
        break
      case 1: // recovery rows first: the most arithmetic
        indices = [
          ...Array.from({ length: n - k }, (_, j) => n - 1 - j),
          ...Array.from({ length: k }, (_, i) => i),
        ].slice(0, k)
        break
      case 2: {
        // whole runs of members taken in a random order, as holders stream them
        const assignment = assignShards(committee.committee, c.blobId.bytes, n)
        indices = []
        for (const m of choices.shuffle([...assignment.order])) {
          if (indices.length >= k) break
          indices.push(...assignment.shardsOf(m))
        }
        break
      }
      case 3: // all
        indices = Array.from({ length: n }, (_, i) => i)
        break
      default: // any number from k to n
        indices = choices.distinct(n, choices.int(k, n))
    }
    const offered = indices.map((i) => c.shards[i]!)
    const junk: ShardWithProof[] = []
    for (let j = choices.int(0, 4); j > 0; j--)
      junk.push(spoil(c.shards[choices.int(0, n - 1)]!, choices.pick(JUNK), choices, n, foreign))
    // A spoiled copy may come before the good one of the same index: the decoder must not keep the first it sees.
    const mixed = choices.shuffle([...offered, ...junk])
    out.push({ of, offered: mixed, valid: new Set(indices).size, viaPool: r === count - 1 })
  }
  return out
}

/** Each member's assigned rows of a commitment, sent under its header. */
export function honestDeliveries(c: Commitment, committee: FuzzCommittee): Delivery[] {
  const assignment = assignShards(committee.committee, c.blobId.bytes, c.header.n)
  return committee.members
    .map((m) => {
      const shards = assignment.shardsOf(m.index).map((i) => c.shards[i]!)
      return {
        member: m.index,
        headerBytes: c.headerBytes,
        shards,
        shardCount: shards.length,
        expect: { sign: true } as ExpectedStore,
      }
    })
    .filter((d) => d.shards.length > 0)
}
