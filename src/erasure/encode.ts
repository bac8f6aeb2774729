import { type BlobId, blobIdOf } from './blob-id.ts'
import { ErasureErrorCode, erasureError } from './errors.ts'
import { type BlobHeader, encodeHeader, HEADER_VERSION } from './header.ts'
import { checkBlobSize, shardSizeFor, splitBlob } from './layout.ts'
import { allProofs, buildMerkleTree, buildTreeFromLeaves, type MerkleTree } from './merkle.ts'
import { DEFAULT_MAX_BLOB_SIZE, MAX_TOTAL_SHARDS } from './params.ts'
import { rsEncode } from './rs/index.ts'

export interface EncodeParams {
  networkId: number
  epoch: number
  /** Original shard count; any k of the n shards give the blob back. */
  k: number
  /** Total shard count. */
  n: number
  /** Refuse blobs above this many bytes. Default DEFAULT_MAX_BLOB_SIZE (32 MiB). */
  maxBlobSize?: number
}

export interface EncodedBlob {
  header: BlobHeader
  headerBytes: Uint8Array
  blobId: BlobId
  /** All n shards, originals first. */
  shards: Uint8Array[]
  /** proofs[i] proves shards[i] against header.root. */
  proofs: Uint8Array[]
}

export function validateParams(params: EncodeParams): void {
  const { k, n, networkId, epoch } = params
  const bad = (message: string) => erasureError(ErasureErrorCode.INVALID_PARAMS, message, { k, n, networkId, epoch })
  if (!Number.isInteger(k) || k < 1) throw bad(`k must be a positive integer, got ${k}`)
  if (!Number.isInteger(n) || n <= k) throw bad(`n must be an integer above k = ${k}, got ${n}`)
  if (n > MAX_TOTAL_SHARDS) throw bad(`n = ${n} is above ${MAX_TOTAL_SHARDS}, the size of GF(2^16)`)
  if (!Number.isInteger(networkId) || networkId < 0 || networkId > 0xffff_ffff) throw bad('networkId must be a u32')
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw bad('epoch must be a non-negative safe integer')
}

/**
 * The original shards, their Reed–Solomon extension to n shards, and the Merkle tree over all of them.
 * `knownLeaves`: leaf hashes already computed of shards the extension reproduces byte for byte (see
 * buildMerkleTree).
 */
export function extendAndCommit(
  originals: Uint8Array[],
  n: number,
  knownLeaves?: ReadonlyMap<number, Uint8Array>,
): { shards: Uint8Array[]; tree: MerkleTree } {
  const shards = originals.concat(rsEncode(originals, n - originals.length))
  return { shards, tree: buildMerkleTree(shards, knownLeaves) }
}

/**
 * Encodes a blob: header, the n shards and a proof for each. Synchronous and CPU-bound; see ErasurePool.
 * The original shards are views of `data` where they can be (see splitBlob): leave `data` unchanged while
 * using the result.
 */
export function encodeBlob(data: Uint8Array, params: EncodeParams): EncodedBlob {
  if (!(data instanceof Uint8Array)) throw erasureError(ErasureErrorCode.INVALID_PARAMS, 'blob must be a Uint8Array')
  validateParams(params)
  checkBlobSize(data.length, params.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE)
  const { shards, tree } = extendAndCommit(splitBlob(data, params.k), params.n)
  return assembleBlob(data.length, params, shards, tree)
}

/** The header, blob id and proofs for n committed shards of a blob of `dataSize` bytes. */
export function assembleBlob(
  dataSize: number,
  params: EncodeParams,
  shards: Uint8Array[],
  tree: MerkleTree,
): EncodedBlob {
  const committed = commitTree(dataSize, params, tree)
  return { ...committed, blobId: blobIdOf(committed.headerBytes), shards }
}

/** What the tree over a blob's n shards commits to: its header (and bytes) and every shard's proof. */
export interface CommittedBlob {
  header: BlobHeader
  headerBytes: Uint8Array
  /** proofs[i] proves shard i against header.root (views of one buffer). */
  proofs: Uint8Array[]
}

/** commitTree for the tree over `leaves` (n leaf hashes, 32 bytes each, in shard order). */
export function commitLeaves(
  dataSize: number,
  params: EncodeParams,
  leaves: Uint8Array,
  arena?: ArrayBuffer,
): CommittedBlob {
  return commitTree(dataSize, params, buildTreeFromLeaves(leaves), arena)
}

function commitTree(dataSize: number, params: EncodeParams, tree: MerkleTree, arena?: ArrayBuffer): CommittedBlob {
  const header: BlobHeader = {
    version: HEADER_VERSION,
    networkId: params.networkId,
    epoch: params.epoch,
    dataSize,
    k: params.k,
    n: params.n,
    shardSize: shardSizeFor(dataSize, params.k),
    root: tree.root,
  }
  const headerBytes = encodeHeader(header)
  // One buffer for every proof: handed from a worker thread it is one transfer, not n small clones.
  const proofs = allProofs(tree, arena)
  return { header, headerBytes, proofs }
}
