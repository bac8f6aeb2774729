/**
 * How a call is cut up. Shards are processed one segment (a byte range of every shard) at a time: each
 * shard's segment is copied into its slot of a staging area in wasm memory, transformed there, and results
 * are copied back out. Within a segment the transforms go one column window at a time. Both cuts are
 * possible because the code acts on every 64-byte column of the shards independently; they bound memory
 * and set how much data one transform spans.
 */
export interface Geometry {
  /** Bytes of each shard staged per round (a multiple of 64). */
  segment: number
  /** Bytes from one staging slot to the next. */
  stride: number
  /** Bytes of each slot one transform works on (a multiple of 64): the column window. */
  window: number
}

/** One 64-byte shard chunk; also a cache line. */
const CHUNK = 64
/**
 * Staged bytes per round: bounds wasm memory (which never shrinks) while each JS copy stays long; copies of
 * 8 KiB run at twice the speed of 2 KiB ones, and 32 MiB gives 8 KiB at n = 4096.
 */
const STAGING_TARGET_BYTES = 32 * 1024 * 1024
/** Narrower windows pay per-butterfly overhead (skew look-ups, loop set-up) on too few bytes. */
const MIN_WINDOW_BYTES = 256

function chunksWithin(bytes: number): number {
  return Math.max(1, Math.floor(bytes / CHUNK))
}

/**
 * `stagedSlots`: slots in the staging area; `workSlots`: slots one transform spans; `windowTargetBytes`:
 * how many bytes (workSlots × window) one transform may span.
 */
export function geometry(
  shardLength: number,
  stagedSlots: number,
  workSlots: number,
  windowTargetBytes: number,
): Geometry {
  const segmentChunks = Math.min(shardLength / CHUNK, chunksWithin(STAGING_TARGET_BYTES / stagedSlots))
  // An even number of cache lines between staging slots would map a column of slots onto few cache sets
  // (a power-of-two stride onto one or two); an odd count spreads them over all sets.
  const strideChunks = segmentChunks % 2 === 1 ? segmentChunks : segmentChunks + 1
  const windowChunks = Math.min(
    segmentChunks,
    Math.max(MIN_WINDOW_BYTES / CHUNK, chunksWithin(windowTargetBytes / workSlots)),
  )
  return { segment: segmentChunks * CHUNK, stride: strideChunks * CHUNK, window: windowChunks * CHUNK }
}

/** Calls `fn(offset, length)` for consecutive ranges of at most `step` bytes covering [0, total). */
export function forEachRange(total: number, step: number, fn: (offset: number, length: number) => void): void {
  for (let offset = 0; offset < total; offset += step) fn(offset, Math.min(step, total - offset))
}
