import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bytesEqual } from '../../src/erasure/merkle.ts'
import { isDacnetError } from '../../src/errors.ts'
import { ShardStore, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, pick, range } from './fixtures/blobs.ts'
import { flipStoredShardByte } from './fixtures/raw-keys.ts'
import { tempDir } from './fixtures/temp.ts'

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  return (err as { code?: string } | undefined)?.code
}

function thrownCode(fn: () => void): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('a blob intake: shards stored as they arrive', () => {
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

  it('stores runs taken one after the other as one blob, counted as putBlob counts it', async () => {
    const blob = makeBlob({ k: 4, n: 16, dataSize: 5000 })
    const assigned = [2, 3, 5, 7, 8, 11, 12]
    const intake = await store.openIntake(blob.headerBytes, { expectedShards: assigned.length })
    intake.add(pick(blob, [2, 3]))
    intake.add(pick(blob, [5]))
    // Nothing is visible before the commit.
    expect(await store.hasBlob(blob.blobId)).toBe(false)
    expect(await store.listShardIndices(blob.blobId)).toEqual([])
    intake.add(pick(blob, [7, 8, 11, 12]))
    const attestation = new Uint8Array(96).fill(7)
    const result = await intake.commit({ attestation })
    expect(result).toEqual({ blobId: blob.blobId, stored: true, added: 7, attestation })
    const all = await store.getAllShards(blob.blobId)
    expect(all.map((shard) => shard.index)).toEqual(assigned)
    for (const shard of all) expect(bytesEqual(shard.data, blob.shards[shard.index]!.data)).toBe(true)
    expect(bytesEqual((await store.getAttestation(blob.blobId))!, attestation)).toBe(true)

    // The same share through putBlob in a second store counts the same bytes.
    const { dir: otherDir, cleanup: otherCleanup } = await tempDir()
    const other = await ShardStore.open(otherDir, { backgroundPrune: false })
    try {
      await other.putBlob(blob.headerBytes, pick(blob, assigned), { attestation })
      const { bytes, blobs, shards } = other.stats()
      expect(store.stats()).toMatchObject({ bytes, blobs, shards })
    } finally {
      await other.close()
      await otherCleanup()
    }
    expect((await store.check()).ok).toBe(true)
  })

  it('refuses a run with a bad proof or a repeated index, and an aborted intake leaves nothing', async () => {
    const blob = makeBlob({ k: 4, n: 16, dataSize: 5000 })
    const before = store.stats()

    const forged = await store.openIntake(blob.headerBytes)
    forged.add(pick(blob, [0, 1]))
    const bad = pick(blob, [2, 3])
    bad[1] = { ...bad[1]!, data: bad[1]!.data.slice() }
    bad[1]!.data[0]! ^= 1
    expect(thrownCode(() => forged.add(bad))).toBe(StorageErrorCode.INVALID_PROOF)
    // Refused once, the intake takes nothing more and commits nothing.
    expect(thrownCode(() => forged.add(pick(blob, [4])))).toBe(StorageErrorCode.INTAKE_CLOSED)
    expect(await codeOf(forged.commit())).toBe(StorageErrorCode.INTAKE_CLOSED)

    const repeated = await store.openIntake(blob.headerBytes)
    repeated.add(pick(blob, [0, 1]))
    expect(thrownCode(() => repeated.add(pick(blob, [1])))).toBe(StorageErrorCode.INVALID_SHARD)

    const aborted = await store.openIntake(blob.headerBytes)
    aborted.add(pick(blob, [5, 6]))
    aborted.abort()
    aborted.abort()
    expect(await codeOf(aborted.commit())).toBe(StorageErrorCode.INTAKE_CLOSED)

    const empty = await store.openIntake(blob.headerBytes)
    expect(await codeOf(empty.commit())).toBe(StorageErrorCode.INVALID_SHARD)

    expect(await store.hasBlob(blob.blobId)).toBe(false)
    expect(await store.listShardIndices(blob.blobId)).toEqual([])
    expect(store.stats()).toMatchObject({ bytes: before.bytes, blobs: 0, shards: 0 })
    expect((await store.check()).ok).toBe(true)
  })

  it('refuses at opening what a store would refuse: a bad header, a count past n or past the quota', async () => {
    const blob = makeBlob({ k: 4, n: 16, dataSize: 5000 })
    expect(await codeOf(store.openIntake(blob.headerBytes.subarray(1)))).toBe(StorageErrorCode.INVALID_HEADER)
    expect(await codeOf(store.openIntake(blob.headerBytes, { expectedShards: 17 }))).toBe(
      StorageErrorCode.INVALID_SHARD,
    )
    const { dir: smallDir, cleanup: smallCleanup } = await tempDir()
    const small = await ShardStore.open(smallDir, { backgroundPrune: false, quotaBytes: 4096 })
    try {
      expect(await codeOf(small.openIntake(blob.headerBytes, { expectedShards: 8 }))).toBe(
        StorageErrorCode.QUOTA_EXCEEDED,
      )
    } finally {
      await small.close()
      await smallCleanup()
    }
  })

  it('adds only the shards missing from a blob already held, and a full re-store writes nothing', async () => {
    const blob = makeBlob({ k: 4, n: 16, dataSize: 5000 })
    await store.putBlob(blob.headerBytes, pick(blob, [1, 2, 3]))
    const again = await store.openIntake(blob.headerBytes)
    again.add(pick(blob, [1, 2, 3]))
    expect(await again.commit()).toMatchObject({ stored: false, added: 0 })

    const more = await store.openIntake(blob.headerBytes)
    more.add(pick(blob, [2, 3, 4, 9]))
    expect(await more.commit()).toMatchObject({ stored: true, added: 2 })
    expect(await store.listShardIndices(blob.blobId)).toEqual([1, 2, 3, 4, 9])
    expect(store.stats()).toMatchObject({ blobs: 1, shards: 5 })
    expect((await store.check()).ok).toBe(true)
  })

  it('answers a store of the same blob committed meanwhile: attests when it holds every shard, else refuses retryably', async () => {
    let now = 1_000_000
    const { dir: clockedDir, cleanup: clockedCleanup } = await tempDir()
    const clocked = await ShardStore.open(clockedDir, { backgroundPrune: false, now: () => now })
    try {
      const blob = makeBlob({ k: 4, n: 16, dataSize: 5000 })
      const attestation = new Uint8Array(96).fill(3)
      // Three intakes of a blob not held yet, opened a millisecond apart: each keys its shards under its own expiry,
      // so the first to commit fixes where the blob's shards are and the others cannot join them.
      const first = await clocked.openIntake(blob.headerBytes)
      now += 1
      const covered = await clocked.openIntake(blob.headerBytes)
      now += 1
      const wider = await clocked.openIntake(blob.headerBytes)
      first.add(pick(blob, range(0, 6)))
      covered.add(pick(blob, [1, 2]))
      wider.add(pick(blob, [5, 6]))
      expect(await first.commit({ attestation })).toMatchObject({ stored: true, added: 6 })
      expect(await covered.commit({ attestation })).toEqual({
        blobId: blob.blobId,
        stored: false,
        added: 0,
        attestation,
      })
      const err = await wider.commit({ attestation }).catch((e: unknown) => e)
      expect(isDacnetError(err, StorageErrorCode.CONCURRENT_STORE)).toBe(true)
      // Sent again, the wider store adds its missing shard to the blob as stored.
      const retry = await clocked.openIntake(blob.headerBytes)
      retry.add(pick(blob, [5, 6]))
      expect(await retry.commit({ attestation })).toMatchObject({ stored: true, added: 1 })
      expect(await clocked.listShardIndices(blob.blobId)).toEqual(range(0, 7))
      expect(clocked.stats()).toMatchObject({ blobs: 1, shards: 7 })
      expect((await clocked.check()).ok).toBe(true)
    } finally {
      await clocked.close()
      await clockedCleanup()
    }
  })

  it('writes again a held shard quarantined between its opening and its commit: never an attestation without it', async () => {
    const blob = makeBlob({ k: 4, n: 16, dataSize: 5000 })
    const attestation = new Uint8Array(96).fill(5)
    await store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]), { attestation })
    // Shard 1's bytes rot on disk.
    await store.close()
    await flipStoredShardByte(dir, blob.blobId, 1, 10)
    store = await ShardStore.open(dir, { backgroundPrune: false })

    for (const given of [
      [0, 1, 2],
      [0, 1, 2, 3],
    ]) {
      const intake = await store.openIntake(blob.headerBytes)
      intake.add(pick(blob, given))
      // A read finds shard 1 damaged and quarantines it before the intake commits.
      if (given.length === 3) expect(await codeOf(store.getShard(blob.blobId, 1))).toBe(StorageErrorCode.CORRUPT_ENTRY)
      const result = await intake.commit({ attestation })
      expect(result.attestation).toEqual(attestation)
      expect(await store.listShardIndices(blob.blobId)).toEqual(given)
    }
    const shard = await store.getShard(blob.blobId, 1)
    expect(bytesEqual(shard!.data, blob.shards[1]!.data)).toBe(true)
    expect(store.stats()).toMatchObject({ blobs: 1, shards: 4, quarantined: 0 })
    expect((await store.check()).ok).toBe(true)
  })

  it('refuses once the store is closed', async () => {
    const blob = makeBlob({ k: 4, n: 16, dataSize: 5000 })
    const { dir: otherDir, cleanup: otherCleanup } = await tempDir()
    const other = await ShardStore.open(otherDir, { backgroundPrune: false })
    const intake = await other.openIntake(blob.headerBytes)
    intake.add(pick(blob, [0]))
    await other.close()
    expect(thrownCode(() => intake.add(pick(blob, [1])))).toBe(StorageErrorCode.CLOSED)
    expect(await codeOf(intake.commit())).toBe(StorageErrorCode.INTAKE_CLOSED)
    await otherCleanup()
  })
})
