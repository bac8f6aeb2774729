/**
 * The committee summary of PROTOCOL §4.3: the 196 bytes whose keccak-256 the registry keeps for every
 * committee record, and against which the verifier checks an on-chain certificate's witness.
 *
 *   offset size field
 *   0      4    member count m       u32
 *   4      32   total stake S        u256
 *   36     32   members root
 *   68     96   aggregate key        x ‖ y of the sum of every member's key; zeros for infinity
 *   164    32   thresholds           q.num ‖ q.den ‖ f.num ‖ f.den, u64 each, in lowest terms (0 is 0/1)
 */
import { keccak256 } from 'viem/utils'
import { PUBLIC_KEY_COORDINATES_SIZE, publicKeyCoordinates } from '../attest/bls.ts'
import { committeeKeys } from '../attest/committee-keys.ts'
import type { Committee } from '../committee/committee.ts'
import { type Fraction, fraction } from '../committee/fraction.ts'
import { ChainErrorCode, chainError } from './errors.ts'
import { HASH_SIZE, memberEntry, membersRoot } from './member-tree.ts'
import { FP_SIZE, uintFromBytes, uintToBytes } from './points.ts'

export const SUMMARY_SIZE = 4 + 32 + HASH_SIZE + PUBLIC_KEY_COORDINATES_SIZE + 4 * 8
const U64_MAX = 2n ** 64n - 1n

export interface CommitteeSummary {
  readonly memberCount: number
  readonly totalStake: bigint
  readonly membersRoot: Uint8Array
  /** x ‖ y of the sum of every member's key, 96 zero bytes for the point at infinity. */
  readonly aggregateKey: Uint8Array
  readonly threshold: Fraction
  readonly adversary: Fraction
}

/**
 * What the chain side derives from a committee once, kept per Committee object (which is immutable) and shared
 * by every caller: read it, never modify it.
 */
export interface CommitteeTree {
  /** Member i's 128-byte entry x ‖ y ‖ stake. */
  readonly entries: readonly Uint8Array[]
  readonly leaves: readonly Uint8Array[]
  readonly summary: CommitteeSummary
  /** The encoded summary (196 bytes) and its keccak-256. */
  readonly summaryBytes: Uint8Array
  readonly summaryHash: Uint8Array
}

const cache = new WeakMap<Committee, CommitteeTree>()

/** The committee's tree and summary, computed on first use (a key decompression and a hash per member). */
export function committeeTree(committee: Committee): CommitteeTree {
  let tree = cache.get(committee)
  if (!tree) {
    tree = buildTree(committee)
    cache.set(committee, tree)
  }
  return tree
}

/** The committee's 196-byte summary. */
export function committeeSummary(committee: Committee): Uint8Array {
  return committeeTree(committee).summaryBytes.slice()
}

/** keccak256(summary): what the registry stores for a committee record. */
export function summaryHash(summary: Uint8Array): Uint8Array {
  return keccak256(summary, 'bytes')
}

export function encodeCommitteeSummary(summary: CommitteeSummary): Uint8Array {
  const out = new Uint8Array(SUMMARY_SIZE)
  const view = new DataView(out.buffer)
  view.setUint32(0, summary.memberCount)
  out.set(uintToBytes(summary.totalStake, 32), 4)
  out.set(summary.membersRoot, 36)
  out.set(summary.aggregateKey, 68)
  const fields = [summary.threshold.num, summary.threshold.den, summary.adversary.num, summary.adversary.den]
  if (fields.some((v) => v < 0n || v > U64_MAX)) {
    throw chainError(ChainErrorCode.UNREPRESENTABLE_COMMITTEE, 'summary thresholds are u64 numerators and denominators')
  }
  for (const [i, v] of fields.entries()) view.setBigUint64(164 + 8 * i, v)
  return out
}

/** Reads the fields of any 196 bytes; meaning comes from the hash a registry record holds, not from checks here. */
export function decodeCommitteeSummary(bytes: Uint8Array): CommitteeSummary {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SUMMARY_SIZE) {
    throw chainError(ChainErrorCode.MALFORMED_ONCHAIN_CERTIFICATE, `a committee summary is ${SUMMARY_SIZE} bytes`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const u64 = (i: number) => view.getBigUint64(164 + 8 * i)
  return {
    memberCount: view.getUint32(0),
    totalStake: uintFromBytes(bytes.subarray(4, 36)),
    membersRoot: bytes.slice(36, 68),
    aggregateKey: bytes.slice(68, 164),
    threshold: { num: u64(0), den: u64(1) },
    adversary: { num: u64(2), den: u64(3) },
  }
}

function buildTree(committee: Committee): CommitteeTree {
  const keys = committeeKeys(committee)
  const entries = committee.members.map((member, i) => {
    const xy = publicKeyCoordinates(keys.publicKeys[i]!)
    return memberEntry(xy.subarray(0, FP_SIZE), xy.subarray(FP_SIZE), member.stake)
  })
  const leaves = entries.map((entry) => keccak256(entry, 'bytes'))
  const summary: CommitteeSummary = {
    memberCount: committee.size,
    totalStake: committee.totalStake,
    membersRoot: membersRoot(leaves),
    aggregateKey: publicKeyCoordinates(keys.all),
    threshold: fraction(committee.threshold.num, committee.threshold.den),
    adversary: fraction(committee.adversary.num, committee.adversary.den),
  }
  const summaryBytes = encodeCommitteeSummary(summary)
  return Object.freeze({
    entries: Object.freeze(entries),
    leaves: Object.freeze(leaves),
    summary: Object.freeze(summary),
    summaryBytes,
    summaryHash: summaryHash(summaryBytes),
  })
}
