/**
 * Commitments, and the two kinds of encoding case (encoding-cases.ts) made of them: `commitment` — consistent
 * commitments (every proof valid) to rows changed by a strategy of COMMITMENTS, sets that are not codewords and, as
 * controls, codewords — and `equivocation`, a second commitment for the same blob whose shards go to some members
 * under the first header and to others under its own. Also fuzzedCommitment, what a test with real nodes disperses.
 */
import { assignShards } from '../../src/committee/assignment.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { assembleBlob } from '../../src/erasure/encode.ts'
import { splitBlob } from '../../src/erasure/layout.ts'
import { buildMerkleTree } from '../../src/erasure/merkle.ts'
import { rsEncode } from '../../src/erasure/rs/index.ts'
import {
  blobData,
  type CasePlan,
  Choices,
  COMMITMENTS,
  type CommitmentStrategy,
  type Delivery,
  honestDeliveries,
  type MaliciousCase,
  RETRIEVALS_PER_CASE,
  retrievalsOf,
} from './cases-shared.ts'
import { FUZZ_MAX_BLOB_SIZE } from './encoding-members.ts'
import { type Commitment, expectedStore, type Verdict, verdictOf } from './encoding-oracle.ts'

/** What the second commitment of an equivocating sequencer is. */
export const EQUIVOCATIONS = ['other-data', 'other-encoding', 'other-size'] as const

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

/**
 * A second commitment for the same blob: other bytes of the same size, the same bytes encoded another way, or
 * bytes of another size. Members get the first commitment's rows, the second's rows (with their own proofs or the
 * first's), or a mix, all under the first header; some get the second commitment under its own header, which is
 * another blob id and is theirs to sign.
 */
export function equivocationCase(
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
