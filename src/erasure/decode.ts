import { extendAndCommit } from './encode.ts'
import { ErasureErrorCode, erasureError } from './errors.ts'
import { type BlobHeader, validateHeader } from './header.ts'
import { joinBlob, paddingIsZero } from './layout.ts'
import {
  bytesEqual,
  HASH_SIZE,
  leafHash,
  type ProofItem,
  proofLength,
  rootFromProof,
  verifyMerkleProof,
  verifyProofBatch,
} from './merkle.ts'
import { DEFAULT_MAX_BLOB_SIZE, MAX_CODEWORD_FACTOR } from './params.ts'
import { rsDecode } from './rs/index.ts'
import { fitsChunkLayout } from './rs/rate.ts'
import type { ShardWithProof } from './shard.ts'

/** Why a shard offered to the decoder was set aside. */
export interface RejectedShard {
  index: number
  code: typeof ErasureErrorCode.INVALID_SHARD | typeof ErasureErrorCode.INVALID_PROOF
  reason: string
}

/** Why the committed shards are not an honest encoding of any blob. */
export type BadEncodingReason = 'root-mismatch' | 'nonzero-padding'

/**
 * Portable proof that a blob was encoded badly: k shards with valid proofs against the header's root whose
 * Reed–Solomon extension does not reproduce that root (or whose padding is not zero). Because the committed
 * shards are not a codeword, every choice of k valid shards shows this; anyone can re-check it.
 */
export interface BadEncodingEvidence {
  /** Exactly k shards with distinct indices, each with a valid proof. */
  shards: ShardWithProof[]
}

export type DecodeResult =
  | { kind: 'ok'; data: Uint8Array; used: number[]; rejected: RejectedShard[] }
  | { kind: 'bad-encoding'; reason: BadEncodingReason; evidence: BadEncodingEvidence; rejected: RejectedShard[] }

/** Checks one shard against the header; returns why it is unusable, or null if it is good. */
export function checkShard(header: BlobHeader, shard: ShardWithProof): RejectedShard | null {
  const problem = shapeProblem(header, shard)
  if (problem) return problem
  if (!verifyMerkleProof(header.root, shard.index, header.n, shard.data, shard.proof)) return badProof(shard.index)
  return null
}

/**
 * Sorts shards into good and set aside, as `checkShard` on each would, first with one batched proof check (the
 * shards of a holder's run share their upper path nodes, so k shards cost about k node hashes instead of
 * k log2 n); only when the batch fails is each proof checked alone, to name the bad ones. Of repeated indices the
 * first copy that holds is kept; indices already in `known` are skipped.
 */
export function checkShards(
  header: BlobHeader,
  shards: Iterable<ShardWithProof>,
  known?: ReadonlyMap<number, unknown>,
): CheckedShards {
  const candidates: { shard: ShardWithProof; at: number }[] = []
  const items: ProofItem[] = []
  const rejected: { problem: RejectedShard; at: number }[] = []
  let at = 0
  for (const shard of shards) {
    at++
    if (known?.has(shard.index)) continue
    const problem = shapeProblem(header, shard)
    if (problem) {
      rejected.push({ problem, at })
      continue
    }
    candidates.push({ shard, at })
    items.push({ index: shard.index, leaf: leafHash(shard.data), proof: shard.proof })
  }
  const leaves = new Map<number, Uint8Array>()
  // A batch with a repeated index fails too: the one-by-one path below keeps the first copy that holds.
  if (candidates.length > 0 && !verifyProofBatch(header.root, header.n, items)) {
    const valid = new Map<number, ShardWithProof>()
    candidates.forEach(({ shard, at }, i) => {
      if (valid.has(shard.index)) return
      const leaf = items[i]!.leaf
      if (!verifyLeafProof(header, shard, leaf)) {
        rejected.push({ problem: badProof(shard.index), at })
        return
      }
      valid.set(shard.index, shard)
      leaves.set(shard.index, leaf)
    })
    return { valid: [...valid.values()], rejected: inInputOrder(rejected), leaves }
  }
  for (const item of items) leaves.set(item.index, item.leaf)
  return { valid: candidates.map((c) => c.shard), rejected: inInputOrder(rejected), leaves }
}

/** What checkShards found: the good shards, those set aside, and the leaf hash of each good one by index. */
export interface CheckedShards {
  valid: ShardWithProof[]
  rejected: RejectedShard[]
  leaves: Map<number, Uint8Array>
}

function verifyLeafProof(header: BlobHeader, shard: ShardWithProof, leaf: Uint8Array): boolean {
  const root = rootFromProof(leaf, shard.index, header.n, shard.proof)
  return root !== null && bytesEqual(root, header.root)
}

function badProof(index: number): RejectedShard {
  return { index, code: ErasureErrorCode.INVALID_PROOF, reason: 'proof does not match the root' }
}

function inInputOrder(rejected: { problem: RejectedShard; at: number }[]): RejectedShard[] {
  return rejected.sort((a, b) => a.at - b.at).map((r) => r.problem)
}

/** What makes a shard unusable before its proof is looked at: its index, size or proof length. */
function shapeProblem(header: BlobHeader, shard: ShardWithProof): RejectedShard | null {
  const { index } = shard
  if (!Number.isInteger(index) || index < 0 || index >= header.n) {
    return { index, code: ErasureErrorCode.INVALID_SHARD, reason: `index outside 0..${header.n - 1}` }
  }
  if (!(shard.data instanceof Uint8Array) || shard.data.length !== header.shardSize) {
    return { index, code: ErasureErrorCode.INVALID_SHARD, reason: `size is not ${header.shardSize}` }
  }
  if (!(shard.proof instanceof Uint8Array) || shard.proof.length !== proofLength(index, header.n) * HASH_SIZE) {
    return { index, code: ErasureErrorCode.INVALID_PROOF, reason: 'proof does not match the root' }
  }
  return null
}

/**
 * Decodes a blob from shards with proofs. Shards with a bad size or proof are set aside (and reported);
 * of the rest, the k with the lowest indices are used, so original shards are preferred and the choice is
 * deterministic. The result is the blob's bytes, or a BadEncoding verdict with its evidence.
 */
export function decodeBlob(
  header: BlobHeader,
  shards: Iterable<ShardWithProof>,
  opts: DecodeOptions = {},
): DecodeResult {
  validateHeader(header)
  const beyond = beyondShapeLimits(header, opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE)
  if (beyond !== undefined) {
    throw erasureError(
      beyond.tooLarge ? ErasureErrorCode.BLOB_TOO_LARGE : ErasureErrorCode.HEADER_INVALID,
      beyond.message,
    )
  }
  const checked = checkShards(header, shards)
  const valid = new Map(checked.valid.map((s) => [s.index, s] as const))
  return decodeValid(header, valid, checked.leaves, checked.rejected)
}

/**
 * decodeBlob for shards whose proofs the caller has already checked against `header.root` (with checkShards), with
 * their leaf hashes: `leaves` holds 32 bytes per shard, in the order of `shards`. Nothing is checked or hashed
 * again but what the re-encoding produces. A wrong leaf gives a wrong verdict, so pass only checkShards' own.
 */
export function decodeCheckedBlob(
  header: BlobHeader,
  shards: readonly ShardWithProof[],
  leaves: Uint8Array,
): DecodeResult {
  const { valid, leafOf } = checkedShards(header, shards, leaves)
  return decodeValid(header, valid, leafOf, [])
}

/**
 * Decodes a blob from shards whose proofs were not checked, trusting the root alone: the k lowest indices of those
 * of the right shape are decoded and re-encoded, and the blob comes back only if the re-encoding's leaves hash up to
 * the header's root and its padding is zero. That vouches for every shard at once, for one leaf hash per shard in
 * place of a proof check. Null otherwise: a shard was not the committed one, or the commitment is no honest encoding,
 * and only shards with checked proofs tell which (decodeBlob, with its evidence). ERASURE_NOT_ENOUGH_SHARDS with
 * fewer than k of the right shape.
 */
export function decodeUnchecked(header: BlobHeader, shards: Iterable<ShardWithProof>): Uint8Array | null {
  const selected = uncheckedSelection(header, shards)
  const originals = recoverOriginals(header, selected)
  if (reencodeMismatch(header, selected, originals, new Map()) !== null) return null
  return joinBlob(originals, header.dataSize)
}

/**
 * The k shards decodeUnchecked decodes: of the first copy of each index, those of the right size and proof length,
 * the k lowest indices in order. ERASURE_NOT_ENOUGH_SHARDS with fewer.
 */
export function uncheckedSelection(header: BlobHeader, shards: Iterable<ShardWithProof>): ShardWithProof[] {
  validateHeader(header)
  const usable = new Map<number, ShardWithProof>()
  let rejected = 0
  for (const shard of shards) {
    if (usable.has(shard.index)) continue
    if (shapeProblem(header, shard) === null) usable.set(shard.index, shard)
    else rejected++
  }
  return chooseShards(header, usable, rejected).map((index) => usable.get(index)!)
}

/** Whether `shard` has the index range, size and proof length `header` gives its shards (proof not looked at). */
export function hasShardShape(header: BlobHeader, shard: ShardWithProof): boolean {
  return shapeProblem(header, shard) === null
}

/**
 * decodeCheckedBlob's inputs by index: the first copy of each index, and its leaf hash (a view of `leaves`).
 * Throws what decodeCheckedBlob throws for a bad header or a `leaves` of the wrong length.
 */
export function checkedShards(
  header: BlobHeader,
  shards: readonly ShardWithProof[],
  leaves: Uint8Array,
): { valid: Map<number, ShardWithProof>; leafOf: Map<number, Uint8Array> } {
  validateHeader(header)
  if (leaves.length !== shards.length * HASH_SIZE) {
    throw erasureError(
      ErasureErrorCode.INVALID_SHARD,
      `${shards.length} shards need ${shards.length * HASH_SIZE} bytes of leaf hashes, got ${leaves.length}`,
    )
  }
  // Of repeated indices the first copy counts, as in checkShards.
  const valid = new Map<number, ShardWithProof>()
  const leafOf = new Map<number, Uint8Array>()
  shards.forEach((shard, i) => {
    if (valid.has(shard.index)) return
    valid.set(shard.index, shard)
    leafOf.set(shard.index, leaves.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))
  })
  return { valid, leafOf }
}

/**
 * The k lowest indices of the proven shards `valid`, in order: the shards a decoder uses (originals preferred, the
 * choice deterministic). ERASURE_NOT_ENOUGH_SHARDS with fewer than k.
 */
export function chooseShards(header: BlobHeader, valid: ReadonlyMap<number, unknown>, rejected = 0): number[] {
  if (valid.size < header.k) {
    throw erasureError(
      ErasureErrorCode.NOT_ENOUGH_SHARDS,
      `need ${header.k} shards with valid proofs, have ${valid.size}`,
      { needed: header.k, valid: valid.size, rejected },
    )
  }
  return [...valid.keys()].sort((a, b) => a - b).slice(0, header.k)
}

/** The k lowest-indexed of the proven shards `valid`, decoded and re-encoded against the root. */
function decodeValid(
  header: BlobHeader,
  valid: ReadonlyMap<number, ShardWithProof>,
  leaves: ReadonlyMap<number, Uint8Array>,
  rejected: RejectedShard[],
): DecodeResult {
  const chosen = chooseShards(header, valid, rejected.length)
  const selected = chosen.map((i) => valid.get(i)!)
  const originals = recoverOriginals(header, selected)
  const reason = reencodeMismatch(header, selected, originals, leaves)
  if (reason !== null) return { kind: 'bad-encoding', reason, evidence: { shards: selected }, rejected }
  return { kind: 'ok', data: joinBlob(originals, header.dataSize), used: chosen, rejected }
}

/** Originals from k shards (no arithmetic if they are all originals already). */
function recoverOriginals(header: BlobHeader, selected: ShardWithProof[]): Uint8Array[] {
  if (selected.every((s) => s.index < header.k)) return selected.map((s) => s.data)
  const byIndex = new Map(selected.map((s) => [s.index, s.data] as const))
  return rsDecode(header.k, header.n - header.k, byIndex)
}

/**
 * Re-encodes the originals recovered from the k proven shards `selected`; returns why the commitment is not an
 * honest encoding, or null. `leaves`: leaf hashes of checked shards, by index. The re-encoding goes through the k
 * selected shards (decoding from k points gives the one codeword that holds them), so their leaves are not hashed
 * again; every other leaf is, whatever `leaves` holds for it: a shard checked but not selected is exactly where a
 * commitment to a non-codeword differs from the re-encoding.
 */
function reencodeMismatch(
  header: BlobHeader,
  selected: readonly ShardWithProof[],
  originals: Uint8Array[],
  leaves: ReadonlyMap<number, Uint8Array>,
): BadEncodingReason | null {
  const known = new Map<number, Uint8Array>()
  for (const { index } of selected) {
    const leaf = leaves.get(index)
    if (leaf !== undefined) known.set(index, leaf)
  }
  const { tree } = extendAndCommit(originals, header.n, known)
  if (!bytesEqual(tree.root, header.root)) return 'root-mismatch'
  if (!paddingIsZero(originals, header.dataSize)) return 'nonzero-padding'
  return null
}

/**
 * Checks BadEncoding evidence and returns what it shows; throws ERASURE_INVALID_EVIDENCE if it shows
 * nothing (wrong count, duplicate indices, a bad proof, or shards that do re-encode to the root).
 */
export function checkBadEncoding(
  header: BlobHeader,
  evidence: BadEncodingEvidence,
  opts: EvidenceCheckOptions = {},
): BadEncodingReason {
  validateHeader(header)
  const invalid = (message: string, meta = {}) => erasureError(ErasureErrorCode.INVALID_EVIDENCE, message, meta)
  checkEvidenceShape(header, opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE)
  const shards = evidence?.shards
  if (!Array.isArray(shards) || shards.length !== header.k) {
    throw invalid(`evidence must hold exactly k = ${header.k} shards`)
  }
  const seen = new Set<number>()
  for (const shard of shards) {
    if (typeof shard !== 'object' || shard === null) throw invalid('every shard is an object { index, data, proof }')
    if (seen.has(shard.index)) throw invalid(`shard ${shard.index} appears twice`, { index: shard.index })
    seen.add(shard.index)
  }
  const { rejected, leaves } = checkShards(header, shards)
  const problem = rejected[0]
  if (problem) throw invalid(`shard ${problem.index}: ${problem.reason}`, { index: problem.index })
  const sorted = [...shards].sort((a, b) => a.index - b.index)
  const reason = reencodeMismatch(header, sorted, recoverOriginals(header, sorted), leaves)
  if (reason === null) throw invalid('the shards re-encode to the committed root: the encoding is good')
  return reason
}

/** Limits of an evidence check: what it is willing to re-encode. */
export interface EvidenceCheckOptions {
  /** The largest blob whose encoding is checked (default DEFAULT_MAX_BLOB_SIZE, 32 MiB). */
  maxBlobSize?: number
}

/** Limits of decodeBlob: what it is willing to decode and re-encode. */
export interface DecodeOptions {
  /** The largest blob decoded (default DEFAULT_MAX_BLOB_SIZE, 32 MiB); a larger one is ERASURE_BLOB_TOO_LARGE. */
  maxBlobSize?: number
}

/**
 * Refuses, before any hashing or decoding, evidence for a blob this checker does not take (beyondShapeLimits). The
 * evidence names its own header, so these bounds are all that keep a small file from making its checker allocate
 * and hash gigabytes.
 */
function checkEvidenceShape(header: BlobHeader, maxBlobSize: number): void {
  const beyond = beyondShapeLimits(header, maxBlobSize)
  if (beyond !== undefined) throw erasureError(ErasureErrorCode.INVALID_EVIDENCE, `evidence ${beyond.message}`)
}

/**
 * Why a header (valid as such) names a blob that a decoder or an evidence check does not take, or undefined: a blob
 * above `maxBlobSize` (`tooLarge`), a codeword above MAX_CODEWORD_FACTOR times that, or a shape the Reed–Solomon code
 * cannot encode (no certificate can name one: §2.3). Re-encoding builds the whole codeword, so without these bounds a
 * header of k = 1 and n = 65536 and one small shard would make it allocate and hash gigabytes.
 */
export function beyondShapeLimits(
  header: BlobHeader,
  maxBlobSize: number,
): { message: string; tooLarge: boolean } | undefined {
  if (header.dataSize > maxBlobSize) {
    return { message: `for a blob of ${header.dataSize} bytes, above the maximum of ${maxBlobSize}`, tooLarge: true }
  }
  const codeword = header.n * header.shardSize
  if (codeword > MAX_CODEWORD_FACTOR * maxBlobSize) {
    const message = `for a codeword of ${codeword} bytes (n = ${header.n}), above ${MAX_CODEWORD_FACTOR} times the maximum blob size`
    return { message, tooLarge: false }
  }
  if (!fitsChunkLayout(header.k, header.n - header.k)) {
    return {
      message: `for k = ${header.k}, n = ${header.n}: a shape the Reed–Solomon code cannot encode`,
      tooLarge: false,
    }
  }
  return undefined
}

/** True iff the evidence proves the blob behind `header` was badly encoded. */
export function verifyBadEncoding(
  header: BlobHeader,
  evidence: BadEncodingEvidence,
  opts: EvidenceCheckOptions = {},
): boolean {
  try {
    checkBadEncoding(header, evidence, opts)
    return true
  } catch (err) {
    if ((err as { code?: string }).code === ErasureErrorCode.INVALID_EVIDENCE) return false
    throw err
  }
}
