import type { BlobId } from '../erasure/blob-id.ts'
import type { StoreCore } from './core.ts'
import { StorageErrorCode, storageError } from './errors.ts'

/** Refuses a write that would take the store past its quota, counting the batches still on their way to disk. */
export function checkQuota(core: StoreCore, addedBytes: number, blobId: BlobId): void {
  // Batches submitted and not yet on disk count: they are on their way.
  const bytes = core.usage.bytes + core.committer.pendingGrowth
  const max = core.opts.quotaBytes
  if (bytes + addedBytes > max) {
    throw storageError(
      StorageErrorCode.QUOTA_EXCEEDED,
      `storing ${addedBytes} bytes for blob ${blobId} would pass the quota: ${bytes} of ${max} bytes used`,
      { blobId: blobId.toString(), addedBytes, usedBytes: bytes, quotaBytes: max },
    )
  }
}
