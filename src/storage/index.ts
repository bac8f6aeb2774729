/** The shard store: what the node, the API and the CLI use. Everything else in src/storage is internal. */
export type { BlobIntake, IntakeCommitOptions, IntakeOptions } from './blob-intake.ts'
export { MAX_ATTESTATION_BYTES } from './blob-records.ts'
export { DEFAULT_MAX_LISTED } from './check.ts'
export type { CheckOptions, IncompleteBlob, IntegrityReport, ReportList } from './check-report.ts'
export { type CorruptEntry, CorruptionReason } from './corruption.ts'
export { StorageErrorCode } from './errors.ts'
export {
  DEFAULT_BLOCK_CACHE_BYTES,
  DEFAULT_HEADER_CACHE_ENTRIES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_PENDING_WRITES,
  DEFAULT_PRUNE_BATCH_ENTRIES,
  DEFAULT_PRUNE_INTERVAL_MS,
  DEFAULT_QUOTA_BYTES,
  DEFAULT_RETENTION_MS,
  DEFAULT_SYNC_READ_WINDOW_MS,
  DEFAULT_WRITE_BUFFER_BYTES,
  MAX_RETENTION_MS,
  type ShardStoreOptions,
  type SyncReads,
} from './options.ts'
export type { PruneProgress, PruneResult } from './pruner.ts'
export type { PutBlobOptions, PutBlobResult } from './put-blob.ts'
export { STORAGE_SCHEMA_VERSION } from './schema.ts'
export {
  type BlobInfo,
  checkShardStore,
  DEFAULT_LIST_BLOBS,
  MAX_LIST_BLOBS,
  ShardStore,
  type StoreStats,
} from './store.ts'
export type { Usage as StorageUsage } from './usage.ts'
