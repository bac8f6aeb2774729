import { ErasureErrorCode, erasureError } from './errors.ts'
import { shardSizeFor } from './layout.ts'
import { MAX_TOTAL_SHARDS } from './params.ts'

/** The only header layout so far. A new layout gets a new version byte; old ones stay decodable. */
export const HEADER_VERSION = 1
/** Bytes in a version-1 header: 1 + 4 + 8 + 8 + 4 + 4 + 4 + 32. */
export const HEADER_SIZE = 65
/** Size of the commitment root (SHA-256). */
export const ROOT_SIZE = 32

/**
 * What a certificate commits to: how the blob was encoded and the Merkle root over its n shards.
 * The BlobId is the CID of the canonical header bytes, so two headers that differ in any field are two blobs.
 */
export interface BlobHeader {
  version: number
  /** Network the blob belongs to (u32); part of every signed message. */
  networkId: number
  /** Committee epoch the blob was dispersed under (u64, at most 2^53 - 1 here). */
  epoch: number
  /** Exact blob size in bytes before padding (u64, at most 2^53 - 1 here). */
  dataSize: number
  /** Original (data) shard count k. */
  k: number
  /** Total shard count n = k + recovery count. */
  n: number
  /** Bytes per shard: a multiple of 64, the smallest that fits dataSize in k shards. */
  shardSize: number
  /** SHA-256 Merkle root over the n shards. */
  root: Uint8Array
}

/**
 * Version-1 layout, all integers big-endian:
 *
 *   offset size field
 *   0      1    version (= 1)
 *   1      4    networkId  u32
 *   5      8    epoch      u64
 *   13     8    dataSize   u64
 *   21     4    k          u32
 *   25     4    n          u32
 *   29     4    shardSize  u32
 *   33     32   root
 */
export function encodeHeader(header: BlobHeader): Uint8Array {
  validateHeader(header)
  const out = new Uint8Array(HEADER_SIZE)
  const view = new DataView(out.buffer)
  view.setUint8(0, header.version)
  view.setUint32(1, header.networkId)
  view.setBigUint64(5, BigInt(header.epoch))
  view.setBigUint64(13, BigInt(header.dataSize))
  view.setUint32(21, header.k)
  view.setUint32(25, header.n)
  view.setUint32(29, header.shardSize)
  out.set(header.root, 33)
  return out
}

/** Decodes and validates header bytes; anything but exactly one canonical version-1 header is refused. */
export function decodeHeader(bytes: Uint8Array): BlobHeader {
  if (!(bytes instanceof Uint8Array)) {
    throw erasureError(ErasureErrorCode.HEADER_INVALID, 'header must be a Uint8Array')
  }
  if (bytes.length < 1) throw erasureError(ErasureErrorCode.HEADER_TRUNCATED, 'header is empty', { length: 0 })
  const version = bytes[0]!
  if (version !== HEADER_VERSION) {
    throw erasureError(ErasureErrorCode.HEADER_UNKNOWN_VERSION, `unknown blob header version ${version}`, { version })
  }
  if (bytes.length < HEADER_SIZE) {
    throw erasureError(
      ErasureErrorCode.HEADER_TRUNCATED,
      `header has ${bytes.length} bytes, version ${version} needs ${HEADER_SIZE}`,
      { length: bytes.length },
    )
  }
  if (bytes.length > HEADER_SIZE) {
    throw erasureError(
      ErasureErrorCode.HEADER_INVALID,
      `header has ${bytes.length} bytes, version ${version} has exactly ${HEADER_SIZE}`,
      { length: bytes.length },
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const header: BlobHeader = {
    version,
    networkId: view.getUint32(1),
    epoch: safeU64(view.getBigUint64(5), 'epoch'),
    dataSize: safeU64(view.getBigUint64(13), 'dataSize'),
    k: view.getUint32(21),
    n: view.getUint32(25),
    shardSize: view.getUint32(29),
    // A copy as a plain Uint8Array: `slice` on a Buffer would return a view sharing the caller's memory.
    root: new Uint8Array(bytes.subarray(33, 33 + ROOT_SIZE)),
  }
  validateHeader(header)
  return header
}

function safeU64(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw erasureError(ErasureErrorCode.HEADER_INVALID, `header ${field} ${value} is above 2^53 - 1`, { field })
  }
  return Number(value)
}

/** Checks every field's range and that the shard size is the canonical one for (dataSize, k). */
export function validateHeader(h: BlobHeader): void {
  const bad = (field: string, why: string) =>
    erasureError(ErasureErrorCode.HEADER_INVALID, `header ${field} ${why}`, { field })
  if (h.version !== HEADER_VERSION) {
    throw erasureError(ErasureErrorCode.HEADER_UNKNOWN_VERSION, `unknown blob header version ${h.version}`, {
      version: h.version,
    })
  }
  if (!isUint(h.networkId, 0xffff_ffff)) throw bad('networkId', 'must be a u32')
  if (!isUint(h.epoch, Number.MAX_SAFE_INTEGER)) throw bad('epoch', 'must be a non-negative safe integer')
  if (!isUint(h.dataSize, Number.MAX_SAFE_INTEGER)) throw bad('dataSize', 'must be a non-negative safe integer')
  if (!isUint(h.k, MAX_TOTAL_SHARDS - 1) || h.k < 1) throw bad('k', `must be in 1..${MAX_TOTAL_SHARDS - 1}`)
  if (!isUint(h.n, MAX_TOTAL_SHARDS) || h.n <= h.k) throw bad('n', `must be in k+1..${MAX_TOTAL_SHARDS}`)
  if (!isUint(h.shardSize, 0xffff_ffff) || h.shardSize !== shardSizeFor(h.dataSize, h.k)) {
    throw bad('shardSize', `must be ${shardSizeFor(h.dataSize, h.k)} for dataSize ${h.dataSize} and k ${h.k}`)
  }
  if (!(h.root instanceof Uint8Array) || h.root.length !== ROOT_SIZE) throw bad('root', `must be ${ROOT_SIZE} bytes`)
}

function isUint(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max
}
