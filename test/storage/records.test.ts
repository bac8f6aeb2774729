import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isDacnetError } from '../../src/errors.ts'
import { MAX_ATTESTATION_BYTES, ShardStore, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, pick } from './fixtures/blobs.ts'
import { storedShardKey } from './fixtures/raw-keys.ts'
import { openRaw, tempDir } from './fixtures/temp.ts'

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => (isDacnetError(e) ? e.code : String(e)),
  )
}

describe('attestations and certificates', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let store: ShardStore

  beforeEach(async () => {
    ;({ dir, cleanup } = await tempDir())
    store = await ShardStore.open(dir, { backgroundPrune: false })
  })
  afterEach(async () => {
    await store.close()
    await cleanup()
  })

  it('stores the own attestation only for a held blob, once', async () => {
    const blob = makeBlob()
    const sig = new Uint8Array(96).fill(1)
    expect(await codeOf(store.putAttestation(blob.blobId, sig))).toBe(StorageErrorCode.BLOB_NOT_HELD)
    await store.putBlob(blob.headerBytes, pick(blob, [2, 3]))
    expect(await store.putAttestation(blob.blobId, sig)).toEqual({ stored: true })
    expect(await store.putAttestation(blob.blobId, sig)).toEqual({ stored: false })
    expect(await codeOf(store.putAttestation(blob.blobId, new Uint8Array(96).fill(2)))).toBe(
      StorageErrorCode.ATTESTATION_CONFLICT,
    )
    expect(await store.getAttestation(blob.blobId)).toEqual(sig)
    expect(await codeOf(store.putAttestation(blob.blobId, new Uint8Array(0)))).toBe(StorageErrorCode.INVALID_RECORD)
    expect(await codeOf(store.putAttestation(blob.blobId, new Uint8Array(MAX_ATTESTATION_BYTES + 1)))).toBe(
      StorageErrorCode.INVALID_RECORD,
    )
  })

  /** A blob stored with shards 0, 1 and 2, then shard 1's entry deleted behind the store's back (reopened). */
  async function storedWithShardOneDeleted() {
    const blob = makeBlob()
    await store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]))
    await store.close()
    const raw = await openRaw(dir)
    await raw.del(await storedShardKey(raw, blob.blobId, 1))
    await raw.close()
    store = await ShardStore.open(dir, { backgroundPrune: false })
    return blob
  }

  it('refuses an attestation when a shard the record counts is missing', async () => {
    const blob = await storedWithShardOneDeleted()
    expect(await codeOf(store.putAttestation(blob.blobId, new Uint8Array(96)))).toBe(StorageErrorCode.BLOB_NOT_HELD)
  })

  it('writes the attestation in the same synced batch as the shards, and keeps the first one', async () => {
    const blob = makeBlob()
    const sig = new Uint8Array(96).fill(3)
    const first = await store.putBlob(blob.headerBytes, pick(blob, [0, 1]), { attestation: sig })
    expect(first).toMatchObject({ stored: true, added: 2, attestation: sig })
    expect(await store.getAttestation(blob.blobId)).toEqual(sig)
    // Again: nothing written, the stored attestation comes back; another one is a conflict.
    expect(await store.putBlob(blob.headerBytes, pick(blob, [0, 1]), { attestation: sig })).toMatchObject({
      stored: false,
      attestation: sig,
    })
    expect(await codeOf(store.putBlob(blob.headerBytes, pick(blob, [0, 1]), { attestation: new Uint8Array(96) }))).toBe(
      StorageErrorCode.ATTESTATION_CONFLICT,
    )
    // More shards of the same blob keep the first attestation.
    expect(await store.putBlob(blob.headerBytes, pick(blob, [2]), { attestation: sig })).toMatchObject({ added: 1 })
    expect(await store.getAttestation(blob.blobId)).toEqual(sig)
    // A held blob stored without one gets it from a later store of the same shards, on its own.
    const other = makeBlob()
    await store.putBlob(other.headerBytes, pick(other, [1]))
    expect(await store.getAttestation(other.blobId)).toBeUndefined()
    expect(await store.putBlob(other.headerBytes, pick(other, [1]), { attestation: sig })).toMatchObject({
      stored: false,
      attestation: sig,
    })
    expect(await store.getAttestation(other.blobId)).toEqual(sig)
    // The usage counters count it once, as a separate putAttestation would.
    const report = await store.check()
    expect(report.ok).toBe(true)
  })

  it('refuses an attestation in a store when a shard the record counts is missing', async () => {
    const blob = await storedWithShardOneDeleted()
    // Shard 1 is missing: a store of shards 0 and 2 alone must not attest.
    expect(await codeOf(store.putBlob(blob.headerBytes, pick(blob, [0, 2]), { attestation: new Uint8Array(96) }))).toBe(
      StorageErrorCode.BLOB_NOT_HELD,
    )
    expect(await store.getAttestation(blob.blobId)).toBeUndefined()
  })

  it('stores and replaces certificates of held blobs', async () => {
    const blob = makeBlob()
    expect(await codeOf(store.putCertificate(blob.blobId, new Uint8Array(10)))).toBe(StorageErrorCode.BLOB_NOT_HELD)
    await store.putBlob(blob.headerBytes, pick(blob, [0]))
    expect(await store.putCertificate(blob.blobId, new Uint8Array(100).fill(1))).toEqual({ stored: true })
    expect(await store.putCertificate(blob.blobId, new Uint8Array(100).fill(1))).toEqual({ stored: false })
    expect(await store.putCertificate(blob.blobId, new Uint8Array(120).fill(2))).toEqual({ stored: true })
    expect(await store.getCertificate(blob.blobId)).toEqual(new Uint8Array(120).fill(2))
    const report = await store.check()
    expect(report.certificates).toBe(1)
    expect(report.usage.consistent).toBe(true)
  })
})
