import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { blobIdOf, parseBlobId } from '../../src/erasure/blob-id.ts'
import { ErasureErrorCode } from '../../src/erasure/errors.ts'
import { type BlobHeader, decodeHeader, encodeHeader, HEADER_SIZE } from '../../src/erasure/header.ts'
import { joinBlob, paddingIsZero, shardSizeFor, splitBlob } from '../../src/erasure/layout.ts'

const header = (over: Partial<BlobHeader> = {}): BlobHeader => ({
  version: 1,
  networkId: 0xdac0_0001,
  epoch: 7,
  dataSize: 1000,
  k: 4,
  n: 12,
  shardSize: shardSizeFor(1000, 4),
  root: new Uint8Array(32).fill(0xab),
  ...over,
})

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('blob layout', () => {
  it('picks the smallest multiple of 64 that fits, at least 64', () => {
    expect(shardSizeFor(0, 4)).toBe(64)
    expect(shardSizeFor(256, 4)).toBe(64)
    expect(shardSizeFor(257, 4)).toBe(128)
    expect(shardSizeFor(16 * 1024 * 1024, 1024)).toBe(16384)
    expect(shardSizeFor(1_000_001, 3)).toBe(333376)
  })

  it('splits with zero padding and joins back the exact bytes', () => {
    for (const size of [0, 1, 63, 64, 65, 1000, 4096, 100_003]) {
      const data = new Uint8Array(randomBytes(size))
      for (const k of [1, 2, 3, 7, 64]) {
        const shards = splitBlob(data, k)
        expect(shards).toHaveLength(k)
        expect(new Set(shards.map((s) => s.length))).toEqual(new Set([shardSizeFor(size, k)]))
        expect(paddingIsZero(shards, size)).toBe(true)
        expect(Buffer.from(joinBlob(shards, size)).equals(Buffer.from(data))).toBe(true)
      }
    }
  })

  it('notices non-zero padding', () => {
    const shards = splitBlob(new Uint8Array(100).fill(1), 2)
    shards[1]![63] = 9
    expect(paddingIsZero(shards, 100)).toBe(false)
  })

  it('notices one non-zero byte anywhere in the padding, at any alignment of the shards, and nowhere else', () => {
    // Shards as views at every offset into a larger buffer: the check reads aligned words where it can.
    for (const shift of [0, 1, 2, 3]) {
      const backing = new Uint8Array(shift + 3 * 64)
      const shards = [0, 1, 2].map((i) => backing.subarray(shift + i * 64, shift + (i + 1) * 64))
      const dataSize = 64 + 13
      backing.fill(0xff, shift, shift + dataSize)
      expect(paddingIsZero(shards, dataSize)).toBe(true)
      for (let at = dataSize; at < 3 * 64; at++) {
        backing[shift + at] = 0x80
        expect(paddingIsZero(shards, dataSize)).toBe(false)
        backing[shift + at] = 0
      }
    }
  })
})

describe('blob header', () => {
  it('round-trips through its 65-byte layout, big-endian fields at fixed offsets', () => {
    const h = header({
      epoch: 2 ** 40 + 5,
      dataSize: 2 ** 33,
      k: 1024,
      n: 4096,
      shardSize: shardSizeFor(2 ** 33, 1024),
    })
    const bytes = encodeHeader(h)
    expect(bytes.length).toBe(HEADER_SIZE)
    expect(bytes[0]).toBe(1)
    expect(Buffer.from(bytes.subarray(1, 5)).toString('hex')).toBe('dac00001')
    expect(Buffer.from(bytes.subarray(5, 13)).toString('hex')).toBe('0000010000000005')
    expect(decodeHeader(bytes)).toEqual(h)
  })

  it('refuses truncated, oversized, unknown-version and non-canonical headers with their codes', () => {
    const bytes = encodeHeader(header())
    expect(codeOf(() => decodeHeader(bytes.subarray(0, 64)))).toBe(ErasureErrorCode.HEADER_TRUNCATED)
    expect(codeOf(() => decodeHeader(new Uint8Array(0)))).toBe(ErasureErrorCode.HEADER_TRUNCATED)
    const longer = new Uint8Array(66)
    longer.set(bytes)
    expect(codeOf(() => decodeHeader(longer))).toBe(ErasureErrorCode.HEADER_INVALID)
    const v2 = bytes.slice()
    v2[0] = 2
    expect(codeOf(() => decodeHeader(v2))).toBe(ErasureErrorCode.HEADER_UNKNOWN_VERSION)
    const badShardSize = bytes.slice()
    new DataView(badShardSize.buffer).setUint32(29, 512)
    expect(codeOf(() => decodeHeader(badShardSize))).toBe(ErasureErrorCode.HEADER_INVALID)
    const nNotAboveK = bytes.slice()
    new DataView(nNotAboveK.buffer).setUint32(25, 4)
    expect(codeOf(() => decodeHeader(nNotAboveK))).toBe(ErasureErrorCode.HEADER_INVALID)
    const hugeN = bytes.slice()
    new DataView(hugeN.buffer).setUint32(25, 65537)
    expect(codeOf(() => decodeHeader(hugeN))).toBe(ErasureErrorCode.HEADER_INVALID)
    const zeroK = bytes.slice()
    new DataView(zeroK.buffer).setUint32(21, 0)
    expect(codeOf(() => decodeHeader(zeroK))).toBe(ErasureErrorCode.HEADER_INVALID)
    const hugeEpoch = bytes.slice()
    new DataView(hugeEpoch.buffer).setBigUint64(5, 2n ** 60n)
    expect(codeOf(() => decodeHeader(hugeEpoch))).toBe(ErasureErrorCode.HEADER_INVALID)
    expect(codeOf(() => encodeHeader(header({ root: new Uint8Array(31) })))).toBe(ErasureErrorCode.HEADER_INVALID)
  })
})

describe('blob id', () => {
  it('is the base32 CIDv1 (raw, sha2-256) of the header bytes and parses back', () => {
    const bytes = encodeHeader(header())
    const id = blobIdOf(bytes)
    expect(id.toString()).toMatch(/^bafkrei[a-z2-7]{52}$/)
    expect(id.bytes.length).toBe(36)
    expect(parseBlobId(id.toString()).equals(id)).toBe(true)
    expect(parseBlobId(id.bytes).equals(id)).toBe(true)
    const other = bytes.slice()
    other[4]! ^= 1
    expect(blobIdOf(other).equals(id)).toBe(false)
  })

  it('refuses strings that are not dacnet blob ids', () => {
    for (const bad of [
      '',
      'hello',
      'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
    ]) {
      expect(
        codeOf(() => parseBlobId(bad)),
        bad,
      ).toBe(ErasureErrorCode.INVALID_BLOB_ID)
    }
  })
})
