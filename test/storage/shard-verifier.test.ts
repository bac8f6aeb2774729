import { describe, expect, it } from 'vitest'
import { blobIdKey } from '../../src/storage/codec.ts'
import { ShardVerifier } from '../../src/storage/commitment.ts'
import { ShardStore, StorageErrorCode } from '../../src/storage/index.ts'
import { makeBlob, type TestBlob } from './fixtures/blobs.ts'
import { tempDir } from './fixtures/temp.ts'

function flipped(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(bytes) // a copy even for a Buffer, whose slice() is a view
  copy[offset]! ^= 0x01
  return copy
}

function verify(verifier: ShardVerifier, blob: TestBlob, index: number, data?: Uint8Array, proof?: Uint8Array) {
  const shard = blob.shards[index]!
  return verifier.verify(blobIdKey(blob.blobId.bytes), blob.header, index, data ?? shard.data, proof ?? shard.proof)
}

describe('ShardVerifier (proof checks of stored and read shards)', () => {
  it('still refuses a changed data byte or proof byte of a shard whose proof it remembers', () => {
    const blob = makeBlob({ k: 8, n: 24, dataSize: 4096 })
    const verifier = new ShardVerifier(64)
    expect(verify(verifier, blob, 5)).toBe(true)
    expect(verifier.size).toBe(1)
    const { data, proof } = blob.shards[5]!
    for (const offset of [0, data.length >> 1, data.length - 1]) {
      expect(verify(verifier, blob, 5, flipped(data, offset))).toBe(false)
    }
    for (const offset of [0, proof.length >> 1, proof.length - 1]) {
      expect(verify(verifier, blob, 5, data, flipped(proof, offset))).toBe(false)
    }
    expect(verify(verifier, blob, 5, data, proof.subarray(0, proof.length - 32))).toBe(false)
    expect(verify(verifier, blob, 5)).toBe(true)
  })

  it('remembers per blob and index: a valid shard is not accepted under another index or blob', () => {
    const a = makeBlob({ k: 4, n: 8 })
    const b = makeBlob({ k: 4, n: 8 })
    const verifier = new ShardVerifier(64)
    expect(verify(verifier, a, 1)).toBe(true)
    // Shard 1 of `a` presented as shard 1 of `b`, and as shard 2 of `a`.
    const key = blobIdKey(b.blobId.bytes)
    expect(verifier.verify(key, b.header, 1, a.shards[1]!.data, a.shards[1]!.proof)).toBe(false)
    expect(verify(verifier, a, 2, a.shards[1]!.data, a.shards[1]!.proof)).toBe(false)
    expect(verify(verifier, b, 1)).toBe(true)
    // A remembered shard of `a`, presented under `a`'s key but with `b`'s header: checked against b's root, refused.
    expect(verifier.verify(blobIdKey(a.blobId.bytes), b.header, 1, a.shards[1]!.data, a.shards[1]!.proof)).toBe(false)
  })

  it('remembers only proofs that held, at most `capacity` of them, and none with capacity 0', () => {
    const blob = makeBlob({ k: 8, n: 32, dataSize: 2048 })
    const bounded = new ShardVerifier(4)
    expect(verify(bounded, blob, 0, flipped(blob.shards[0]!.data, 3))).toBe(false)
    expect(bounded.size).toBe(0)
    for (let i = 0; i < 32; i++) expect(verify(bounded, blob, i)).toBe(true)
    expect(bounded.size).toBe(4)
    const off = new ShardVerifier(0)
    for (let i = 0; i < 32; i++) expect(verify(off, blob, i)).toBe(true)
    expect(verify(off, blob, 3, flipped(blob.shards[3]!.data, 0))).toBe(false)
    expect(off.size).toBe(0)
  })

  it('checks a run of shards together and names exactly the ones that fail, remembered or not', () => {
    const blob = makeBlob({ k: 16, n: 48, dataSize: 8192 })
    const key = blobIdKey(blob.blobId.bytes)
    const verifier = new ShardVerifier(64)
    const run = blob.shards.slice(10, 30)
    expect(verifier.verifyRun(key, blob.header, run)).toEqual([])
    // A run that held is not remembered: runs are read by retrievers and would push out what samples re-use.
    expect(verifier.size).toBe(0)
    expect(verify(verifier, blob, 12)).toBe(true)
    expect(verifier.size).toBe(1)
    // A changed data byte of a remembered shard, a changed proof byte, another shard's proof, in one run.
    const bad = run.map((shard) => ({ ...shard }))
    bad[2] = { ...bad[2]!, data: flipped(bad[2]!.data, 7) }
    bad[5] = { ...bad[5]!, proof: flipped(bad[5]!.proof, 40) }
    bad[9] = { ...bad[9]!, proof: run[8]!.proof }
    expect(verifier.verifyRun(key, blob.header, bad)).toEqual([2, 5, 9])
    // One shard alone, and the same shard twice (a batch refuses duplicates; each then holds alone).
    expect(verifier.verifyRun(key, blob.header, [run[3]!])).toEqual([])
    expect(verifier.verifyRun(key, blob.header, [run[4]!, run[4]!])).toEqual([])
    expect(verifier.verifyRun(key, blob.header, [{ ...run[4]!, index: 3 }])).toEqual([0])
  })

  it('is an option of the store: 0 turns it off, a negative count is refused', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const blob = makeBlob({ k: 4, n: 8 })
      const store = await ShardStore.open(dir, { backgroundPrune: false, verifiedProofEntries: 0 })
      await store.putBlob(blob.headerBytes, blob.shards)
      for (let i = 0; i < 8; i++)
        expect((await store.getShard(blob.blobId, i))?.data).toEqual(Uint8Array.from(blob.shards[i]!.data))
      await store.close()
      await expect(ShardStore.open(dir, { verifiedProofEntries: -1 })).rejects.toMatchObject({
        code: StorageErrorCode.INVALID_OPTIONS,
      })
    } finally {
      await cleanup()
    }
  })
})
