import { allocShards } from './buffers.ts'
import { RsErrorCode, rsError } from './errors.ts'
import { forEachRange, geometry } from './geometry.ts'
import { checkShardCounts, GF_ORDER, nextPow2, useHighRate } from './rate.ts'
import { checkShard, checkShardIndex } from './validate.ts'
import { DYNAMIC_BASE, heap, kernels, reserveMemory } from './wasm.ts'

/**
 * Bytes of the contiguous work area each window's transforms run in: measured best around half of the
 * 512 KiB L2 cache.
 */
const WORK_AREA_TARGET_BYTES = 256 * 1024

/**
 * All `originalCount` original shards from any `originalCount` (or more) of the n shards, keyed by index
 * (0..k-1 original, k..n-1 recovery). Given originals are returned as copies, missing ones recovered.
 * Shards are trusted to belong to one codeword: checking that (Merkle proofs) is the caller's job.
 */
export function rsDecode(originalCount: number, recoveryCount: number, shards: Map<number, Uint8Array>): Uint8Array[] {
  checkShardCounts(originalCount, recoveryCount)
  if (!(shards instanceof Map)) {
    throw rsError(RsErrorCode.INVALID_ARGUMENT, 'shards must be a Map from shard index to Uint8Array')
  }
  const k = originalCount
  const n = originalCount + recoveryCount
  let shardLength: number | undefined
  const recoveryIndices: number[] = []
  for (const [index, shard] of shards) {
    checkShardIndex(index, n)
    shardLength = checkShard(shard, `shard ${index}`, shardLength)
    if (index >= k) recoveryIndices.push(index - k)
  }
  if (shards.size < k) {
    throw rsError(RsErrorCode.NOT_ENOUGH_SHARDS, `${shards.size} shards given, ${k} needed`, {
      given: shards.size,
      needed: k,
    })
  }

  const result = allocShards(k, shardLength!)
  const missing: number[] = []
  for (let i = 0; i < k; i++) {
    const shard = shards.get(i)
    if (shard) result[i]!.set(shard)
    else missing.push(i)
  }
  if (missing.length === 0) return result

  // Any k shards determine the codeword; take the lowest recovery indices, which keeps the low-rate
  // transform as short as possible.
  recoveryIndices.sort((a, b) => a - b)
  const used = recoveryIndices.slice(0, missing.length)
  const plan = decodePlan(k, recoveryCount, used)
  runDecode(plan, shards, used, missing, result, shardLength!)
  return result
}

/**
 * Where each shard sits among the evaluation points, exactly as the encoder placed it (see encode.ts),
 * and the span the decoding transforms must cover.
 */
interface DecodePlan {
  k: number
  /** Evaluation point of original 0 (originals are consecutive). */
  originalBase: number
  /** Evaluation point of recovery shard 0 (recovery shards are consecutive). */
  recoveryBase: number
  /** Size of the transforms: a power of two covering every point in play. */
  workCount: number
  /** Inputs at [truncated, workCount) are zero. */
  truncated: number
  /** Erasure-locator positions at or beyond this are zero everywhere, so its FWHT can skip them. */
  locatorEnd: number
}

function decodePlan(k: number, recoveryCount: number, usedRecovery: number[]): DecodePlan {
  if (useHighRate(k, recoveryCount)) {
    // Recovery at [0, r), unused points [r, chunk) are unknown (erased), originals at [chunk, chunk + k),
    // and everything after is known zero padding.
    const chunk = nextPow2(recoveryCount)
    const end = chunk + k
    return { k, originalBase: chunk, recoveryBase: 0, workCount: nextPow2(end), truncated: end, locatorEnd: end }
  }
  // Originals at [0, k), known zero padding [k, chunk), recovery from chunk on. Low-rate recovery shards
  // do not depend on the recovery count, so the code can be cut after the last recovery shard in use:
  // every point after it is unknown (erased).
  const chunk = nextPow2(k)
  const lastUsed = usedRecovery.length > 0 ? usedRecovery[usedRecovery.length - 1]! : -1
  const end = chunk + lastUsed + 1
  return { k, originalBase: 0, recoveryBase: chunk, workCount: nextPow2(end), truncated: end, locatorEnd: GF_ORDER }
}

/** Fills RECEIVED, the erasure locator, and the prefix counts that let the transforms skip blocks. */
function prepareLocator(plan: DecodePlan, usedRecovery: number[], missing: number[]): void {
  const mem = heap()
  const received = mem.subarray(kernels.receivedBase(), kernels.receivedBase() + GF_ORDER)
  const erasures = new Uint16Array(mem.buffer, kernels.erasuresBase(), GF_ORDER)
  received.fill(0)
  for (let i = 0; i < plan.k; i++) received[plan.originalBase + i] = 1
  for (const i of missing) received[plan.originalBase + i] = 0
  for (const j of usedRecovery) received[plan.recoveryBase + j] = 1

  // Erased (1): every point that could carry a shard but did not arrive, and every point past the code.
  // Known (0): received points and the zero padding between the originals and the next chunk.
  erasures.fill(0)
  if (plan.recoveryBase === 0) {
    const originalEnd = plan.originalBase + plan.k
    for (let p = 0; p < originalEnd; p++) erasures[p] = received[p] ? 0 : 1
  } else {
    for (let p = 0; p < plan.k; p++) erasures[p] = received[p] ? 0 : 1
    for (let p = plan.recoveryBase; p < GF_ORDER; p++) erasures[p] = received[p] ? 0 : 1
  }
  kernels.evalErasureLocator(plan.locatorEnd)

  // Non-zero inputs are the received shards; wanted outputs are the missing originals.
  const nonzero = new Int32Array(mem.buffer, kernels.nonzeroPrefixBase(), GF_ORDER + 1)
  const wanted = new Int32Array(mem.buffer, kernels.wantedPrefixBase(), GF_ORDER + 1)
  const isWanted = new Uint8Array(plan.workCount)
  for (const i of missing) isWanted[plan.originalBase + i] = 1
  nonzero[0] = 0
  wanted[0] = 0
  for (let p = 0; p < plan.workCount; p++) {
    nonzero[p + 1] = nonzero[p]! + received[p]!
    wanted[p + 1] = wanted[p]! + isWanted[p]!
  }
}

function runDecode(
  plan: DecodePlan,
  shards: Map<number, Uint8Array>,
  usedRecovery: number[],
  missing: number[],
  result: Uint8Array[],
  shardLength: number,
): void {
  const { k, workCount } = plan
  // The k shards in use, with their evaluation points; then the points of the missing originals.
  const inputs: Uint8Array[] = []
  const positions: number[] = []
  for (let i = 0; i < k; i++) {
    const shard = shards.get(i)
    if (shard) {
      inputs.push(shard)
      positions.push(plan.originalBase + i)
    }
  }
  for (const j of usedRecovery) {
    inputs.push(shards.get(k + j)!)
    positions.push(plan.recoveryBase + j)
  }
  for (const i of missing) positions.push(plan.originalBase + i)

  const { segment, stride, window } = geometry(shardLength, k + missing.length, workCount, WORK_AREA_TARGET_BYTES)
  const work = DYNAMIC_BASE
  const stagingIn = work + workCount * window
  const stagingOut = stagingIn + k * stride
  reserveMemory(stagingOut + missing.length * stride)
  prepareLocator(plan, usedRecovery, missing)
  const mem = heap()
  const positionsIn = kernels.positionsBase()
  const positionsOut = positionsIn + k * 4
  new Int32Array(mem.buffer, positionsIn, positions.length).set(positions)
  // Outputs are wanted only at missing originals: the FFT can stop after the last of them.
  const fftTruncated = plan.originalBase + missing[missing.length - 1]! + 1

  forEachRange(shardLength, segment, (offset, length) => {
    for (let i = 0; i < k; i++) mem.set(inputs[i]!.subarray(offset, offset + length), stagingIn + i * stride)
    kernels.scaleStaged(stagingIn, stride, length, positionsIn, k, 0)
    forEachRange(length, window, (column, width) => {
      kernels.movePositions(positionsIn, work, width, stagingIn + column, stride, k, 0)
      kernels.zeroUnreceived(work, width, width, workCount)
      kernels.ifft(work, width, width, workCount, plan.truncated, 0, 1)
      kernels.formalDerivative(work, width, width, workCount)
      kernels.fft(work, width, width, workCount, fftTruncated, 0, 1)
      kernels.movePositions(positionsOut, work, width, stagingOut + column, stride, missing.length, 1)
    })
    kernels.scaleStaged(stagingOut, stride, length, positionsOut, missing.length, 1)
    for (let m = 0; m < missing.length; m++) {
      const at = stagingOut + m * stride
      result[missing[m]!]!.set(mem.subarray(at, at + length), offset)
    }
  })
}
