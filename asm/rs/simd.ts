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

// Products, nibble by nibble. A product y·m of 16 elements is 8 table look-ups: each of the 4 nibbles of y
// (`nibble`) indexes a 16-entry table for the low result bytes (`tableLow`) and one for the high result
// bytes (`tableHigh`). Callers take both look-ups of one nibble before extracting the next, so only one
// nibble vector per product is live at a time; extracting all four first (look-ups grouped by result
// byte) runs V8 out of the 16 xmm registers in a radix-4 butterfly, and the spills cost ~7%.

/**
 * Nibble `i` of 16 elements with low bytes `lo` and high bytes `hi`, one per byte (0..15): 0 and 1 are the
 * low and high nibbles of `lo`, 2 and 3 those of `hi`.
 */
@inline
export function nibble(lo: v128, hi: v128, i: i32, mask: v128): v128 {
  const v = i < 2 ? lo : hi
  return v128.and((i & 1) == 0 ? v : i16x8.shr_u(v, 4), mask)
}

/** The table of factor `lut` for nibble `i`, giving the low result bytes. */
@inline
export function tableLow(lut: usize, i: i32): v128 {
  return v128.load(lut + (<usize>i << 4))
}

/** The table of factor `lut` for nibble `i`, giving the high result bytes. */
@inline
export function tableHigh(lut: usize, i: i32): v128 {
  return v128.load(lut + 64 + (<usize>i << 4))
}

/** `acc` ^ the look-up of nibble values `n` in `table`. */
@inline
export function lookup(acc: v128, table: v128, n: v128): v128 {
  return v128.xor(acc, i8x16.relaxed_swizzle(table, n))
}

@inline
function mulGroup(p: usize, lut: usize, mask: v128): void {
  const lo = v128.load(p)
  const hi = v128.load(p, 32)
  let n = nibble(lo, hi, 0, mask)
  let x0 = i8x16.relaxed_swizzle(tableLow(lut, 0), n)
  let x1 = i8x16.relaxed_swizzle(tableHigh(lut, 0), n)
  n = nibble(lo, hi, 1, mask)
  x0 = lookup(x0, tableLow(lut, 1), n)
  x1 = lookup(x1, tableHigh(lut, 1), n)
  n = nibble(lo, hi, 2, mask)
  x0 = lookup(x0, tableLow(lut, 2), n)
  x1 = lookup(x1, tableHigh(lut, 2), n)
  n = nibble(lo, hi, 3, mask)
  x0 = lookup(x0, tableLow(lut, 3), n)
  x1 = lookup(x1, tableHigh(lut, 3), n)
  v128.store(p, x0)
  v128.store(p, x1, 32)
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
