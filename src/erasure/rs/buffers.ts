/**
 * Output shards are allocated in groups (one ArrayBuffer each) of at most this many bytes when a shard fits.
 * The size is about page faults. Fresh memory from the OS costs a page fault per 4 KiB page on first
 * touch, ~3 µs each on the benchmark machine: ~35 ms for the 48 MiB of recovery shards at k=1024/n=4096,
 * more than half the encode itself. glibc's malloc returns freed heap memory to the OS (trims it) only
 * when a free coalesces a free block of at least 64 KiB; groups well below that, interleaved with the
 * engine's small per-buffer blocks, rarely coalesce that far, so the previous call's garbage stays mapped
 * and is reused. Measured at k=1024/n=4096 (16 KiB shards), share of encodes that faulted on nearly every
 * output page: 3 of 55 with 32 KiB groups, 12 of 55 with 64 KiB, 25 of 55 with 1 MiB. The price is more
 * allocations (1,536 instead of 48 there, ~1 ms).
 */
const SMALL_GROUP_BYTES = 32 * 1024
/**
 * Group size for shards too long for a small group: those allocations trim and fault regardless, and 1 MiB
 * groups measured a little faster than one allocation per shard (k=64, 256 KiB shards).
 */
const LARGE_GROUP_BYTES = 1024 * 1024

/**
 * `count` new shards of `length` bytes that the caller fills completely. Their memory is not zeroed
 * first (a separate zeroed allocation per shard cost about a tenth of an encode), and shards share one
 * ArrayBuffer per group (see SMALL_GROUP_BYTES). A shard is a plain Uint8Array view (`slice` copies as
 * usual); transferring one shard's buffer transfers its whole group.
 */
export function allocShards(count: number, length: number): Uint8Array[] {
  const groupBytes = length <= SMALL_GROUP_BYTES ? SMALL_GROUP_BYTES : LARGE_GROUP_BYTES
  const perGroup = Math.max(1, Math.floor(groupBytes / length))
  const shards: Uint8Array[] = []
  for (let first = 0; first < count; first += perGroup) {
    const inGroup = Math.min(perGroup, count - first)
    const buffer = Buffer.allocUnsafeSlow(inGroup * length).buffer
    for (let i = 0; i < inGroup; i++) shards.push(new Uint8Array(buffer, i * length, length))
  }
  return shards
}
