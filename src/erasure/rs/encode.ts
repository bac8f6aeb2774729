import { allocShards } from './buffers.ts'
import { RsErrorCode, rsError } from './errors.ts'
import { forEachRange, geometry } from './geometry.ts'
import { checkShardCounts, nextPow2, useHighRate } from './rate.ts'
import { checkShard } from './validate.ts'
import { DYNAMIC_BASE, kernels, reserveMemory } from './wasm.ts'

/** Slots an FFT may write past its truncation point (the rest of a radix-4 block). */
const FFT_SLACK_SLOTS = 3

/**
 * Recovery shards for `original` (k shards of equal length, a non-zero multiple of 64 bytes): the same
 * bytes reed-solomon-simd's `ReedSolomonEncoder` produces for k originals and `recoveryCount` recovery
 * shards, so any k of the n = k + recoveryCount shards give back the originals.
 */
export function rsEncode(original: Uint8Array[], recoveryCount: number): Uint8Array[] {
  if (!Array.isArray(original)) {
    throw rsError(RsErrorCode.INVALID_ARGUMENT, 'original shards must be an array of Uint8Array')
  }
  checkShardCounts(original.length, recoveryCount)
  let shardLength: number | undefined
  for (let i = 0; i < original.length; i++) shardLength = checkShard(original[i], `original shard ${i}`, shardLength)

  const k = original.length
  const highRate = useHighRate(k, recoveryCount)
  // The transforms work on chunks of this many points: the smaller count rounded up to a power of two.
  const chunk = nextPow2(highRate ? recoveryCount : k)
  const { segment, stride, window } = geometry(shardLength!, k + recoveryCount, 2 * chunk)
  const workA = DYNAMIC_BASE
  const workB = workA + chunk * window
  // The originals, then zero slots up to a whole chunk: the IFFTs read their inputs straight from here.
  const inputSlots = Math.ceil(k / chunk) * chunk
  const stagingIn = workB + chunk * window
  const stagingOut = stagingIn + inputSlots * stride
  // The last FFT pass writes whole radix-4 blocks: up to 3 slots past the last recovery shard.
  const mem = reserveMemory(stagingOut + (recoveryCount + FFT_SLACK_SLOTS) * stride)
  mem.fill(0, stagingIn + k * stride, stagingOut)
  const encodeWindow = highRate ? encodeHighRate : encodeLowRate
  const recovery = allocShards(recoveryCount, shardLength!)

  forEachRange(shardLength!, segment, (offset, length) => {
    for (let i = 0; i < k; i++) mem.set(original[i]!.subarray(offset, offset + length), stagingIn + i * stride)
    forEachRange(length, window, (column, width) => {
      const step: EncodeStep = { k, r: recoveryCount, chunk, workA, workB, stride, width }
      encodeWindow(step, stagingIn + column, stagingOut + column)
    })
    for (let j = 0; j < recoveryCount; j++) {
      const at = stagingOut + j * stride
      recovery[j]!.set(mem.subarray(at, at + length), offset)
    }
  })
  return recovery
}

/** One column window of one encode: two work areas of `chunk` slots, `width` bytes per slot. */
interface EncodeStep {
  k: number
  r: number
  chunk: number
  workA: number
  workB: number
  /** Staging slot distance. */
  stride: number
  width: number
}

/**
 * High rate (more originals): recovery shard j is evaluation point j < chunk = nextPow2(r), original i is
 * point chunk + i. Each chunk of originals is interpolated (IFFT at its own points), the coefficient
 * vectors are summed, and one FFT at points [0, chunk) gives the recovery shards.
 */
function encodeHighRate(s: EncodeStep, input: number, output: number): void {
  const { k, r, chunk, workA, workB, stride, width } = s
  for (let start = 0; start < k; start += chunk) {
    const count = Math.min(chunk, k - start)
    const work = start === 0 ? workA : workB
    kernels.ifftMoved(input + start * stride, stride, work, width, width, chunk, count, start + chunk, 0)
    if (start > 0) kernels.xorSlots(workA, workB, width, width, chunk)
  }
  kernels.fftMoved(workA, width, workA, width, output, stride, width, chunk, r, 0, 0)
}

/**
 * Low rate (more recovery): original i is evaluation point i < chunk = nextPow2(k), recovery shard j is
 * point chunk + j. The originals are interpolated once (IFFT at [0, chunk)) and that polynomial is
 * evaluated (FFT) at each following chunk of points.
 */
function encodeLowRate(s: EncodeStep, input: number, output: number): void {
  const { k, r, chunk, workA, workB, stride, width } = s
  kernels.ifftMoved(input, stride, workA, width, width, chunk, k, 0, 0)
  // Each chunk's FFT reads the coefficients in A, works in B and writes its recovery shards to staging.
  for (let start = 0; start < r; start += chunk) {
    const count = Math.min(chunk, r - start)
    kernels.fftMoved(workA, width, workB, width, output + start * stride, stride, width, chunk, count, start + chunk, 0)
  }
}
