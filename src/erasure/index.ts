export { BLOB_ID_SIZE, type BlobId, blobIdEquals, blobIdOf, parseBlobId } from './blob-id.ts'
export {
  type BadEncodingEvidence,
  type BadEncodingReason,
  checkBadEncoding,
  checkShard,
  type DecodeOptions,
  type DecodeResult,
  decodeBlob,
  type EvidenceCheckOptions,
  type RejectedShard,
  verifyBadEncoding,
} from './decode.ts'
export { type EncodedBlob, type EncodeParams, encodeBlob, validateParams } from './encode.ts'
export { ErasureErrorCode } from './errors.ts'
export { decodeEvidence, EVIDENCE_VERSION, encodeEvidence } from './evidence.ts'
export { type BlobHeader, decodeHeader, encodeHeader, HEADER_SIZE, HEADER_VERSION, validateHeader } from './header.ts'
export { checkBlobSize, joinBlob, shardSizeFor, splitBlob } from './layout.ts'
export {
  buildMerkleTree,
  HASH_SIZE,
  type MerkleTree,
  merkleProof,
  proofLength,
  verifyMerkleProof,
} from './merkle.ts'
export { DEFAULT_MAX_BLOB_SIZE, MAX_TOTAL_SHARDS, SHARD_ALIGNMENT } from './params.ts'
export { DEFAULT_POOL_SIZE, ErasurePool, type ErasurePoolOptions } from './pool.ts'
export { rsDecode, rsEncode } from './rs/index.ts'
export type { ShardWithProof } from './shard.ts'
