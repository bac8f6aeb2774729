import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { checkShardStore, ShardStore } from '../../src/storage/index.ts'
import { makeBlob, pick } from './fixtures/blobs.ts'
import { blobRecordKey, shardKey } from './fixtures/raw-keys.ts'
import { manualClock, openRaw, tempDir } from './fixtures/temp.ts'

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)))
const u64 = (n: number) => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}
const u32 = (n: number) => {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n)
  return out
}

/** The bytes on disk are exactly those docs/STORAGE.md describes. */
describe('on-disk layout', () => {
  let dir: string
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    ;({ dir, cleanup } = await tempDir())
  })
  afterEach(async () => {
    await cleanup()
  })

  it('writes records, shards, expiry entries and usage counters as documented', async () => {
    const clock = manualClock()
    const retentionMs = 5_000
    const blob = makeBlob({ k: 3, n: 7, dataSize: 500 })
    const store = await ShardStore.open(dir, { backgroundPrune: false, now: clock.now })
    await store.putBlob(blob.headerBytes, pick(blob, [1, 6]), { retentionMs })
    await store.putAttestation(blob.blobId, new Uint8Array(96).fill(3))
    await store.close()

    const raw = await openRaw(dir)
    const entries = await raw.iterator().all()
    await raw.close()
    const storedAt = clock.now()
    const expiresAt = storedAt + retentionMs
    const expected: [Uint8Array, Uint8Array][] = [
      [Uint8Array.of(0x00, 0x01), u32(2)],
      // State 1 (stored) with 0x80 set: its shards are keyed by expiry.
      [
        blobRecordKey(blob.blobId),
        concat(Uint8Array.of(0x81), u64(storedAt), u64(expiresAt), u32(2), blob.headerBytes),
      ],
      [Uint8Array.of(0x03, ...blob.blobId.bytes), new Uint8Array(96).fill(3)],
      [concat(Uint8Array.of(0x05), u64(expiresAt), blob.blobId.bytes), new Uint8Array(0)],
      // The fence before the shards: no entry, not counted.
      [Uint8Array.of(0x07), new Uint8Array(0)],
      [shardKey(blob.blobId, 1, expiresAt), concat(blob.shards[1]!.data, blob.shards[1]!.proof)],
      [shardKey(blob.blobId, 6, expiresAt), concat(blob.shards[6]!.data, blob.shards[6]!.proof)],
    ]
    const dataEntries = entries.filter(([key]) => !(key[0] === 0x00 && key[1] === 0x02))
    expect(dataEntries.map(([k, v]) => [Array.from(k), Array.from(v)])).toEqual(
      expected.map(([k, v]) => [Array.from(k), Array.from(v)]),
    )

    // Usage: five u64, the first being the logical bytes of everything outside meta.
    const usage = entries.find(([key]) => key[0] === 0x00 && key[1] === 0x02)![1]
    const view = new DataView(usage.buffer, usage.byteOffset, usage.byteLength)
    const logical = expected
      .filter(([k]) => k[0] !== 0x00 && k.length > 1)
      .reduce((sum, [k, v]) => sum + k.length + v.length, 0)
    expect(usage.length).toBe(40)
    expect(Number(view.getBigUint64(0))).toBe(logical)
    expect([8, 16, 24, 32].map((offset) => Number(view.getBigUint64(offset)))).toEqual([1, 2, 0, 0])

    const report = await checkShardStore(dir, { now: clock.now })
    expect(report).toMatchObject({ ok: true, blobs: 1, shards: 2, attestations: 1 })
  })
})
