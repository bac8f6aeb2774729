import type { BadEncodingEvidence } from './decode.ts'
import { ErasureErrorCode, erasureError } from './errors.ts'
import { type BlobHeader, decodeHeader, encodeHeader, HEADER_SIZE } from './header.ts'
import { HASH_SIZE, proofLength } from './merkle.ts'
import type { ShardWithProof } from './shard.ts'

/** Layout version of serialized BadEncoding evidence. */
export const EVIDENCE_VERSION = 1

/**
 * Serialized BadEncoding evidence, integers big-endian:
 *
 *   0       1            evidence version (= 1)
 *   1       65           blob header (version 1)
 *   66      4            m, the shard count (must equal k)
 *   70      ...          m entries, indices strictly increasing:
 *                          index u32 || shard (shardSize bytes) || proof (proofLength(index, n) * 32 bytes)
 *
 * Every length follows from the header, so nothing in the body is a free length field.
 */
export function encodeEvidence(header: BlobHeader, evidence: BadEncodingEvidence): Uint8Array {
  const shards = [...evidence.shards].sort((a, b) => a.index - b.index)
  let size = 1 + HEADER_SIZE + 4
  for (const s of shards) size += 4 + s.data.length + s.proof.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  out[0] = EVIDENCE_VERSION
  out.set(encodeHeader(header), 1)
  view.setUint32(1 + HEADER_SIZE, shards.length)
  let offset = 1 + HEADER_SIZE + 4
  for (const s of shards) {
    view.setUint32(offset, s.index)
    out.set(s.data, offset + 4)
    out.set(s.proof, offset + 4 + s.data.length)
    offset += 4 + s.data.length + s.proof.length
  }
  return out
}

export function decodeEvidence(bytes: Uint8Array): { header: BlobHeader; evidence: BadEncodingEvidence } {
  const invalid = (message: string) => erasureError(ErasureErrorCode.INVALID_EVIDENCE, message)
  if (!(bytes instanceof Uint8Array)) throw invalid('evidence is given as bytes')
  if (bytes.length < 1 + HEADER_SIZE + 4) throw invalid(`evidence of ${bytes.length} bytes is truncated`)
  if (bytes[0] !== EVIDENCE_VERSION) throw invalid(`unknown evidence version ${bytes[0]}`)
  let header: BlobHeader
  try {
    header = decodeHeader(bytes.subarray(1, 1 + HEADER_SIZE))
  } catch (err) {
    // Whatever is wrong in it, a header that does not decode makes the evidence invalid (PROTOCOL.md §1.6).
    throw invalid(`the evidence's header does not decode: ${(err as Error).message}`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = view.getUint32(1 + HEADER_SIZE)
  if (count !== header.k) throw invalid(`evidence holds ${count} shards, k is ${header.k}`)
  const shards: ShardWithProof[] = []
  let offset = 1 + HEADER_SIZE + 4
  let previous = -1
  for (let j = 0; j < count; j++) {
    if (offset + 4 > bytes.length) throw invalid('evidence is truncated')
    const index = view.getUint32(offset)
    if (index <= previous || index >= header.n) throw invalid(`shard index ${index} out of order or range`)
    const proofSize = proofLength(index, header.n) * HASH_SIZE
    const end = offset + 4 + header.shardSize + proofSize
    if (end > bytes.length) throw invalid('evidence is truncated')
    shards.push({
      index,
      data: new Uint8Array(bytes.subarray(offset + 4, offset + 4 + header.shardSize)),
      proof: new Uint8Array(bytes.subarray(offset + 4 + header.shardSize, end)),
    })
    previous = index
    offset = end
  }
  if (offset !== bytes.length) throw invalid(`${bytes.length - offset} trailing bytes after the evidence`)
  return { header, evidence: { shards } }
}
