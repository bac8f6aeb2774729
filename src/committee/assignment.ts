import { createHash } from 'node:crypto'
import { CommitteeErrorCode, committeeError } from './errors.ts'
import { MAX_TOTAL_SHARDS } from './params.ts'

/** Bytes in a blob id: a CIDv1 (raw, sha2-256), as the erasure layer defines it. */
export const BLOB_ID_SIZE = 36
/** Domain tag of the assignment hash, so that it can never coincide with any other hash dacnet computes. */
export const ASSIGNMENT_TAG = new TextEncoder().encode('dacnet/assignment/v1')

/** The parts of a Committee that the assignment reads. */
export interface AssignmentCommittee {
  readonly epoch: number
  readonly members: readonly { readonly publicKey: Uint8Array; readonly stake: bigint }[]
  readonly totalStake: bigint
}

/**
 * Which member holds which shard of one blob: member -> a contiguous, sorted run of shard indices, and
 * shard index -> member index. Computed by `assignShards`; any party with the committee file, the blob id and
 * the blob's n (from its header) computes the same one.
 */
export class Assignment {
  readonly epoch: number
  readonly blobId: Uint8Array
  /** The blob's shard count, from its header. */
  readonly n: number
  /** Shard count of each member, by member index. Sums to n. */
  readonly counts: readonly number[]
  /** First shard index of each member's run, by member index. */
  readonly starts: readonly number[]
  /** Member indices in run order (ascending assignment hash). */
  readonly order: readonly number[]
  readonly #ends: Uint32Array

  constructor(epoch: number, blobId: Uint8Array, n: number, counts: number[], order: number[]) {
    this.epoch = epoch
    this.blobId = blobId
    this.n = n
    this.counts = Object.freeze(counts)
    this.order = Object.freeze(order)
    const starts = new Array<number>(counts.length).fill(0)
    this.#ends = new Uint32Array(order.length)
    let next = 0
    order.forEach((member, position) => {
      starts[member] = next
      next += counts[member]!
      this.#ends[position] = next
    })
    this.starts = Object.freeze(starts)
  }

  /** Sorted shard indices held by a member. */
  shardsOf(memberIndex: number): number[] {
    const count = this.counts[memberIndex]
    if (count === undefined) {
      throw committeeError(CommitteeErrorCode.INDEX_OUT_OF_RANGE, `no member ${memberIndex}`, { memberIndex })
    }
    const start = this.starts[memberIndex]!
    return Array.from({ length: count }, (_, i) => start + i)
  }

  /**
   * The members that announce this blob in the DHT (PROTOCOL.md §3.7): the first `count` members in run order
   * that hold at least one shard. One provider record is enough to find a holder and so the header, from which
   * the whole assignment follows; a few guard against an absent announcer. Per blob, since the run order is.
   */
  announcers(count: number): number[] {
    return this.order.filter((member) => this.counts[member]! > 0).slice(0, Math.max(0, count))
  }

  /** The member index holding a shard. */
  holderOf(shardIndex: number): number {
    if (!Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex >= this.n) {
      throw committeeError(CommitteeErrorCode.INDEX_OUT_OF_RANGE, `shard ${shardIndex} is outside 0..${this.n - 1}`, {
        shardIndex,
      })
    }
    // First run whose end lies past the shard; members with no shards have empty runs and are skipped.
    let lo = 0
    let hi = this.#ends.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#ends[mid]! > shardIndex) hi = mid
      else lo = mid + 1
    }
    return this.order[lo]!
  }
}

/**
 * The stake-proportional assignment of a blob's n shards (PROTOCOL.md §2.4, with vectors). n is the blob's own,
 * from its header: the shape policy picks n per blob (§2.3), so the committee alone does not fix it.
 *
 * 1. h_i = SHA-256(ASSIGNMENT_TAG || blobId (36 bytes) || publicKey_i (48 bytes)).
 * 2. Counts by largest remainder: c_i = floor(n * s_i / S); the n - sum(c_i) leftover shards go one each
 *    to the members with the largest remainders (n * s_i mod S), equal remainders ordered by h_i ascending.
 * 3. Members sorted by h_i ascending take consecutive runs of shard indices from 0, each c_i long.
 *
 * The per-blob order spreads the original shards (indices < k) over different members blob by blob.
 */
export function assignShards(committee: AssignmentCommittee, blobId: Uint8Array, n: number): Assignment {
  if (!Number.isInteger(n) || n < 1 || n > MAX_TOTAL_SHARDS) {
    const why = `n = ${n} is not an integer in 1..${MAX_TOTAL_SHARDS}`
    throw committeeError(CommitteeErrorCode.INVALID_SHARD_COUNT, why, { n })
  }
  if (!(blobId instanceof Uint8Array) || blobId.length !== BLOB_ID_SIZE) {
    throw committeeError(CommitteeErrorCode.INVALID_BLOB_ID, `a blob id is ${BLOB_ID_SIZE} bytes`, {
      length: blobId?.length,
    })
  }
  const { members, totalStake } = committee
  const shards = BigInt(n)
  const hashes = members.map((m) => assignmentHash(blobId, m.publicKey))
  const counts = members.map((m) => Number((shards * m.stake) / totalStake))
  const remainders = members.map((m) => (shards * m.stake) % totalStake)
  let leftover = n - counts.reduce((a, b) => a + b, 0)
  const byRemainder = members.map((_, i) => i)
  byRemainder.sort((a, b) => {
    const ra = remainders[a]!
    const rb = remainders[b]!
    return ra > rb ? -1 : ra < rb ? 1 : compareBytes(hashes[a]!, hashes[b]!)
  })
  for (const i of byRemainder) {
    if (leftover === 0) break
    counts[i]! += 1
    leftover--
  }
  const order = members.map((_, i) => i).sort((a, b) => compareBytes(hashes[a]!, hashes[b]!))
  return new Assignment(committee.epoch, blobId.slice(), n, counts, order)
}

/** h_i of step 1: orders members for the runs and breaks remainder ties. */
export function assignmentHash(blobId: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(ASSIGNMENT_TAG).update(blobId).update(publicKey).digest())
}

/** Byte-wise order, then length (as Node's `Buffer.compare`, in plain JavaScript for the browser bundle too). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1
}
