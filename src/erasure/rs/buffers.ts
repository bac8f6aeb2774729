/** Output shards are allocated in groups of about this many bytes (1 MiB: see `allocShards`). */
const GROUP_BYTES = 1024 * 1024

/**
 * `count` new shards of `length` bytes that the caller fills completely. Their memory is not zeroed
 * first, and shards share one ArrayBuffer per group of about 1 MiB: a separate zeroed allocation per
 * 16 KiB shard cost about a tenth of an encode, while one huge buffer is fresh memory from the OS (page
 * faults on every call) where 1 MiB blocks are reused from the heap. A shard is a plain Uint8Array view
 * (`slice` copies as usual); transferring one shard's buffer transfers its whole group.
 */
export function allocShards(count: number, length: number): Uint8Array[] {
  const perGroup = Math.max(1, Math.floor(GROUP_BYTES / length))
  const shards: Uint8Array[] = []
  for (let first = 0; first < count; first += perGroup) {
    const inGroup = Math.min(perGroup, count - first)
    const buffer = Buffer.allocUnsafeSlow(inGroup * length).buffer
    for (let i = 0; i < inGroup; i++) shards.push(new Uint8Array(buffer, i * length, length))
  }
  return shards
}
