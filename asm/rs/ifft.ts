// The inverse additive FFT (interpolation) of transform.ts: radix-4 passes, depth first, the first one reading
// from the source area, blocks of zero input skipped.

import { skewAt } from './gf'
import { NONZERO_PREFIX } from './layout'
import { copyBytes, lookup, nibble, nibbleMask, tableHigh, tableLow } from './simd'
import { anyIn, skewLut } from './transform'

@inline
function ifft2Group(i0: usize, i1: usize, o0: usize, o1: usize, lut: usize, mask: v128): void {
  let x0 = v128.load(i0)
  let x1 = v128.load(i0, 32)
  const y0 = v128.xor(v128.load(i1), x0)
  const y1 = v128.xor(v128.load(i1, 32), x1)
  let n: v128
  if (lut != 0) {
    n = nibble(y0, y1, 0, mask)
    x0 = lookup(x0, tableLow(lut, 0), n)
    x1 = lookup(x1, tableHigh(lut, 0), n)
    n = nibble(y0, y1, 1, mask)
    x0 = lookup(x0, tableLow(lut, 1), n)
    x1 = lookup(x1, tableHigh(lut, 1), n)
    n = nibble(y0, y1, 2, mask)
    x0 = lookup(x0, tableLow(lut, 2), n)
    x1 = lookup(x1, tableHigh(lut, 2), n)
    n = nibble(y0, y1, 3, mask)
    x0 = lookup(x0, tableLow(lut, 3), n)
    x1 = lookup(x1, tableHigh(lut, 3), n)
  }
  v128.store(o0, x0)
  v128.store(o0, x1, 32)
  v128.store(o1, y0)
  v128.store(o1, y1, 32)
}

@inline
function ifft4Group(
  in0: usize,
  inStep: usize,
  out0: usize,
  outStep: usize,
  l01: usize,
  l23: usize,
  l02: usize,
  mask: v128,
): void {
  let a0 = v128.load(in0)
  let a1 = v128.load(in0, 32)
  let b0 = v128.load(in0 + inStep)
  let b1 = v128.load(in0 + inStep, 32)
  let c0 = v128.load(in0 + 2 * inStep)
  let c1 = v128.load(in0 + 2 * inStep, 32)
  let d0 = v128.load(in0 + 3 * inStep)
  let d1 = v128.load(in0 + 3 * inStep, 32)
  let n: v128
  // Inner layer first: (a, b) and (c, d).
  b0 = v128.xor(b0, a0)
  b1 = v128.xor(b1, a1)
  if (l01 != 0) {
    n = nibble(b0, b1, 0, mask)
    a0 = lookup(a0, tableLow(l01, 0), n)
    a1 = lookup(a1, tableHigh(l01, 0), n)
    n = nibble(b0, b1, 1, mask)
    a0 = lookup(a0, tableLow(l01, 1), n)
    a1 = lookup(a1, tableHigh(l01, 1), n)
    n = nibble(b0, b1, 2, mask)
    a0 = lookup(a0, tableLow(l01, 2), n)
    a1 = lookup(a1, tableHigh(l01, 2), n)
    n = nibble(b0, b1, 3, mask)
    a0 = lookup(a0, tableLow(l01, 3), n)
    a1 = lookup(a1, tableHigh(l01, 3), n)
  }
  d0 = v128.xor(d0, c0)
  d1 = v128.xor(d1, c1)
  if (l23 != 0) {
    n = nibble(d0, d1, 0, mask)
    c0 = lookup(c0, tableLow(l23, 0), n)
    c1 = lookup(c1, tableHigh(l23, 0), n)
    n = nibble(d0, d1, 1, mask)
    c0 = lookup(c0, tableLow(l23, 1), n)
    c1 = lookup(c1, tableHigh(l23, 1), n)
    n = nibble(d0, d1, 2, mask)
    c0 = lookup(c0, tableLow(l23, 2), n)
    c1 = lookup(c1, tableHigh(l23, 2), n)
    n = nibble(d0, d1, 3, mask)
    c0 = lookup(c0, tableLow(l23, 3), n)
    c1 = lookup(c1, tableHigh(l23, 3), n)
  }
  // Outer layer: (a, c) and (b, d).
  c0 = v128.xor(c0, a0)
  c1 = v128.xor(c1, a1)
  d0 = v128.xor(d0, b0)
  d1 = v128.xor(d1, b1)
  if (l02 != 0) {
    n = nibble(c0, c1, 0, mask)
    a0 = lookup(a0, tableLow(l02, 0), n)
    a1 = lookup(a1, tableHigh(l02, 0), n)
    n = nibble(c0, c1, 1, mask)
    a0 = lookup(a0, tableLow(l02, 1), n)
    a1 = lookup(a1, tableHigh(l02, 1), n)
    n = nibble(c0, c1, 2, mask)
    a0 = lookup(a0, tableLow(l02, 2), n)
    a1 = lookup(a1, tableHigh(l02, 2), n)
    n = nibble(c0, c1, 3, mask)
    a0 = lookup(a0, tableLow(l02, 3), n)
    a1 = lookup(a1, tableHigh(l02, 3), n)
    n = nibble(d0, d1, 0, mask)
    b0 = lookup(b0, tableLow(l02, 0), n)
    b1 = lookup(b1, tableHigh(l02, 0), n)
    n = nibble(d0, d1, 1, mask)
    b0 = lookup(b0, tableLow(l02, 1), n)
    b1 = lookup(b1, tableHigh(l02, 1), n)
    n = nibble(d0, d1, 2, mask)
    b0 = lookup(b0, tableLow(l02, 2), n)
    b1 = lookup(b1, tableHigh(l02, 2), n)
    n = nibble(d0, d1, 3, mask)
    b0 = lookup(b0, tableLow(l02, 3), n)
    b1 = lookup(b1, tableHigh(l02, 3), n)
  }
  v128.store(out0, a0)
  v128.store(out0, a1, 32)
  v128.store(out0 + outStep, b0)
  v128.store(out0 + outStep, b1, 32)
  v128.store(out0 + 2 * outStep, c0)
  v128.store(out0 + 2 * outStep, c1, 32)
  v128.store(out0 + 3 * outStep, d0)
  v128.store(out0 + 3 * outStep, d1, 32)
}

/** One radix-4 IFFT pass on the block of `4·dist` slots at `r`, from `inBase` to `outBase` (maybe equal). */
function ifftPass4(
  inBase: usize,
  inStride: usize,
  outBase: usize,
  outStride: usize,
  width: usize,
  r: i32,
  dist: i32,
  skewDelta: i32,
  mask: v128,
): void {
  const at = r + dist + skewDelta - 1
  const l01 = skewLut(skewAt(at))
  const l02 = skewLut(skewAt(at + dist))
  const l23 = skewLut(skewAt(at + dist * 2))
  const inStep = <usize>dist * inStride
  const outStep = <usize>dist * outStride
  for (let i = r; i < r + dist; i++) {
    const p = inBase + <usize>i * inStride
    const q = outBase + <usize>i * outStride
    for (let off: usize = 0; off < width; off += 64) {
      ifft4Group(p + off, inStep, q + off, outStep, l01, l23, l02, mask)
      ifft4Group(p + off + 16, inStep, q + off + 16, outStep, l01, l23, l02, mask)
    }
  }
}

/** The radix-2 IFFT layer with distance `dist` over the whole range [0, 2·dist). */
function ifftPass2(
  inBase: usize,
  inStride: usize,
  outBase: usize,
  outStride: usize,
  width: usize,
  dist: i32,
  skewDelta: i32,
  mask: v128,
): void {
  const lut = skewLut(skewAt(dist + skewDelta - 1))
  const inStep = <usize>dist * inStride
  const outStep = <usize>dist * outStride
  for (let i = 0; i < dist; i++) {
    const p = inBase + <usize>i * inStride
    const q = outBase + <usize>i * outStride
    for (let off: usize = 0; off < width; off += 64) {
      ifft2Group(p + off, p + inStep + off, q + off, q + outStep + off, lut, mask)
      ifft2Group(p + off + 16, p + inStep + off + 16, q + off + 16, q + outStep + off + 16, lut, mask)
    }
  }
}

// The transform's data areas for the recursion below (the module is single-threaded and not re-entrant).
let ifftSrc: usize = 0
let ifftSrcStride: usize = 0
let ifftWork: usize = 0
let ifftWorkStride: usize = 0
let ifftWidth: usize = 0
let ifftTruncated: i32 = 0
let ifftSkewDelta: i32 = 0
let ifftNonzeroOnly: bool = false

/**
 * IFFT of the block of `blockSize` (a power of four, at least 4) slots at `r`, depth first: each quarter
 * completely, then this block's two layers; the first layer reads from the source area. Blocks at or
 * past `truncated`, or all zero, are skipped: their IFFT is zero.
 */
function ifftBlock(r: i32, blockSize: i32, mask: v128): void {
  if (r >= ifftTruncated) return
  if (ifftNonzeroOnly && !anyIn(NONZERO_PREFIX, r, r + blockSize)) return
  const dist = blockSize >> 2
  if (dist > 1) {
    for (let q = 0; q < 4; q++) ifftBlock(r + q * dist, dist, mask)
    ifftPass4(ifftWork, ifftWorkStride, ifftWork, ifftWorkStride, ifftWidth, r, dist, ifftSkewDelta, mask)
  } else {
    ifftPass4(ifftSrc, ifftSrcStride, ifftWork, ifftWorkStride, ifftWidth, r, dist, ifftSkewDelta, mask)
  }
}

/**
 * IFFT of `size` (a power of two) slots at the points offset by `skewDelta`: the first layer reads the
 * slots at `src` (`srcStride` apart, may be `work` itself), everything else works in place at `work`,
 * which folds a copy into a pass that loads and stores anyway. Inputs at [truncated, size) must be zero
 * (in `src` up to the end of the last radix-4 block, 3 slots of slack); blocks there are skipped, and the
 * `work` slots they cover are zeroed. With `nonzeroOnly`, a block is also skipped when NONZERO_PREFIX counts
 * no non-zero input in it (the IFFT of zeros is zeros; such blocks must be zero in `work` already).
 */
export function ifftMoved(
  src: usize,
  srcStride: usize,
  work: usize,
  workStride: usize,
  width: usize,
  size: i32,
  truncated: i32,
  skewDelta: i32,
  nonzeroOnly: bool,
): void {
  const mask = nibbleMask()
  if (size == 1) {
    if (src != work) copyBytes(work, src, width)
    return
  }
  if (size == 2) {
    ifftPass2(src, srcStride, work, workStride, width, 1, skewDelta, mask)
    return
  }
  if (src != work) {
    // Slots no first-layer block reaches are read by later layers: they must hold zeros.
    const reached = min((truncated + 3) & ~3, size)
    for (let i = reached; i < size; i++) memory.fill(work + <usize>i * workStride, 0, width)
  }
  ifftSrc = src
  ifftSrcStride = srcStride
  ifftWork = work
  ifftWorkStride = workStride
  ifftWidth = width
  ifftTruncated = truncated
  ifftSkewDelta = skewDelta
  ifftNonzeroOnly = nonzeroOnly
  // Radix-4 layers from dist = 1 up cover a power of four; an odd number of layers leaves the top
  // radix-2 layer (one block, the whole range) for last.
  if ((ctz(size) & 1) == 0) {
    ifftBlock(0, size, mask)
    return
  }
  const half = size >> 1
  ifftBlock(0, half, mask)
  ifftBlock(half, half, mask)
  ifftPass2(work, workStride, work, workStride, width, half, skewDelta, mask)
}

/** In-place IFFT; see `ifftMoved`. */
export function ifft(
  base: usize,
  stride: usize,
  width: usize,
  size: i32,
  truncated: i32,
  skewDelta: i32,
  nonzeroOnly: bool,
): void {
  ifftMoved(base, stride, base, stride, width, size, truncated, skewDelta, nonzeroOnly)
}
