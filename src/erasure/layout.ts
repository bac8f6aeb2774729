import { ErasureErrorCode, erasureError } from './errors.ts'
import { DEFAULT_MAX_BLOB_SIZE, SHARD_ALIGNMENT } from './params.ts'

/**
 * Blob layout: the blob's bytes fill the k original shards in order (shard i holds bytes
 * [i * shardSize, (i + 1) * shardSize)), and the rest of the last shards is zero. The exact size lives in
 * the header, so the padding is dropped again on decode.
 */

/** The smallest multiple of 64 (at least 64) that holds `dataSize` bytes in `k` shards. */
export function shardSizeFor(dataSize: number, k: number): number {
  const perShard = Math.ceil(dataSize / k)
  return Math.max(SHARD_ALIGNMENT, Math.ceil(perShard / SHARD_ALIGNMENT) * SHARD_ALIGNMENT)
}

export function checkBlobSize(dataSize: number, maxBlobSize: number = DEFAULT_MAX_BLOB_SIZE): void {
  if (dataSize > maxBlobSize) {
    throw erasureError(
      ErasureErrorCode.BLOB_TOO_LARGE,
      `blob of ${dataSize} bytes is above the maximum of ${maxBlobSize}`,
      {
        dataSize,
        maxBlobSize,
      },
    )
  }
}

/**
 * Splits a blob into k zero-padded original shards. Shards that lie wholly inside `data` are views of it (no
 * copy: copying a 32 MiB blob costs more than a third of its Reed–Solomon encoding); the rest share one fresh,
 * zero-padded buffer. So a caller must not change `data` while it uses the shards.
 */
export function splitBlob(data: Uint8Array, k: number): Uint8Array[] {
  const shardSize = shardSizeFor(data.length, k)
  const whole = Math.min(k, Math.floor(data.length / shardSize))
  const shards: Uint8Array[] = []
  for (let i = 0; i < whole; i++) shards.push(data.subarray(i * shardSize, (i + 1) * shardSize))
  if (whole < k) {
    const tail = new Uint8Array((k - whole) * shardSize)
    tail.set(data.subarray(whole * shardSize))
    for (let i = 0; i < k - whole; i++) shards.push(tail.subarray(i * shardSize, (i + 1) * shardSize))
  }
  return shards
}

/** Joins k original shards back into the blob's `dataSize` bytes. */
export function joinBlob(originals: Uint8Array[], dataSize: number, into?: ArrayBuffer): Uint8Array {
  // A buffer given must be exactly the blob's size (its every byte is written below).
  const out = into?.byteLength === dataSize ? new Uint8Array(into) : new Uint8Array(dataSize)
  let offset = 0
  for (const shard of originals) {
    if (offset >= dataSize) break
    const take = Math.min(shard.length, dataSize - offset)
    out.set(take === shard.length ? shard : shard.subarray(0, take), offset)
    offset += take
  }
  return out
}

/** True if every byte past `dataSize` in the original shards is zero, as the layout requires. */
export function paddingIsZero(originals: Uint8Array[], dataSize: number): boolean {
  let offset = 0
  for (const shard of originals) {
    const start = Math.max(0, Math.min(shard.length, dataSize - offset))
    if (!allZero(shard, start)) return false
    offset += shard.length
  }
  return true
}

/**
 * True if bytes `[from, end)` of `bytes` are all zero: four at a time where they are aligned. A decoder checks every
 * blob's padding, ~300 KB for 16 MiB at n = 16,384: 0.09 ms instead of 0.31 byte by byte (1.1 against 4.1 ms in a
 * fresh worker's first call).
 */
function allZero(bytes: Uint8Array, from: number): boolean {
  const end = bytes.length
  let i = from
  while (i < end && (bytes.byteOffset + i) % 4 !== 0) if (bytes[i++] !== 0) return false
  const words = Math.floor((end - i) / 4)
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words)
    let any = 0
    for (let w = 0; w < words; w++) any |= view[w]!
    if (any !== 0) return false
    i += 4 * words
  }
  for (; i < end; i++) if (bytes[i] !== 0) return false
  return true
}
