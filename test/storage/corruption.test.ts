import { randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isDacnetError } from '../../src/errors.ts'
import { type CorruptEntry, ShardStore, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, pick, range, type TestBlob } from './fixtures/blobs.ts'
import { attestationKey, blobRecordKey, flipStoredShardByte, storedShardKey } from './fixtures/raw-keys.ts'
import { compactAll, manualClock, openRaw, tempDir } from './fixtures/temp.ts'

async function caught(promise: Promise<unknown>): Promise<{ code: string; meta: Record<string, unknown> }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isDacnetError(err)) throw new Error(`expected a DacnetError, got ${String(err)}`)
  return err
}

describe.each([false, true, 'recent'] as const)('corruption (syncReads: %s)', (syncReads) => {
  let dir: string
  let cleanup: () => Promise<void>
  let store: ShardStore
  let reported: CorruptEntry[]
  const open = () =>
    ShardStore.open(dir, { backgroundPrune: false, syncReads, onCorruptEntry: (entry) => reported.push(entry) })

  /** Closes the store, lets `tamper` edit the raw database, and reopens the store. */
  async function tamper(edit: (raw: Awaited<ReturnType<typeof openRaw>>) => Promise<void>): Promise<void> {
    await store.close()
    const raw = await openRaw(dir)
    await edit(raw)
    await raw.close()
    store = await open()
  }

  async function flipValueByte(blob: TestBlob, index: number, offset: number): Promise<void> {
    await store.close()
    await flipStoredShardByte(dir, blob.blobId, index, offset)
    store = await open()
  }

  beforeEach(async () => {
    ;({ dir, cleanup } = await tempDir())
    reported = []
    store = await open()
  })
  afterEach(async () => {
    await store.close()
    await cleanup()
  })

  it('never serves a shard whose bytes changed: reports, counts, quarantines; a new store repairs it', async () => {
    const blob = makeBlob({ k: 4, n: 8, dataSize: 2048 })
    await store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]))
    await store.putAttestation(blob.blobId, new Uint8Array(96))
    await flipValueByte(blob, 1, 10)

    const err = await caught(store.getShard(blob.blobId, 1))
    expect(err.code).toBe(StorageErrorCode.CORRUPT_ENTRY)
    expect(err.meta).toMatchObject({ bucket: 'shard', index: 1, reason: 'proof', blobId: blob.blobId.toString() })
    expect(reported).toHaveLength(1)
    expect(store.stats()).toMatchObject({ corruptDetected: 1, quarantined: 1, shards: 2 })
    expect(await store.getShard(blob.blobId, 1)).toBeUndefined()
    expect((await store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual([0, 2])

    const report = await store.check()
    expect(report).toMatchObject({ ok: true, quarantined: 1, shards: 2 })
    expect(report.corrupt.count).toBe(0)
    // A quarantined shard is explained damage, not a durability failure.
    expect(report.attestedMissingShards.count).toBe(0)

    expect(await store.putBlob(blob.headerBytes, pick(blob, [1]))).toMatchObject({ stored: true, added: 1 })
    expect((await store.getShard(blob.blobId, 1))?.index).toBe(1)
    expect((await store.check()).usage.consistent).toBe(true)
  })

  it('refuses values of the wrong length, and batch reads quarantine every bad entry at once', async () => {
    const blob = makeBlob({ k: 4, n: 8, dataSize: 2048 })
    await store.putBlob(blob.headerBytes, pick(blob, range(0, 6)))
    await tamper(async (raw) => {
      const two = await storedShardKey(raw, blob.blobId, 2)
      const value = (await raw.get(two))!
      await raw.put(two, value.subarray(0, value.length - 1))
      await raw.put(await storedShardKey(raw, blob.blobId, 4), new Uint8Array(value.length))
    })
    const err = await caught(store.getShards(blob.blobId, [0, 2, 3, 4]))
    expect(err.code).toBe(StorageErrorCode.CORRUPT_ENTRY)
    expect(err.meta['indices']).toEqual([2, 4])
    expect(reported.map((e) => e.reason)).toEqual(['length', 'proof'])
    expect((await store.getShards(blob.blobId, [0, 2, 3, 4])).map((s) => s.index)).toEqual([0, 3])
  })

  it('quarantines a blob record whose header no longer hashes to its id', async () => {
    const blob = makeBlob()
    await store.putBlob(blob.headerBytes, pick(blob, [0, 1]))
    await tamper(async (raw) => {
      const value = (await raw.get(blobRecordKey(blob.blobId)))!.slice()
      value[value.length - 1]! ^= 0xff
      await raw.put(blobRecordKey(blob.blobId), value)
    })
    const err = await caught(store.getShard(blob.blobId, 0))
    expect(err.meta).toMatchObject({ bucket: 'blob', reason: 'hash' })
    expect(await store.hasBlob(blob.blobId)).toBe(false)
    const report = await store.check()
    expect(report).toMatchObject({ quarantined: 1, orphanShards: 2, blobs: 0 })
    expect(report.usage.consistent).toBe(true)
    // Storing the blob again stores it afresh under a new expiry; the shards left under the old one stay counted
    // until that expiry comes (test/storage/shard-keys.test.ts).
    expect(await store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]))).toMatchObject({ stored: true, added: 3 })
    expect((await store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual([0, 1, 2])
    expect(await store.check()).toMatchObject({ ok: true, orphanShards: 2, shards: 3 })
  })

  it('refuses a shard whose bytes change on disk while the store is open, after its proof was remembered', async () => {
    const blob = makeBlob({ k: 4, n: 8, dataSize: 16_384 })
    await store.putBlob(blob.headerBytes, pick(blob, range(0, 8)))
    await store.close()
    const raw = await openRaw(dir)
    await compactAll(raw)
    await raw.close()
    // A one-byte block cache: every read goes back to the table file, as for a blob no longer in memory.
    store = await ShardStore.open(dir, {
      backgroundPrune: false,
      syncReads,
      blockCacheBytes: 1,
      onCorruptEntry: (entry) => reported.push(entry),
    })
    for (let i = 0; i < 8; i++) expect((await store.getShard(blob.blobId, i))?.index).toBe(i)
    // Bit rot under a running node: the proof of shard 3 is known to the store, its bytes are not what they were.
    await flipInTables(dir, blob.shards[3]!.data.subarray(100, 132))
    const err = await caught(store.getShard(blob.blobId, 3))
    expect(err.code).toBe(StorageErrorCode.CORRUPT_ENTRY)
    expect(reported).toHaveLength(1)
    expect(await store.getShard(blob.blobId, 3)).toBeUndefined()
    expect((await store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual([0, 1, 2, 4, 5, 6, 7])
  })

  it('finds bytes flipped inside the LevelDB table files; reads refuse them', async () => {
    const blobs = Array.from({ length: 3 }, () => makeBlob({ k: 4, n: 8, dataSize: 16_384 }))
    for (const b of blobs) await store.putBlob(b.headerBytes, pick(b, range(0, 8)))
    const victims: [TestBlob, number][] = [
      [blobs[0]!, 5],
      [blobs[2]!, 1],
    ]
    await store.close()
    // Move everything out of the write-ahead log into table files.
    const raw = await openRaw(dir)
    await compactAll(raw)
    await raw.close()
    for (const [blob, index] of victims) await flipInTables(dir, blob.shards[index]!.data.subarray(100, 132))
    store = await open()

    const before = await store.check()
    expect(before.ok).toBe(false)
    expect(before.corrupt.count).toBe(2)
    expect(before.corrupt.items.map((e) => [e.blobId, e.index])).toEqual(
      expect.arrayContaining(victims.map(([b, i]) => [b.blobId.toString(), i])),
    )
    expect(before.quarantinedNow).toBe(0)

    const err = await caught(store.getShard(victims[0]![0].blobId, victims[0]![1]))
    expect(err.code).toBe(StorageErrorCode.CORRUPT_ENTRY)
    const repaired = await store.check({ quarantine: true })
    expect(repaired.corrupt.count).toBe(1)
    expect(repaired.quarantinedNow).toBe(1)
    const after = await store.check()
    expect(after).toMatchObject({ ok: true, quarantined: 2, shards: 22 })
    expect(store.stats().corruptDetected).toBe(2)
  })

  it('turns a block LevelDB cannot parse into STORAGE_CORRUPT_ENTRY, not a crash', async () => {
    const blob = makeBlob({ k: 4, n: 8, dataSize: 16_384 })
    await store.putBlob(blob.headerBytes, pick(blob, range(0, 8)))
    await store.close()
    const raw = await openRaw(dir)
    await compactAll(raw)
    await raw.close()
    // Each 4 KiB shard fills a LevelDB block of its own: value, restart array [0], restart count 1, trailer.
    // A huge restart count makes LevelDB reject the block as "bad block contents".
    // The whole proof is unique to shard 3 (its last sibling is shared with shards 0 to 2).
    const proof = blob.shards[3]!.proof
    const blockEnd = Uint8Array.of(...proof, 0, 0, 0, 0, 1, 0, 0, 0)
    await patchTables(dir, blockEnd, proof.length + 4, Uint8Array.of(0xff, 0xff, 0xff, 0x7f))
    store = await open()
    // The range scan of the blob's shards fails on the block; the listing falls back to point reads and leaves out
    // only the shard it cannot read, so the others are still served.
    expect(await store.listShardIndices(blob.blobId)).toEqual([0, 1, 2, 4, 5, 6, 7])

    const err = await caught(store.getShard(blob.blobId, 3))
    expect(err.code).toBe(StorageErrorCode.CORRUPT_ENTRY)
    expect(err.meta).toMatchObject({ reason: 'unreadable', index: 3 })
    expect(reported).toHaveLength(1)
    expect(await store.getShard(blob.blobId, 3)).toBeUndefined()
    expect((await store.getShard(blob.blobId, 4))?.index).toBe(4)
  })

  it('reports an attestation whose shards vanished (must never happen through the API)', async () => {
    const a = makeBlob()
    const b = makeBlob()
    for (const blob of [a, b]) {
      await store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]))
      await store.putAttestation(blob.blobId, new Uint8Array(96))
    }
    expect((await store.check()).attestedMissingShards.count).toBe(0)
    await tamper(async (raw) => {
      await raw.del(await storedShardKey(raw, a.blobId, 2))
      await raw.del(blobRecordKey(b.blobId))
      expect(await raw.get(attestationKey(b.blobId))).toBeDefined()
    })
    const report = await store.check()
    expect(report.ok).toBe(false)
    expect(report.attestedMissingShards.count).toBe(2)
    expect(report.attestedMissingShards.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ blobId: a.blobId.toString(), expectedShards: 3, presentShards: 2 }),
        expect.objectContaining({ blobId: b.blobId.toString(), expectedShards: null }),
      ]),
    )
  })
})

describe('corruption and the rest of the store', () => {
  it('prunes past a LevelDB block it cannot parse, and keeps pruning the blobs behind it', async () => {
    const { dir, cleanup } = await tempDir()
    const clock = manualClock()
    const open = () => ShardStore.open(dir, { backgroundPrune: false, now: clock.now })
    try {
      let store = await open()
      const damaged = makeBlob({ k: 4, n: 8, dataSize: 16_384 })
      const next = makeBlob({ k: 4, n: 8, dataSize: 16_384, epoch: 2 })
      await store.putBlob(damaged.headerBytes, pick(damaged, range(0, 8)), { retentionMs: 1_000 })
      await store.putBlob(next.headerBytes, pick(next, [0, 1]), { retentionMs: 2_000 })
      await store.close()
      const raw = await openRaw(dir)
      await compactAll(raw)
      await raw.close()
      // Same damage as above: shard 3's block gets a restart count LevelDB refuses, so range scans over the
      // blob's shards fail.
      const proof = damaged.shards[3]!.proof
      await patchTables(
        dir,
        Uint8Array.of(...proof, 0, 0, 0, 0, 1, 0, 0, 0),
        proof.length + 4,
        Uint8Array.of(0xff, 0xff, 0xff, 0x7f),
      )
      store = await open()
      await expect(store.getAllShards(damaged.blobId)).rejects.toMatchObject({ code: StorageErrorCode.CORRUPT_ENTRY })

      clock.advance(5_000)
      await store.prune()
      expect(await store.hasBlob(damaged.blobId)).toBe(false)
      expect(await store.hasBlob(next.blobId)).toBe(false)
      const stats = store.stats()
      expect([stats.blobs, stats.shards]).toEqual([0, 0])
      expect(await store.prune()).toMatchObject({ blobs: 0 })
      await store.close()
    } finally {
      await cleanup()
    }
  })

  it('prunes past a certificate in a block LevelDB cannot parse, which reads as STORAGE_CORRUPT_ENTRY', async () => {
    const { dir, cleanup } = await tempDir()
    const clock = manualClock()
    const open = () => ShardStore.open(dir, { backgroundPrune: false, now: clock.now })
    try {
      let store = await open()
      // Three blobs with certificates of 6,000 random bytes (stored uncompressed): in key order, the middle one
      // fills a LevelDB block of its own, between the block the first one ends and the one the last begins.
      const blobs = [1, 2, 3].map((epoch) => makeBlob({ k: 4, n: 8, dataSize: 16_384, epoch }))
      const certificates = new Map(blobs.map((blob) => [blob, new Uint8Array(randomBytes(6_000))]))
      for (const [blob, certificate] of certificates) {
        await store.putBlob(blob.headerBytes, pick(blob, [0, 1]), { retentionMs: 1_000 })
        await store.putCertificate(blob.blobId, certificate)
      }
      const byKey = [...blobs].sort((a, b) => Buffer.compare(a.blobId.bytes, b.blobId.bytes))
      const damaged = byKey[1]!
      await store.close()
      const raw = await openRaw(dir)
      await compactAll(raw)
      await raw.close()
      const tail = certificates.get(damaged)!.subarray(5_976)
      await patchTables(
        dir,
        Uint8Array.of(...tail, 0, 0, 0, 0, 1, 0, 0, 0),
        tail.length + 4,
        Uint8Array.of(0xff, 0xff, 0xff, 0x7f),
      )
      store = await open()
      await expect(store.getCertificate(damaged.blobId)).rejects.toMatchObject({
        code: StorageErrorCode.CORRUPT_ENTRY,
      })
      expect(await store.getCertificate(byKey[0]!.blobId)).toEqual(certificates.get(byKey[0]!))

      // Were the damaged one to stop the prune, it would stay at the head of the expiry index and nothing behind it
      // would ever go.
      clock.advance(5_000)
      await store.prune()
      for (const blob of blobs) expect(await store.hasBlob(blob.blobId)).toBe(false)
      expect(await store.getCertificate(damaged.blobId)).toBeUndefined()
      expect([store.stats().blobs, store.stats().shards]).toEqual([0, 0])
      await store.close()
    } finally {
      await cleanup()
    }
  })

  it('counts a shard quarantined, repaired by a re-store and damaged again once, and a repair clears its record', async () => {
    const { dir, cleanup } = await tempDir()
    const open = () => ShardStore.open(dir, { backgroundPrune: false })
    try {
      let store = await open()
      const blob = makeBlob({ k: 4, n: 8, dataSize: 2048 })
      await store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]))
      const damage = async () => {
        await store.close()
        await flipStoredShardByte(dir, blob.blobId, 1, 10)
        store = await open()
        await expect(store.getShard(blob.blobId, 1)).rejects.toMatchObject({ code: StorageErrorCode.CORRUPT_ENTRY })
      }
      await damage()
      expect(store.stats()).toMatchObject({ quarantined: 1, shards: 2 })
      await store.putBlob(blob.headerBytes, pick(blob, [1]))
      expect(store.stats()).toMatchObject({ quarantined: 0, shards: 3 })
      await damage()
      expect(store.stats()).toMatchObject({ quarantined: 1, shards: 2, corruptDetected: 2 })
      const report = await store.check()
      expect(report).toMatchObject({ ok: true, quarantined: 1 })
      expect(report.usage.consistent).toBe(true)
      await store.close()
    } finally {
      await cleanup()
    }
  })
})

/** Overwrites bytes at `offset` from the start of `pattern`, which must occur in exactly one table file. */
async function patchTables(dir: string, pattern: Uint8Array, offset: number, replacement: Uint8Array): Promise<void> {
  let found = 0
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.ldb'))) {
    const file = join(dir, name)
    const bytes = await readFile(file)
    const at = bytes.indexOf(pattern)
    if (at < 0) continue
    bytes.set(replacement, at + offset)
    await writeFile(file, bytes)
    found++
  }
  if (found !== 1) throw new Error(`pattern found in ${found} table files`)
}

/** Flips one byte of `pattern` wherever it occurs in the table files (the value bytes of one shard). */
async function flipInTables(dir: string, pattern: Uint8Array): Promise<void> {
  let found = 0
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.ldb'))) {
    const file = join(dir, name)
    const bytes = await readFile(file)
    const at = bytes.indexOf(pattern)
    if (at < 0) continue
    bytes[at + 7]! ^= 0x20
    await writeFile(file, bytes)
    found++
  }
  if (found === 0) throw new Error('pattern not found in any table file')
}
