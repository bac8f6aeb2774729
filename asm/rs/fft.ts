// The additive FFT (evaluation) of transform.ts: radix-4 passes, depth first, with the copy into and out of the
// transform folded into its first and last passes.

import { skewAt } from './gf'
import { WANTED_PREFIX } from './layout'
import { copyBytes, lookup, nibble, nibbleMask, tableHigh, tableLow } from './simd'
import { anyIn, skewLut } from './transform'

@inline
function fft2Group(i0: usize, i1: usize, o0: usize, o1: usize, lut: usize, mask: v128): void {
  let x0 = v128.load(i0)
  let x1 = v128.load(i0, 32)
  let y0 = v128.load(i1)
  let y1 = v128.load(i1, 32)
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
  y0 = v128.xor(y0, x0)
  y1 = v128.xor(y1, x1)
  v128.store(o0, x0)
  v128.store(o0, x1, 32)
  v128.store(o1, y0)
  v128.store(o1, y1, 32)
}

/** Two FFT layers on one 16-element group of slots (a, b, c, d) = (i, i + dist, i + 2·dist, i + 3·dist). */
@inline
function fft4Group(
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
  // Outer layer: (a, c) and (b, d) share one factor.
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
  c0 = v128.xor(c0, a0)
  c1 = v128.xor(c1, a1)
  d0 = v128.xor(d0, b0)
  d1 = v128.xor(d1, b1)
  // Inner layer: (a, b) and (c, d).
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
  b0 = v128.xor(b0, a0)
  b1 = v128.xor(b1, a1)
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
  d0 = v128.xor(d0, c0)
  d1 = v128.xor(d1, c1)
  v128.store(out0, a0)
  v128.store(out0, a1, 32)
  v128.store(out0 + outStep, b0)
  v128.store(out0 + outStep, b1, 32)
  v128.store(out0 + 2 * outStep, c0)
  v128.store(out0 + 2 * outStep, c1, 32)
  v128.store(out0 + 3 * outStep, d0)
  v128.store(out0 + 3 * outStep, d1, 32)
}

/**
 * One radix-4 FFT pass on the block of `4·dist` slots at position `r`: reads slots at `inBase`, writes at
 * `outBase` (the same area for in-place passes).
 */
function fftPass4(
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
      fft4Group(p + off, inStep, q + off, outStep, l01, l23, l02, mask)
      fft4Group(p + off + 16, inStep, q + off + 16, outStep, l01, l23, l02, mask)
    }
  }
}

/** The radix-2 FFT layer (dist = 1) on slots r and r + 1. */
function fftPass2(
  inBase: usize,
  inStride: usize,
  outBase: usize,
  outStride: usize,
  width: usize,
  r: i32,
  skewDelta: i32,
  mask: v128,
): void {
  const lut = skewLut(skewAt(r + skewDelta))
  const p = inBase + <usize>r * inStride
  const q = outBase + <usize>r * outStride
  for (let off: usize = 0; off < width; off += 64) {
    fft2Group(p + off, p + inStride + off, q + off, q + outStride + off, lut, mask)
    fft2Group(p + off + 16, p + inStride + off + 16, q + off + 16, q + outStride + off + 16, lut, mask)
  }
}

// The transform's data areas for the recursion below (the module is single-threaded and not re-entrant).
let fftSrc: usize = 0
let fftSrcStride: usize = 0
let fftWork: usize = 0
let fftWorkStride: usize = 0
let fftDst: usize = 0
let fftDstStride: usize = 0
let fftWidth: usize = 0
let fftTruncated: i32 = 0
let fftSkewDelta: i32 = 0
let fftWantedOnly: bool = false

/**
 * FFT of the block of `blockSize` slots at `r`, depth first: this block's first two layers, then each
 * quarter completely, so the small blocks of the last layers are done while they are still in L1 cache
 * (the same butterflies in the same per-element order as layer-by-layer, hence the same result).
 */
function fftBlock(r: i32, blockSize: i32, top: bool, mask: v128): void {
  if (r >= fftTruncated) return
  if (fftWantedOnly && !anyIn(WANTED_PREFIX, r, r + blockSize)) return
  const inBase = top ? fftSrc : fftWork
  const inStride = top ? fftSrcStride : fftWorkStride
  if (blockSize == 2) {
    fftPass2(inBase, inStride, fftDst, fftDstStride, fftWidth, r, fftSkewDelta, mask)
    return
  }
  const dist = blockSize >> 2
  const last = dist == 1
  fftPass4(
    inBase,
    inStride,
    last ? fftDst : fftWork,
    last ? fftDstStride : fftWorkStride,
    fftWidth,
    r,
    dist,
    fftSkewDelta,
    mask,
  )
  if (!last) for (let q = 0; q < 4; q++) fftBlock(r + q * dist, dist, false, mask)
}

/**
 * FFT of `size` (a power of two) slots, evaluated at the points offset by `skewDelta`, moving data on
 * the way: the first pass reads slots at `src` (`srcStride` apart), middle passes work in place at
 * `work`, the last pass writes to `dst`; any two of the three may be the same area. This folds the
 * copy-in and copy-out of a transform into passes that load and store anyway.
 *
 * Only outputs [0, truncated) are computed (the last pass may also write up to the end of the last
 * radix-4 block, so `dst` needs 3 slots of slack); with `wantedOnly`, a block is also skipped when
 * WANTED_PREFIX counts no wanted output in it (a finer form of truncation).
 */
export function fftMoved(
  src: usize,
  srcStride: usize,
  work: usize,
  workStride: usize,
  dst: usize,
  dstStride: usize,
  width: usize,
  size: i32,
  truncated: i32,
  skewDelta: i32,
  wantedOnly: bool,
): void {
  if (size == 1) {
    copyBytes(dst, src, width)
    return
  }
  fftSrc = src
  fftSrcStride = srcStride
  fftWork = work
  fftWorkStride = workStride
  fftDst = dst
  fftDstStride = dstStride
  fftWidth = width
  fftTruncated = truncated
  fftSkewDelta = skewDelta
  fftWantedOnly = wantedOnly
  fftBlock(0, size, true, nibbleMask())
}

/** In-place FFT; see `fftMoved`. */
export function fft(
  base: usize,
  stride: usize,
  width: usize,
  size: i32,
  truncated: i32,
  skewDelta: i32,
  wantedOnly: bool,
): void {
  fftMoved(base, stride, base, stride, base, stride, width, size, truncated, skewDelta, wantedOnly)
}
