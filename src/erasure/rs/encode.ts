import { allocShards } from './buffers.ts'
import { RsErrorCode, rsError } from './errors.ts'
import { forEachRange, geometry } from './geometry.ts'
import { checkShardCounts, nextPow2, useHighRate } from './rate.ts'
import { checkShard } from './validate.ts'
import { DYNAMIC_BASE, kernels, reserveMemory } from './wasm.ts'

/**
 * Bytes one transform may span (chunk slots × window). The transforms run in place in the staging area,
 * so a window costs no copies whatever its width, and wide is fast: the kernels are compute-bound (the
 * same time per butterfly from an L1-sized working set to 8 MiB), while short rows at the staging stride
 * are not (in place at k = 1024, 1 KiB windows measured 1.7× slower than 8 KiB ones). 8 MiB gives the
 * whole 8 KiB segment at k = 1024; at k = 64 (256 KiB shards) it gives 128 KiB windows.
 */
const TRANSFORM_TARGET_BYTES = 8 * 1024 * 1024

/**
 * Recovery shards for `original` (k shards of equal length, a non-zero multiple of 64 bytes): the same
 * bytes reed-solomon-simd's `ReedSolomonEncoder` produces for k originals and `recoveryCount` recovery
 * shards, so any k of the n = k + recoveryCount shards give back the originals.
 *
 * `into`: `recoveryCount` views of the originals' length to write the recovery shards into (returned), instead of
 * fresh ones. The code works on each 64-byte column of the shards on its own, so the same bytes [a, b) of every
 * original give bytes [a, b) of every recovery shard: an encoder may split a blob's shards by columns between
 * threads, each writing its columns of shared recovery shards.
 */
export function rsEncode(original: Uint8Array[], recoveryCount: number, into?: Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(original)) {
    throw rsError(RsErrorCode.INVALID_ARGUMENT, 'original shards must be an array of Uint8Array')
  }
  checkShardCounts(original.length, recoveryCount)
  let shardLength: number | undefined
  for (let i = 0; i < original.length; i++) shardLength = checkShard(original[i], `original shard ${i}`, shardLength)

  const k = original.length
  const r = recoveryCount
  const highRate = useHighRate(k, r)
  // The transforms work on chunks of this many points: the smaller count rounded up to a power of two.
  const chunk = nextPow2(highRate ? r : k)
  // Staging holds whole chunks on both sides, because every transform runs in place on a chunk of slots:
  // the originals then zeros up to a chunk boundary (the IFFTs' inputs, then their coefficients), and
  // the recovery shards rounded up to whole chunks (each FFT's work area; the tail is scratch).
  const inputSlots = Math.ceil(k / chunk) * chunk
  const outputSlots = Math.ceil(r / chunk) * chunk
  const { segment, stride, window } = geometry(shardLength!, inputSlots + outputSlots, chunk, TRANSFORM_TARGET_BYTES)
  const stagingIn = DYNAMIC_BASE
  const stagingOut = stagingIn + inputSlots * stride
  const mem = reserveMemory(stagingOut + outputSlots * stride)
  const recovery = into === undefined ? allocShards(r, shardLength!) : checkInto(into, r, shardLength!)

  forEachRange(shardLength!, segment, (offset, length) => {
    for (let i = 0; i < k; i++) mem.set(original[i]!.subarray(offset, offset + length), stagingIn + i * stride)
    // The in-place IFFTs overwrite the padding slots with coefficients: zero them again for each segment.
    mem.fill(0, stagingIn + k * stride, stagingOut)
    const copyOut = (first: number, count: number) => {
      for (let j = first; j < first + count; j++) {
        const at = stagingOut + j * stride
        recovery[j]!.set(mem.subarray(at, at + length), offset)
      }
    }
    const staged: Staged = { k, r, chunk, stride, input: stagingIn, output: stagingOut, length, window }
    if (highRate) encodeHighRate(staged, copyOut)
    else encodeLowRate(staged, copyOut)
  })
  return recovery
}

/** `into` checked: exactly `count` views of `length` bytes. */
function checkInto(into: Uint8Array[], count: number, length: number): Uint8Array[] {
  if (!Array.isArray(into) || into.length !== count) {
    throw rsError(RsErrorCode.INVALID_ARGUMENT, `recovery shards to write into must be an array of ${count}`)
  }
  for (let j = 0; j < count; j++) checkShard(into[j], `recovery shard ${j}`, length)
  return into
}

/** One staged segment: `length` bytes of every slot, slots `stride` apart, transformed `window` bytes at a time. */
interface Staged {
  k: number
  r: number
  chunk: number
  stride: number
  /** First input (original) slot. */
  input: number
  /** First output (recovery) slot. */
  output: number
  length: number
  window: number
}

/** Hands recovery shards [first, first + count) of the segment back to JS once they are final. */
type CopyOut = (first: number, count: number) => void

/**
 * High rate (more originals): recovery shard j is evaluation point j < chunk = nextPow2(r), original i is
 * point chunk + i. Each chunk of originals is interpolated in place (IFFT at its own points), the
 * coefficient vectors are summed into the first, and one FFT at points [0, chunk) gives the recovery shards.
 */
function encodeHighRate(s: Staged, copyOut: CopyOut): void {
  const { k, r, chunk, stride, length, window } = s
  forEachRange(length, window, (column, width) => {
    const input = s.input + column
    const output = s.output + column
    for (let start = 0; start < k; start += chunk) {
      const at = input + start * stride
      kernels.ifftMoved(at, stride, at, stride, width, chunk, Math.min(chunk, k - start), start + chunk, 0)
      if (start > 0) kernels.xorSlots(input, at, stride, width, chunk)
    }
    kernels.fftMoved(input, stride, output, stride, output, stride, width, chunk, r, 0, 0)
  })
  copyOut(0, r)
}

/**
 * Low rate (more recovery): original i is evaluation point i < chunk = nextPow2(k), recovery shard j is
 * point chunk + j. The originals are interpolated once, in place (IFFT at [0, chunk)), and that
 * polynomial is evaluated (FFT) at each following chunk of points, in place in that chunk's output slots.
 * Each chunk is copied out as soon as it is done, while its shards are still in cache.
 */
function encodeLowRate(s: Staged, copyOut: CopyOut): void {
  const { k, r, chunk, stride, length, window } = s
  forEachRange(length, window, (column, width) => {
    const input = s.input + column
    kernels.ifftMoved(input, stride, input, stride, width, chunk, k, 0, 0)
  })
  for (let start = 0; start < r; start += chunk) {
    const count = Math.min(chunk, r - start)
    forEachRange(length, window, (column, width) => {
      const at = s.output + column + start * stride
      kernels.fftMoved(s.input + column, stride, at, stride, at, stride, width, chunk, count, start + chunk, 0)
    })
    copyOut(start, count)
  }
}
