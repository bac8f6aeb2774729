/**
 * dacnet's public API: what a sequencer, a light client or an operator tool needs. Everything else is internal.
 */

export * from './attest/index.ts'
export * from './committee/index.ts'
export * from './erasure/index.ts'
export { DacnetError, isDacnetError, type SerializedError } from './errors.ts'
export {
  type BlobInfo,
  type CheckOptions,
  type CorruptEntry,
  CorruptionReason,
  checkShardStore,
  DEFAULT_QUOTA_BYTES,
  DEFAULT_RETENTION_MS,
  type IncompleteBlob,
  type IntegrityReport,
  MAX_ATTESTATION_BYTES,
  MAX_CERTIFICATE_BYTES,
  type PruneProgress,
  type PruneResult,
  type PutBlobOptions,
  type PutBlobResult,
  type ReportList,
  ShardStore,
  type ShardStoreOptions,
  STORAGE_SCHEMA_VERSION,
  StorageErrorCode,
  type StorageUsage,
  type StoreStats,
} from './storage/index.ts'
