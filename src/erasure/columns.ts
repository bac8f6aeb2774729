import type { BadEncodingReason } from './decode.ts'
import { ErasureErrorCode, erasureError } from './errors.ts'
import { joinBlob, paddingIsZero } from './layout.ts'
import { buildTreeFromLeaves, bytesEqual, HASH_SIZE, leafHashInto } from './merkle.ts'
import { SHARD_ALIGNMENT } from './params.ts'
import { rsDecode, rsEncode } from './rs/index.ts'

/**
 * A blob's encoding split between threads. The n shards of a codeword lie one after another in one buffer
 * (`shardSize` bytes each, originals first), which the threads share. Reed–Solomon works on each 64-byte column of
 * the shards on its own, so each part extends its own columns of every shard (`extendColumns`); once all have,
 * each hashes its own range of leaves (`hashLeaves`), and one builds the tree from them. The bytes are the same as
 * one thread's encoding: only who computes which of them changes. A decoder's check of a commitment is the same
 * work after its originals are in place (`recoverInto`, by column ranges too), and ends with the root and the
 * padding (`finishDecode`). A split task's parts are awaited all together (`allParts`) before its shared memory is
 * given back.
 */

/** A codeword laid out in one buffer: shard i is bytes [i * shardSize, (i + 1) * shardSize). */
export interface CodewordLayout {
  k: number
  n: number
  shardSize: number
}

/** The n shards of `codeword` as views of it. */
export function shardViews(codeword: Uint8Array, layout: CodewordLayout): Uint8Array[] {
  const { n, shardSize } = layout
  if (codeword.length !== n * shardSize) {
    throw erasureError(
      ErasureErrorCode.INVALID_PARAMS,
      `a codeword of ${n} x ${shardSize} bytes has ${codeword.length}`,
    )
  }
  const shards = new Array<Uint8Array>(n)
  for (let i = 0; i < n; i++) shards[i] = codeword.subarray(i * shardSize, (i + 1) * shardSize)
  return shards
}

/** Part `part` of `parts` of `[0, total)`, cut at multiples of `unit` (the last part takes the remainder). */
export function partRange(total: number, unit: number, part: number, parts: number): [number, number] {
  const units = Math.ceil(total / unit)
  const from = Math.min(total, Math.floor((units * part) / parts) * unit)
  const to = part === parts - 1 ? total : Math.min(total, Math.floor((units * (part + 1)) / parts) * unit)
  return [from, to]
}

/** The shard bytes `[from, to)` that part `part` of `parts` extends: whole 64-byte columns. */
export function columnRange(shardSize: number, part: number, parts: number): [number, number] {
  return partRange(shardSize, SHARD_ALIGNMENT, part, parts)
}

/** The part numbers 0..count-1 of a task split in `count`. */
export function parts(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i)
}

/**
 * Waits for every part, then throws the first failure if one failed: a part still running may write into the shared
 * codeword, which must not go back to the pool for another task before every part is done with it.
 */
export async function allParts(tasks: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(tasks)).find((outcome) => outcome.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}

/** Writes bytes `[from, to)` of every recovery shard of `codeword` from the same bytes of its originals. */
export function extendColumns(codeword: Uint8Array, layout: CodewordLayout, from: number, to: number): void {
  if (from === to) return
  const shards = shardViews(codeword, layout)
  const columns = shards.map((shard) => shard.subarray(from, to))
  rsEncode(columns.slice(0, layout.k), layout.n - layout.k, columns.slice(layout.k))
}

/**
 * Writes leaf(i) at `leaves[32 i]` for every shard i in `[first, end)` of `codeword`, except those whose `known`
 * flag is set (their leaf hashes are already in place).
 */
export function hashLeaves(
  codeword: Uint8Array,
  layout: CodewordLayout,
  leaves: Uint8Array,
  first: number,
  end: number,
  known?: Uint8Array,
): void {
  const { shardSize } = layout
  for (let i = first; i < end; i++) {
    if (known?.[i] === 1) continue
    leafHashInto(codeword.subarray(i * shardSize, (i + 1) * shardSize), leaves, i * HASH_SIZE)
  }
}

/**
 * Writes bytes `[from, to)` (the whole shard by default) of the k originals into `codeword`, recovered
 * (Reed–Solomon decode) from the same bytes of k of its shards (`index`, `data`): each 64-byte column is a codeword
 * of its own, so workers can recover ranges of columns apart. The shards are trusted to be of one codeword (proofs
 * checked, or the root compared after). A caller holding every original copies them itself.
 */
export function recoverInto(
  codeword: Uint8Array,
  layout: CodewordLayout,
  shards: readonly { index: number; data: Uint8Array }[],
  from = 0,
  to = layout.shardSize,
): void {
  if (from === to) return
  const views = shardViews(codeword, layout)
  const byIndex = new Map(shards.map((shard) => [shard.index, shard.data.subarray(from, to)] as const))
  rsDecode(layout.k, layout.n - layout.k, byIndex).forEach((original, i) => {
    views[i]!.set(original, from)
  })
}

/** What `finishDecode` finds: why the commitment is no honest encoding, or the blob. */
export type DecodeVerdict = { reason: BadEncodingReason; data?: undefined } | { reason: null; data: Uint8Array }

/**
 * A decoder's verdict once `codeword` is re-encoded and every leaf is in `leaves`: why the commitment to `root`
 * is no honest encoding of a blob of `dataSize` bytes, or null with the blob's bytes (a fresh buffer).
 */
export function finishDecode(
  codeword: Uint8Array,
  layout: CodewordLayout,
  leaves: Uint8Array,
  root: Uint8Array,
  dataSize: number,
  into?: ArrayBuffer,
): DecodeVerdict {
  if (!bytesEqual(buildTreeFromLeaves(leaves).root, root)) return { reason: 'root-mismatch' }
  const originals = shardViews(codeword, layout).slice(0, layout.k)
  if (!paddingIsZero(originals, dataSize)) return { reason: 'nonzero-padding' }
  return { reason: null, data: joinBlob(originals, dataSize, into) }
}
