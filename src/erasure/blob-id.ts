import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { ErasureErrorCode, erasureError } from './errors.ts'

/** Multicodec `raw` (0x55): the CID names the header bytes themselves. */
export const BLOB_ID_CODEC = 0x55
/** Multihash `sha2-256` (0x12). */
export const BLOB_ID_HASH = 0x12
/** CIDv1 bytes: version 0x01, codec 0x55, multihash 0x12 0x20, then the 32-byte digest. */
export const BLOB_ID_SIZE = 36

/**
 * A blob's identity: CIDv1(raw, sha2-256(header bytes)). It doubles as the DHT key for provider records,
 * and its string form is the CID in base32 (`bafkrei...`).
 */
export type BlobId = CID<unknown, typeof BLOB_ID_CODEC, typeof BLOB_ID_HASH, 1>

export function blobIdOf(headerBytes: Uint8Array): BlobId {
  const digest = createHash('sha256').update(headerBytes).digest()
  return CID.createV1(BLOB_ID_CODEC, Digest.create(BLOB_ID_HASH, new Uint8Array(digest)))
}

/** Parses a blob id from its string form, its 36 CID bytes, or a CID; anything else is refused. */
export function parseBlobId(input: string | Uint8Array | CID): BlobId {
  let cid: CID
  try {
    if (typeof input === 'string') cid = CID.parse(input.trim())
    else if (input instanceof Uint8Array) cid = CID.decode(input)
    else {
      const asCid = CID.asCID(input)
      if (asCid === null) throw new Error('not a CID')
      cid = asCid
    }
  } catch (err) {
    throw erasureError(ErasureErrorCode.INVALID_BLOB_ID, `not a blob id: ${describe(input)}`, {
      reason: (err as Error).message,
    })
  }
  if (
    cid.version !== 1 ||
    cid.code !== BLOB_ID_CODEC ||
    cid.multihash.code !== BLOB_ID_HASH ||
    cid.multihash.digest.length !== 32
  ) {
    throw erasureError(ErasureErrorCode.INVALID_BLOB_ID, `not a blob id (need CIDv1 raw sha2-256): ${cid.toString()}`)
  }
  return cid as BlobId
}

export function blobIdEquals(a: BlobId, b: BlobId): boolean {
  return a.equals(b)
}

function describe(input: unknown): string {
  const text = typeof input === 'string' ? input : input instanceof Uint8Array ? `${input.length} bytes` : typeof input
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}
