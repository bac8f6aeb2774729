// 128-bit SIMD GF(2^16) arithmetic on the crate's shard layout: each 64-byte chunk holds 32 elements as
// 32 low bytes then 32 high bytes, so one 16-element group is a v128 of low bytes at `p` and a v128 of
// high bytes at `p + 32`. A product is the XOR of four 16-entry table look-ups, one per input nibble,
// done with `i8x16.relaxed_swizzle` (x86 `pshufb`); every index is masked to 0..15, where relaxed and
// strict swizzle agree, so results never depend on the engine.

import { NIBBLE_MASK } from './layout'

/**
 * The 0x0F byte mask. V8 rematerialises a `v128.const` at every use (three instructions each); loaded from
 * memory once per kernel call it stays in a register or becomes a memory operand.
 */
@inline
export function nibbleMask(): v128 {
  return v128.load(NIBBLE_MASK)
}

/** Stores the mask `nibbleMask()` reads; part of init. */
export function initNibbleMask(): void {
  v128.store(NIBBLE_MASK, i8x16.splat(0x0f))
}

/** Low bytes of the product of the 16 elements (lo, hi) with the table at `lut`. */
@inline
export function productLow(lut: usize, lo: v128, hi: v128, mask: v128): v128 {
  const a = i8x16.relaxed_swizzle(v128.load(lut, 0), v128.and(lo, mask))
  const b = i8x16.relaxed_swizzle(v128.load(lut, 16), v128.and(i16x8.shr_u(lo, 4), mask))
  const c = i8x16.relaxed_swizzle(v128.load(lut, 32), v128.and(hi, mask))
  const d = i8x16.relaxed_swizzle(v128.load(lut, 48), v128.and(i16x8.shr_u(hi, 4), mask))
  return v128.xor(v128.xor(a, b), v128.xor(c, d))
}

/** High bytes of the product of the 16 elements (lo, hi) with the table at `lut`. */
@inline
export function productHigh(lut: usize, lo: v128, hi: v128, mask: v128): v128 {
  const a = i8x16.relaxed_swizzle(v128.load(lut, 64), v128.and(lo, mask))
  const b = i8x16.relaxed_swizzle(v128.load(lut, 80), v128.and(i16x8.shr_u(lo, 4), mask))
  const c = i8x16.relaxed_swizzle(v128.load(lut, 96), v128.and(hi, mask))
  const d = i8x16.relaxed_swizzle(v128.load(lut, 112), v128.and(i16x8.shr_u(hi, 4), mask))
  return v128.xor(v128.xor(a, b), v128.xor(c, d))
}

@inline
function mulGroup(p: usize, lut: usize, mask: v128): void {
  const lo = v128.load(p)
  const hi = v128.load(p, 32)
  v128.store(p, productLow(lut, lo, hi, mask))
  v128.store(p, productHigh(lut, lo, hi, mask), 32)
}

/** `x[0..width) *= exp(log)` in place, with `lut` the table of that logarithm. */
export function mulInPlace(x: usize, width: usize, lut: usize): void {
  const mask = nibbleMask()
  for (let off: usize = 0; off < width; off += 64) {
    mulGroup(x + off, lut, mask)
    mulGroup(x + off + 16, lut, mask)
  }
}

/** `x[0..width) ^= y[0..width)`. */
export function xorInto(x: usize, y: usize, width: usize): void {
  for (let off: usize = 0; off < width; off += 64) {
    v128.store(x + off, v128.xor(v128.load(x + off), v128.load(y + off)))
    v128.store(x + off, v128.xor(v128.load(x + off, 16), v128.load(y + off, 16)), 16)
    v128.store(x + off, v128.xor(v128.load(x + off, 32), v128.load(y + off, 32)), 32)
    v128.store(x + off, v128.xor(v128.load(x + off, 48), v128.load(y + off, 48)), 48)
  }
}

/** `x[0..width) = y[0..width)`, width a multiple of 64; an inline loop beats `memory.copy` at these sizes. */
export function copyBytes(x: usize, y: usize, width: usize): void {
  for (let off: usize = 0; off < width; off += 64) {
    v128.store(x + off, v128.load(y + off))
    v128.store(x + off, v128.load(y + off, 16), 16)
    v128.store(x + off, v128.load(y + off, 32), 32)
    v128.store(x + off, v128.load(y + off, 48), 48)
  }
}
