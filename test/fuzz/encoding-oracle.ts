/**
 * What a malicious case must come to, decided without the code under test: the verdict of a commitment's rows (a
 * set is a codeword iff re-encoding its k original rows gives its recovery rows; a codeword is its blob unless a
 * byte past dataSize is not zero), the code a member refuses a header with (read field by field from the layout
 * of PROTOCOL.md §1.4, in the order the member's checks run), and what a member does with a store (§3.3: count,
 * indices, sizes, then each proof on its own where the member checks them in a batch).
 */
import type { BlobId } from '../../src/erasure/blob-id.ts'
import type { BadEncodingReason } from '../../src/erasure/decode.ts'
import { type BlobHeader, HEADER_SIZE } from '../../src/erasure/header.ts'
import { verifyMerkleProof } from '../../src/erasure/merkle.ts'
import { rsEncode } from '../../src/erasure/rs/index.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { FUZZ_MAX_BLOB_SIZE, type FuzzCommittee } from './encoding-members.ts'

/** All n rows of one commitment, each with its valid proof. */
export interface Commitment {
  header: BlobHeader
  headerBytes: Uint8Array
  blobId: BlobId
  shards: ShardWithProof[]
}

/** What decoding any k valid rows of a commitment must give. */
export type Verdict = { kind: 'ok'; data: Uint8Array } | { kind: 'bad-encoding'; reason: BadEncodingReason }

/** What a member must do with a store: sign, or refuse with this code. */
export type ExpectedStore = { sign: true } | { sign: false; code: string; failing: number }

/**
 * What any k valid rows of the commitment decode to, decided without a decoder: the rows are a codeword iff the
 * extension of rows 0..k-1 is rows k..n-1; a codeword is the blob unless a byte past dataSize is not zero.
 */
export function verdictOf(c: Commitment): Verdict {
  const { k, n, dataSize, shardSize } = c.header
  const originals = c.shards.slice(0, k).map((s) => s.data)
  const recovery = rsEncode(originals, n - k)
  for (let j = 0; j < n - k; j++) {
    if (!Buffer.from(recovery[j]!).equals(Buffer.from(c.shards[k + j]!.data))) {
      return { kind: 'bad-encoding', reason: 'root-mismatch' }
    }
  }
  const joined = Buffer.concat(originals)
  if (joined.length !== k * shardSize) throw new Error('oracle: originals of the wrong size')
  if (joined.subarray(dataSize).some((b) => b !== 0)) return { kind: 'bad-encoding', reason: 'nonzero-padding' }
  return { kind: 'ok', data: new Uint8Array(joined.subarray(0, dataSize)) }
}

/** The header fields as raw integers (u64 as bigint), read without the decoder. */
export interface RawHeader {
  version: number
  networkId: number
  epoch: bigint
  dataSize: bigint
  k: number
  n: number
  shardSize: number
}

export function readRaw(bytes: Uint8Array): RawHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return {
    version: view.getUint8(0),
    networkId: view.getUint32(1),
    epoch: view.getBigUint64(5),
    dataSize: view.getBigUint64(13),
    k: view.getUint32(21),
    n: view.getUint32(25),
    shardSize: view.getUint32(29),
  }
}

export function writeRaw(bytes: Uint8Array, fields: Partial<RawHeader>): Uint8Array {
  const out = bytes.slice()
  const view = new DataView(out.buffer)
  if (fields.version !== undefined) view.setUint8(0, fields.version)
  if (fields.networkId !== undefined) view.setUint32(1, fields.networkId)
  if (fields.epoch !== undefined) view.setBigUint64(5, fields.epoch)
  if (fields.dataSize !== undefined) view.setBigUint64(13, fields.dataSize)
  if (fields.k !== undefined) view.setUint32(21, fields.k)
  if (fields.n !== undefined) view.setUint32(25, fields.n)
  if (fields.shardSize !== undefined) view.setUint32(29, fields.shardSize)
  return out
}

export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** §1.2's shard size, exactly, for any u64 size: the smallest multiple of 64 (at least 64) that fits. */
export function canonicalShardSize(dataSize: bigint, k: number): bigint {
  const perShard = (dataSize + BigInt(k) - 1n) / BigInt(k)
  const rounded = ((perShard + 63n) / 64n) * 64n
  return rounded < 64n ? 64n : rounded
}

/**
 * The code a member refuses these header bytes with, in the order its checks run (the store handler decodes the
 * header, PROTOCOL.md §1.4; `admit` checks the epoch, then the committee's network, the maximum size and the shape,
 * §3.3), or undefined for a header it takes. Written from the protocol, not from the decoder.
 */
export function expectedHeaderRefusal(bytes: Uint8Array, committee: FuzzCommittee): string | undefined {
  if (bytes.length === 0) return 'ERASURE_HEADER_TRUNCATED'
  if (bytes[0] !== 1) return 'ERASURE_HEADER_UNKNOWN_VERSION'
  if (bytes.length < HEADER_SIZE) return 'ERASURE_HEADER_TRUNCATED'
  if (bytes.length > HEADER_SIZE) return 'ERASURE_HEADER_INVALID'
  const h = readRaw(bytes)
  if (h.epoch > MAX_SAFE || h.dataSize > MAX_SAFE) return 'ERASURE_HEADER_INVALID'
  if (h.k < 1 || h.k > 65535 || h.n <= h.k || h.n > 65536) return 'ERASURE_HEADER_INVALID'
  if (BigInt(h.shardSize) !== canonicalShardSize(h.dataSize, h.k)) return 'ERASURE_HEADER_INVALID'
  const c = committee.committee
  if (Number(h.epoch) !== c.epoch) return 'NODE_STALE_EPOCH'
  if (h.networkId !== c.networkId) return 'NODE_HEADER_MISMATCH'
  if (h.dataSize > BigInt(FUZZ_MAX_BLOB_SIZE)) return 'NODE_HEADER_MISMATCH'
  const shape = c.shapeFor(Number(h.dataSize))
  if (h.k !== shape.k || h.n !== shape.n) return 'NODE_HEADER_MISMATCH'
  return undefined
}

/**
 * What a member must do with `shards` announced as `shardCount` under a sound header: the checks of §3.3 in their
 * order — the count, the indices against its assignment, each shard's size, each proof (one by one here; the
 * member checks them in a batch).
 */
export function expectedStore(
  header: BlobHeader,
  assigned: readonly number[],
  shards: readonly ShardWithProof[],
  shardCount: number,
): ExpectedStore {
  const failing = shards.filter(
    (s) =>
      !assigned.includes(s.index) ||
      s.data.length !== header.shardSize ||
      !verifyMerkleProof(header.root, s.index, header.n, s.data, s.proof),
  ).length
  const given = shards.map((s) => s.index).sort((a, b) => a - b)
  if (
    shardCount !== assigned.length ||
    given.length !== assigned.length ||
    given.some((index, i) => index !== assigned[i])
  ) {
    return { sign: false, code: 'NODE_WRONG_SHARDS', failing }
  }
  if (shards.some((s) => s.data.length !== header.shardSize))
    return { sign: false, code: 'STORAGE_INVALID_SHARD', failing }
  if (failing > 0) return { sign: false, code: 'STORAGE_INVALID_PROOF', failing }
  return { sign: true }
}
