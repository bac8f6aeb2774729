/**
 * A badly-encoding or equivocating sequencer, as a seeded generator of shard sets. fast-check draws a small plan
 * (which committee, the blob's size, the kind of attack and its strategy, a seed); everything else — the blob's
 * bytes, which shards, symbols and members are hit — comes from a PRNG seeded by the plan, so a plan printed with a
 * failure rebuilds the same case.
 *
 * The encoding's shape (PROTOCOL.md §1.1–1.3): n shards (rows) of shardSize bytes, the first k the blob's bytes;
 * each 64-byte chunk of a shard holds 32 GF(2^16) symbols (low bytes, then high bytes), and the code acts on each
 * symbol position (column) on its own. Members are assigned contiguous runs of rows (§2.4).
 *
 * Four kinds of case:
 *  - `proof-failing`: members are sent shards or proofs that do not verify (flipped bits, swapped, short, long or
 *    foreign proofs, moved indices, shards of another commitment);
 *  - `commitment`: consistent commitments (every proof valid) to a set that is not a codeword — one symbol, many,
 *    whole rows, whole columns, recovery rows from other data or another rate, swapped or zeroed rows — and, as
 *    controls, codewords: the honest one, one of other data, one with non-zero padding;
 *  - `absurd-header`: headers with absurd k, n, shard sizes, data sizes, versions, lengths, networks, epochs and
 *    shapes, and shard counts that are not the member's assignment;
 *  - `equivocation`: a second commitment for the same blob (other bytes, or the same bytes encoded differently),
 *    whose shards go to some members under the first header and to others under its own.
 *
 * Each case carries what the oracle (encoding-oracle.ts) expects: per store, sign or the refusal's code; per
 * commitment, the verdict (the blob's bytes, or BadEncoding with its reason).
 */
import fc from 'fast-check'
import { assignShards } from '../../src/committee/assignment.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { blobIdOf } from '../../src/erasure/blob-id.ts'
import { assembleBlob } from '../../src/erasure/encode.ts'
import { decodeHeader, HEADER_SIZE } from '../../src/erasure/header.ts'
import { splitBlob } from '../../src/erasure/layout.ts'
import { buildMerkleTree } from '../../src/erasure/merkle.ts'
import { rsEncode } from '../../src/erasure/rs/index.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { prng } from '../erasure/helpers.ts'
import { COMMITTEE_SPECS, FUZZ_MAX_BLOB_SIZE, type FuzzCommittee } from './encoding-members.ts'
import {
  type Commitment,
  canonicalShardSize,
  type ExpectedStore,
  expectedHeaderRefusal,
  expectedStore,
  MAX_SAFE,
  type Verdict,
  verdictOf,
  writeRaw,
} from './encoding-oracle.ts'

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

/** What a member is sent that does not verify. */
export const PROOF_ATTACKS = [
  'data-bit',
  'proof-bit',
  'proof-swap',
  'proof-short',
  'proof-long',
  'proof-empty',
  'data-short',
  'data-long',
  'foreign-shard',
  'foreign-proof',
  'index-swap',
  'index-moved',
  'dropped',
  'duplicated',
] as const

/** Which header field is made absurd. */
export const HEADER_ATTACKS = [
  'k-zero',
  'k-equals-n',
  'k-above-n',
  'n-above-max',
  'k-max',
  'n-max',
  'shard-size',
  'data-size-u64',
  'data-size-huge',
  'data-size-above-max',
  'data-size-other',
  'version',
  'truncated',
  'extended',
  'network',
  'epoch',
  'epoch-u64',
  'shape',
  'random',
  'shard-count',
] as const

/** What the second commitment of an equivocating sequencer is. */
export const EQUIVOCATIONS = ['other-data', 'other-encoding', 'other-size'] as const

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

const sizes = fc.oneof(
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 256 }), weight: 3 },
  { arbitrary: fc.integer({ min: 257, max: 8192 }), weight: 6 },
  { arbitrary: fc.integer({ min: 8193, max: 24_576 }), weight: 3 },
  { arbitrary: fc.integer({ min: 24_577, max: FUZZ_MAX_BLOB_SIZE }), weight: 1 },
)

/** The plans, the four categories in equal parts. */
export function casePlans(): fc.Arbitrary<CasePlan> {
  const base = {
    committee: fc.nat({ max: COMMITTEE_SPECS.length - 1 }),
    dataSize: sizes,
    zeroTail: fc.boolean(),
    seed: fc.nat(),
  }
  const any = fc.constantFrom(...COMMITMENTS)
  const broken = fc.constantFrom(...COMMITMENTS.slice(3))
  return fc.oneof(
    fc.record({
      ...base,
      category: fc.constant('proof-failing' as const),
      commitment: any,
      attack: fc.constantFrom(...PROOF_ATTACKS),
    }),
    fc.record({
      ...base,
      category: fc.constant('commitment' as const),
      // Mostly sets that are not codewords; the codewords keep the oracle and the decoder honest.
      commitment: fc.oneof({ arbitrary: broken, weight: 4 }, { arbitrary: any, weight: 1 }),
      attack: fc.constant(''),
    }),
    fc.record({
      ...base,
      category: fc.constant('absurd-header' as const),
      commitment: any,
      attack: fc.constantFrom(...HEADER_ATTACKS),
    }),
    fc.record({
      ...base,
      category: fc.constant('equivocation' as const),
      commitment: any,
      attack: fc.constantFrom(...EQUIVOCATIONS),
    }),
  )
}

/** Random choices from the plan's seed. */
class Choices {
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
function blobData(plan: CasePlan, choices: Choices, size = plan.dataSize): Uint8Array {
  const data = choices.bytes(size)
  if (plan.zeroTail && size > 0) data.fill(0, choices.int(0, size - 1))
  return data
}

/** Byte offsets of symbol `e`'s low and high bytes in a shard (PROTOCOL.md §1.1, Shards). */
function symbolBytes(e: number): [number, number] {
  const low = 64 * Math.floor(e / 32) + (e % 32)
  return [low, low + 32]
}

/** Adds a non-zero value to one symbol of a row. */
function hitSymbol(row: Uint8Array, e: number, choices: Choices): void {
  const [low, high] = symbolBytes(e)
  const value = choices.int(1, 0xffff)
  row[low]! ^= value & 0xff
  row[high]! ^= value >> 8
}

/** Commits to `data` with (k, n) after changing the rows by `strategy`: every proof is valid, whatever the rows. */
export function commit(
  data: Uint8Array,
  params: { networkId: number; epoch: number; k: number; n: number },
  strategy: CommitmentStrategy,
  choices: Choices,
): Commitment {
  const { k, n } = params
  const originals = splitBlob(data, k).map((s) => s.slice())
  const shardSize = originals[0]!.length
  const symbols = shardSize / 2
  const paddingStart = data.length
  const paddingBytes = k * shardSize - paddingStart
  if (strategy === 'codeword-data' && data.length > 0) {
    const at = choices.int(0, data.length - 1)
    originals[Math.floor(at / shardSize)]![at % shardSize]! ^= choices.int(1, 255)
  }
  if (strategy === 'codeword-padding' && paddingBytes > 0) {
    const at = paddingStart + choices.int(0, paddingBytes - 1)
    originals[Math.floor(at / shardSize)]![at % shardSize] = choices.int(1, 255)
  }
  const rows: Uint8Array[] = originals.concat(rsEncode(originals, n - k).map((s) => s.slice()))
  const recovery = () => choices.int(k, n - 1)
  switch (strategy) {
    case 'honest':
    case 'codeword-data':
    case 'codeword-padding':
      break
    case 'symbol':
      hitSymbol(rows[choices.int(0, n - 1)]!, choices.int(0, symbols - 1), choices)
      break
    case 'original-symbol':
      hitSymbol(rows[choices.int(0, k - 1)]!, choices.int(0, symbols - 1), choices)
      break
    case 'recovery-symbol':
      hitSymbol(rows[recovery()]!, choices.int(0, symbols - 1), choices)
      break
    case 'last-row-symbol':
      hitSymbol(rows[n - 1]!, choices.int(0, symbols - 1), choices)
      break
    case 'symbols':
      for (let i = choices.int(2, 16); i > 0; i--)
        hitSymbol(rows[choices.int(0, n - 1)]!, choices.int(0, symbols - 1), choices)
      break
    case 'byte':
      rows[choices.int(0, n - 1)]![choices.int(0, shardSize - 1)]! ^= choices.int(1, 255)
      break
    case 'row':
      rows[choices.int(0, n - 1)] = choices.bytes(shardSize)
      break
    case 'rows':
      for (const i of choices.distinct(n, choices.int(2, n)))
        rows[i] = choices.chance(0.2) ? new Uint8Array(shardSize) : choices.bytes(shardSize)
      break
    case 'column': {
      const e = choices.int(0, symbols - 1)
      for (const i of choices.distinct(n, choices.int(1, n))) hitSymbol(rows[i]!, e, choices)
      break
    }
    case 'column-recovery': {
      const [low, high] = symbolBytes(choices.int(0, symbols - 1))
      const value = choices.int(1, 0xffff)
      for (let i = k; i < n; i++) {
        rows[i]![low]! ^= value & 0xff
        rows[i]![high]! ^= value >> 8
      }
      break
    }
    case 'columns':
      for (const e of choices.distinct(symbols, choices.int(2, Math.min(symbols, 8)))) {
        for (let i = 0; i < n; i++) hitSymbol(rows[i]!, e, choices)
      }
      break
    case 'swap-rows': {
      const [a, b] = choices.distinct(n, 2) as [number, number]
      ;[rows[a], rows[b]] = [rows[b]!, rows[a]!]
      break
    }
    case 'foreign-recovery': {
      const other = splitBlob(choices.bytes(data.length), k)
      rsEncode(other, n - k).forEach((row, j) => {
        rows[k + j] = row.slice()
      })
      break
    }
    case 'zero-recovery':
      for (let i = k; i < n; i++) rows[i] = new Uint8Array(shardSize)
      break
    case 'rotated-recovery': {
      const first = rows[k]!
      for (let i = k; i < n - 1; i++) rows[i] = rows[i + 1]!
      rows[n - 1] = first
      break
    }
    case 'other-rate': {
      // The recovery rows of another recovery count, cut to n - k: the same rows in low rate, other rows when the
      // rate changes. The oracle decides which.
      const r = n - k
      const other = rsEncode(originals, choices.int(r + 1, Math.min(2 * r + 64, 65536 - k)))
      for (let j = 0; j < r; j++) rows[k + j] = other[j]!.slice()
      break
    }
    case 'padding-after-extend':
      if (paddingBytes > 0) {
        const at = paddingStart + choices.int(0, paddingBytes - 1)
        rows[Math.floor(at / shardSize)]![at % shardSize]! ^= choices.int(1, 255)
      } else {
        hitSymbol(rows[k - 1]!, choices.int(0, symbols - 1), choices)
      }
      break
  }
  const blob = assembleBlob(data.length, params, rows, buildMerkleTree(rows))
  return {
    header: blob.header,
    headerBytes: blob.headerBytes,
    blobId: blob.blobId,
    shards: blob.shards.map((d, index) => ({ index, data: d, proof: blob.proofs[index]! })),
  }
}

const copyShard = (s: ShardWithProof): ShardWithProof => ({
  index: s.index,
  data: s.data.slice(),
  proof: s.proof.slice(),
})

/** A shard that fails its proof (or its size, or its index), made from a valid one. */
function spoil(
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

/** A member's delivery after the attack: some of its shards (at least one) spoiled, moved, dropped or doubled. */
function attackDelivery(
  shards: ShardWithProof[],
  attack: string,
  choices: Choices,
  n: number,
  foreign: Commitment,
): { shards: ShardWithProof[]; shardCount: number } {
  const out = shards.map(copyShard)
  const hits = choices.distinct(out.length, choices.int(1, Math.min(3, out.length)))
  switch (attack) {
    case 'proof-swap':
    case 'index-swap': {
      // Two shards trade proofs (or indices); with one shard, it gets its neighbour's proof.
      if (out.length < 2) {
        const neighbour = foreign.shards[(out[0]!.index + 1) % foreign.shards.length]!
        out[0] = { ...out[0]!, proof: neighbour.proof.slice() }
        break
      }
      const [a, b] = choices.distinct(out.length, 2) as [number, number]
      if (attack === 'proof-swap') [out[a]!.proof, out[b]!.proof] = [out[b]!.proof, out[a]!.proof]
      else [out[a]!.index, out[b]!.index] = [out[b]!.index, out[a]!.index]
      break
    }
    case 'index-moved':
      out[hits[0]!] = { ...out[hits[0]!]!, index: choices.int(0, n + 4) }
      break
    case 'dropped':
      out.splice(hits[0]!, 1)
      return { shards: out, shardCount: choices.chance(0.5) ? out.length : out.length + 1 }
    case 'duplicated':
      if (out.length < 2) out.push(copyShard(out[0]!))
      else out[hits[0]!] = copyShard(out[(hits[0]! + 1) % out.length]!)
      break
    default:
      for (const i of hits) out[i] = spoil(out[i]!, attack, choices, n, foreign)
  }
  return { shards: out, shardCount: out.length }
}

/** Retrievals of a commitment: several choices of at least k valid rows, each salted with rows that do not verify. */
function retrievalsOf(
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
function honestDeliveries(c: Commitment, committee: FuzzCommittee): Delivery[] {
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

/** Builds the case a plan describes, with what the oracle expects of it. */
export function buildCase(plan: CasePlan, committees: readonly FuzzCommittee[]): MaliciousCase {
  const choices = new Choices(plan.seed)
  const committee = committees[plan.committee]!
  const c = committee.committee
  const data = blobData(plan, choices)
  const shape = c.shapeFor(data.length)
  const params = { networkId: c.networkId, epoch: c.epoch, k: shape.k, n: shape.n }
  const main = commit(data, params, plan.commitment, choices)
  const mainVerdict = verdictOf(main)
  // Another commitment of the same shape, for foreign shards and proofs.
  const foreign = commit(blobData(plan, choices), params, 'honest', choices)
  const base: MaliciousCase = {
    plan,
    committee,
    headerBytes: main.headerBytes,
    headerRefusal: undefined,
    main: { commitment: main, verdict: mainVerdict },
    rival: undefined,
    deliveries: honestDeliveries(main, committee),
    retrievals: retrievalsOf('main', main, committee, choices, foreign, RETRIEVALS_PER_CASE),
  }
  switch (plan.category) {
    case 'commitment':
      return base
    case 'proof-failing': {
      const targets = choices.distinct(base.deliveries.length, choices.int(1, base.deliveries.length))
      const assignment = assignShards(c, main.blobId.bytes, main.header.n)
      for (const t of targets) {
        const d = base.deliveries[t]!
        const { shards, shardCount } = attackDelivery(d.shards, plan.attack, choices, main.header.n, foreign)
        base.deliveries[t] = {
          ...d,
          shards,
          shardCount,
          expect: expectedStore(main.header, assignment.shardsOf(d.member), shards, shardCount),
        }
      }
      return base
    }
    case 'absurd-header':
      return absurdCase(base, plan.attack, choices)
    case 'equivocation':
      return equivocationCase(base, plan, data, params, choices)
  }
}

/** The sequencer sends a header with an absurd field (and the shards it would have sent with the sound one). */
function absurdCase(base: MaliciousCase, attack: string, choices: Choices): MaliciousCase {
  const main = base.main!.commitment
  const { k, n, dataSize } = main.header
  const c = base.committee.committee
  const bytes = main.headerBytes
  const canonical = (size: bigint, kk: number) => {
    const s = canonicalShardSize(size, kk)
    return s > 0xffff_ffffn ? choices.int(0, 0xffff_ffff) : Number(s)
  }
  let out: Uint8Array
  switch (attack) {
    case 'k-zero':
      out = writeRaw(bytes, { k: 0 })
      break
    case 'k-equals-n':
      out = writeRaw(bytes, { k: n, shardSize: canonical(BigInt(dataSize), n) })
      break
    case 'k-above-n': {
      const kk = choices.chance(0.5) ? n + choices.int(1, 100) : choices.int(n + 1, 0xffff_ffff)
      out = writeRaw(bytes, { k: kk, shardSize: canonical(BigInt(dataSize), Math.min(kk, 0xffff_ffff)) })
      break
    }
    case 'n-above-max':
      out = writeRaw(bytes, { n: choices.chance(0.5) ? 65537 + choices.int(0, 100) : choices.int(65537, 0xffff_ffff) })
      break
    case 'k-max':
      out = writeRaw(bytes, { k: 65535, n: 65536, shardSize: canonical(BigInt(dataSize), 65535) })
      break
    case 'n-max':
      out = writeRaw(bytes, { n: 65536 })
      break
    case 'shard-size': {
      const s = main.header.shardSize
      const wrong = choices.pick([0, 1, 63, s - 64, s + 64, s + 1, s - 1, s * 2, 0xffff_ffff])
      out = writeRaw(bytes, { shardSize: wrong === s ? s + 64 : wrong })
      break
    }
    case 'data-size-u64':
      out = writeRaw(bytes, {
        dataSize: MAX_SAFE + 1n + BigInt(choices.int(0, 0xffff_ffff)) * BigInt(choices.int(1, 0x7ff)),
      })
      break
    case 'data-size-huge': {
      // Sizes a u32 shard size can still hold at this k, and sizes it cannot.
      const size =
        BigInt(choices.int(FUZZ_MAX_BLOB_SIZE + 1, 0x7fff_ffff)) *
        BigInt(choices.chance(0.5) ? 1 : choices.int(2, 1 << 20))
      out = writeRaw(bytes, { dataSize: size, shardSize: canonical(size, k) })
      break
    }
    case 'data-size-above-max': {
      const size = BigInt(FUZZ_MAX_BLOB_SIZE + choices.int(1, 64 * 1024))
      out = writeRaw(bytes, { dataSize: size, shardSize: canonical(size, k) })
      break
    }
    case 'data-size-other': {
      // Another length over the same rows: sound when the policy gives that length the same shape (then the rows
      // decode to a prefix or a longer blob, or to nonzero-padding), refused otherwise.
      const size = BigInt(Math.max(0, dataSize + choices.int(-Math.min(dataSize, 4096), 4096)))
      out = writeRaw(bytes, { dataSize: size, shardSize: canonical(size, k) })
      break
    }
    case 'version':
      out = writeRaw(bytes, { version: choices.chance(0.5) ? 0 : choices.int(2, 255) })
      break
    case 'truncated':
      out = bytes.slice(0, choices.int(0, HEADER_SIZE - 1))
      break
    case 'extended':
      out = Buffer.concat([bytes, choices.bytes(choices.int(1, 16))])
      break
    case 'network':
      out = writeRaw(bytes, { networkId: (c.networkId + choices.int(1, 0xffff_fffe)) % 0x1_0000_0000 })
      break
    case 'epoch': {
      const other = c.epoch > 0 && choices.chance(0.5) ? choices.int(0, c.epoch - 1) : c.epoch + choices.int(1, 1000)
      out = writeRaw(bytes, { epoch: BigInt(other) })
      break
    }
    case 'epoch-u64':
      out = writeRaw(bytes, { epoch: MAX_SAFE + 1n + BigInt(choices.int(0, 0x7fff_ffff)) })
      break
    case 'shape': {
      // A (k, n) that is safe for the committee but not its shape for this size, with the canonical shard size.
      const options: [number, number][] = [
        [k, 2 * n],
        [k, n + 1],
        [k, n - 1],
      ]
      if (k > 1) options.push([k - 1, n])
      const [kk, nn] = choices.pick(options.filter(([a, b]) => b > a && b <= 65536))
      out = writeRaw(bytes, { k: kk, n: nn, shardSize: canonical(BigInt(dataSize), kk) })
      break
    }
    case 'random':
      out = choices.bytes(HEADER_SIZE)
      out[0] = 1
      break
    case 'shard-count': {
      // A sound header; each member announces a count other than its assignment.
      const deliveries = base.deliveries.map((d) => {
        const count = choices.pick([0, d.shards.length - 1, d.shards.length + 1, main.header.n + 1, 0xffff_ffff])
        const shardCount = count === d.shards.length ? d.shards.length + 1 : count
        return { ...d, shardCount, expect: { sign: false, code: 'NODE_WRONG_SHARDS', failing: 0 } as ExpectedStore }
      })
      return { ...base, deliveries }
    }
    default:
      throw new Error(`unknown header attack ${attack}`)
  }
  const refusal = expectedHeaderRefusal(out, base.committee)
  if (refusal === undefined) {
    // The change left a header members take (a length the policy gives the same shape): a sound header over the
    // same rows. With the same shard size it is a commitment of its own, whose stores are signed and whose verdict
    // the oracle gives again; with another shard size no row fits it, and every store is refused.
    const header = decodeHeader(out)
    const commitment: Commitment = { ...main, header, headerBytes: out, blobId: blobIdOf(out) }
    const deliveries = honestDeliveries(commitment, base.committee)
    if (header.shardSize !== main.header.shardSize) {
      const assignment = assignShards(c, commitment.blobId.bytes, header.n)
      for (const d of deliveries)
        d.expect = expectedStore(header, assignment.shardsOf(d.member), d.shards, d.shardCount)
      return { ...base, headerBytes: out, main: undefined, deliveries, retrievals: [] }
    }
    const choicesAgain = new Choices(base.plan.seed ^ 0x5bd1e995)
    return {
      ...base,
      headerBytes: out,
      main: { commitment, verdict: verdictOf(commitment) },
      deliveries,
      retrievals: retrievalsOf('main', commitment, base.committee, choicesAgain, main, RETRIEVALS_PER_CASE),
    }
  }
  const deliveries = base.deliveries.map((d) => ({
    ...d,
    headerBytes: out,
    expect: { sign: false, code: refusal, failing: 0 } as ExpectedStore,
  }))
  return { ...base, headerBytes: out, headerRefusal: refusal, main: undefined, deliveries, retrievals: [] }
}

/**
 * A second commitment for the same blob: other bytes of the same size, the same bytes encoded another way, or
 * bytes of another size. Members get the first commitment's rows, the second's rows (with their own proofs or the
 * first's), or a mix, all under the first header; some get the second commitment under its own header, which is
 * another blob id and is theirs to sign.
 */
function equivocationCase(
  base: MaliciousCase,
  plan: CasePlan,
  data: Uint8Array,
  params: { networkId: number; epoch: number; k: number; n: number },
  choices: Choices,
): MaliciousCase {
  const main = base.main!.commitment
  const c = base.committee.committee
  let rival: Commitment
  switch (plan.attack) {
    case 'other-data':
      rival = commit(blobData(plan, choices), params, choices.pick(COMMITMENTS), choices)
      break
    case 'other-encoding': {
      const others = COMMITMENTS.filter((s) => s !== plan.commitment)
      rival = commit(data, params, choices.pick(others), choices)
      break
    }
    default: {
      const size = Math.max(0, Math.min(FUZZ_MAX_BLOB_SIZE, data.length + choices.int(-4096, 4096)))
      const shape = c.shapeFor(size)
      rival = commit(
        blobData(plan, choices, size),
        { ...params, k: shape.k, n: shape.n },
        choices.pick(COMMITMENTS),
        choices,
      )
    }
  }
  const assignment = assignShards(c, main.blobId.bytes, main.header.n)
  const deliveries: Delivery[] = []
  let mixed = 0
  const honest = honestDeliveries(main, base.committee)
  honest.forEach((d, position) => {
    // At least the last member is sent something of the rival's under the main header.
    const form = position === honest.length - 1 && mixed === 0 ? choices.int(1, 4) : choices.int(0, 4)
    if (form === 0) {
      deliveries.push(d)
      return
    }
    mixed++
    const shards = d.shards.map((s) => {
      const other = rival.shards[s.index] ?? rival.shards[s.index % rival.shards.length]!
      switch (form) {
        case 1: // the rival's row and proof
          return { index: s.index, data: other.data, proof: other.proof }
        case 2: // the rival's row, the main proof
          return { index: s.index, data: other.data, proof: s.proof }
        case 3: // the main row, the rival's proof
          return { index: s.index, data: s.data, proof: other.proof }
        default: // some rows of each
          return choices.chance(0.5) ? s : { index: s.index, data: other.data, proof: other.proof }
      }
    })
    deliveries.push({
      ...d,
      shards,
      expect: expectedStore(main.header, assignment.shardsOf(d.member), shards, shards.length),
    })
  })
  // The rival under its own header, to a random part of the committee: a sound store of another blob id.
  const rivalDeliveries = honestDeliveries(rival, base.committee)
  for (const d of choices.distinct(rivalDeliveries.length, choices.int(1, rivalDeliveries.length)))
    deliveries.push(rivalDeliveries[d]!)
  return {
    ...base,
    rival: { commitment: rival, verdict: verdictOf(rival) },
    deliveries,
    retrievals: [
      ...retrievalsOf('main', main, base.committee, choices, rival, RETRIEVALS_PER_CASE),
      ...retrievalsOf('rival', rival, base.committee, choices, main, 2),
    ],
  }
}

/**
 * One commitment of `strategy` to a random blob of `dataSize` bytes in `committee`'s shape, with its verdict: what a
 * test with real nodes disperses. `seed` fixes the blob's bytes and the rows hit.
 */
export function fuzzedCommitment(
  committee: Committee,
  dataSize: number,
  strategy: CommitmentStrategy,
  seed: number,
): { commitment: Commitment; verdict: Verdict } {
  const choices = new Choices(seed)
  const shape = committee.shapeFor(dataSize)
  const params = { networkId: committee.networkId, epoch: committee.epoch, k: shape.k, n: shape.n }
  const commitment = commit(choices.bytes(dataSize), params, strategy, choices)
  return { commitment, verdict: verdictOf(commitment) }
}
