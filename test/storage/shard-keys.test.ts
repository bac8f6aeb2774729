import { describe, expect, it } from 'vitest'
import { makeBlob, pick, range, type TestBlob } from './fixtures/blobs.ts'
import { clockedStore } from './fixtures/clocked-store.ts'
import { blobRecordKey, schemaOneShardKey, storedShardKey } from './fixtures/raw-keys.ts'
import { openRaw } from './fixtures/temp.ts'

const HOUR = 3_600_000
const SCHEMA_KEY = Uint8Array.of(0x00, 0x01)
const USAGE_KEY = Uint8Array.of(0x00, 0x02)

type Raw = Awaited<ReturnType<typeof openRaw>>

/** Shard keys are led by the blob's expiry (schema 2); stores written before keep theirs by blob id. */
describe('shard keys in expiry order', () => {
  const t = clockedStore()

  async function withRaw<T>(edit: (raw: Raw) => Promise<T>): Promise<T> {
    await t.store.close()
    const raw = await openRaw(t.dir)
    try {
      return await edit(raw)
    } finally {
      await raw.close()
      t.store = await t.open()
    }
  }

  it('keys a blob stored later after one stored earlier, whatever their ids', async () => {
    const blobs = range(0, 6).map((epoch) => makeBlob({ epoch: epoch + 1 }))
    for (const blob of blobs) {
      await t.store.putBlob(blob.headerBytes, pick(blob, [0, 1]), { retentionMs: HOUR })
      t.clock.advance(1_000)
    }
    // The ids themselves are in no particular order.
    const byId = blobs.map((b) => b.blobId.toString()).sort()
    expect(byId).not.toEqual(blobs.map((b) => b.blobId.toString()))
    const keys = await withRaw((raw) => raw.keys({ gt: Uint8Array.of(0x07), lt: Uint8Array.of(0x08) }).all())
    const idAt = (key: Uint8Array) => Buffer.from(key.subarray(9, 45)).toString('hex')
    const order = [...new Set(keys.map(idAt))]
    expect(order).toEqual(blobs.map((b) => Buffer.from(b.blobId.bytes).toString('hex')))
    for (const blob of blobs) expect((await t.store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual([0, 1])
  })

  it('opens a schema-1 t.store in place: its blobs are served, checked and pruned where they are, new ones by expiry', async () => {
    const old = makeBlob({ k: 4, n: 8, dataSize: 4_096 })
    await t.store.putBlob(old.headerBytes, pick(old, range(0, 5)), { retentionMs: HOUR })
    await t.store.putAttestation(old.blobId, new Uint8Array(96).fill(7))
    const before = t.store.stats()
    await withRaw((raw) => rewriteAsSchemaOne(raw, old, range(0, 5)))

    expect(t.store.stats()).toMatchObject({ blobs: 1, shards: 5, bytes: before.bytes - 5 * 8 })
    expect((await t.store.getAllShards(old.blobId)).map((s) => s.index)).toEqual(range(0, 5))
    expect((await t.store.getShards(old.blobId, [4, 1])).map((s) => s.index)).toEqual([4, 1])
    expect(await t.store.listShardIndices(old.blobId)).toEqual(range(0, 5))
    expect(await t.store.check()).toMatchObject({ ok: true, blobs: 1, shards: 5, orphanShards: 0, schemaOneShards: 5 })

    // A new blob goes under its expiry; the old one stays under its id; the check walks both.
    const next = makeBlob({ k: 4, n: 8, dataSize: 4_096, epoch: 2 })
    await t.store.putBlob(next.headerBytes, pick(next, [0, 7]), { retentionMs: 2 * HOUR })
    // Growing the old blob's assignment adds to its schema-1 range.
    expect(await t.store.putBlob(old.headerBytes, pick(old, [5]))).toMatchObject({ added: 1 })
    expect(await t.store.check()).toMatchObject({ ok: true, blobs: 2, shards: 8, orphanShards: 0, schemaOneShards: 6 })
    const buckets = await withRaw(async (raw) => {
      const version = await raw.get(SCHEMA_KEY)
      const first = (await raw.keys({ gte: Uint8Array.of(0x02), lt: Uint8Array.of(0x03) }).all()).length
      const second = (await raw.keys({ gt: Uint8Array.of(0x07), lt: Uint8Array.of(0x08) }).all()).length
      // The fence, deleted with the rest of schema 2, is written again at open.
      const fence = await raw.get(Uint8Array.of(0x07))
      return { version: Array.from(version!), first, second, fence: fence && Array.from(fence) }
    })
    expect(buckets).toEqual({ version: [0, 0, 0, 2], first: 6, second: 2, fence: [] })

    t.clock.advance(HOUR)
    expect((await t.store.prune()).blobs).toBe(1)
    expect(await t.store.hasBlob(old.blobId)).toBe(false)
    expect(await t.store.check()).toMatchObject({ ok: true, blobs: 1, shards: 2, schemaOneShards: 0 })
    t.clock.advance(HOUR)
    expect((await t.store.prune()).blobs).toBe(1)
    expect(t.store.stats()).toMatchObject({ blobs: 0, shards: 0, bytes: 0 })
    expect((await t.store.check()).usage.scanned.bytes).toBe(0)
  })

  it('deletes the shards a quarantined record left under its old expiry when that expiry comes', async () => {
    const blob = makeBlob({ k: 4, n: 8, dataSize: 4_096 })
    await t.store.putBlob(blob.headerBytes, pick(blob, [0, 1]), { retentionMs: HOUR })
    await withRaw(async (raw) => {
      const value = (await raw.get(blobRecordKey(blob.blobId)))!.slice()
      value[value.length - 1]! ^= 0xff
      await raw.put(blobRecordKey(blob.blobId), value)
    })
    await expect(t.store.getShard(blob.blobId, 0)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT_ENTRY' })

    t.clock.advance(HOUR / 2)
    expect(await t.store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2]), { retentionMs: HOUR })).toMatchObject({
      added: 3,
    })
    expect(await t.store.check()).toMatchObject({ ok: true, shards: 3, orphanShards: 2, quarantined: 0 })
    expect(t.store.stats()).toMatchObject({ blobs: 1, shards: 5 })

    // The old expiry: its entry is stale (the record has another), and the shards under it go with it.
    t.clock.advance(HOUR / 2)
    expect(await t.store.prune()).toMatchObject({ blobs: 0 })
    expect(t.store.stats()).toMatchObject({ blobs: 1, shards: 3 })
    expect(await t.store.check()).toMatchObject({ ok: true, shards: 3, orphanShards: 0 })
    expect((await t.store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual([0, 1, 2])

    t.clock.advance(HOUR / 2)
    expect((await t.store.prune()).blobs).toBe(1)
    expect(t.store.stats()).toMatchObject({ blobs: 0, shards: 0, bytes: 0, quarantined: 0 })
  })
})

/**
 * Turns a blob this build stored into what schema 1 wrote: shards under `0x02, blobId, index`, the record's first
 * byte without the 0x80 flag, usage bytes 8 smaller per shard key, schema version 1, no fence.
 */
async function rewriteAsSchemaOne(raw: Raw, blob: TestBlob, indices: number[]): Promise<void> {
  const ops: ({ type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array })[] = []
  for (const index of indices) {
    const key = await storedShardKey(raw, blob.blobId, index)
    ops.push(
      { type: 'del', key },
      { type: 'put', key: schemaOneShardKey(blob.blobId, index), value: (await raw.get(key))! },
    )
  }
  const record = (await raw.get(blobRecordKey(blob.blobId)))!.slice()
  expect(record[0]).toBe(0x81)
  record[0] = 0x01
  const usage = (await raw.get(USAGE_KEY))!.slice()
  const view = new DataView(usage.buffer)
  view.setBigUint64(0, view.getBigUint64(0) - BigInt(8 * indices.length))
  ops.push(
    { type: 'put', key: blobRecordKey(blob.blobId), value: record },
    { type: 'put', key: USAGE_KEY, value: usage },
    { type: 'put', key: SCHEMA_KEY, value: Uint8Array.of(0, 0, 0, 1) },
    { type: 'del', key: Uint8Array.of(0x07) },
  )
  await raw.batch(ops)
}
