// Entry point of the Reed–Solomon WebAssembly module. The TypeScript side (src/erasure/rs) stages shard
// columns into linear memory and drives these kernels; everything here works on "slots" (one shard's
// column window each) at `base + i·stride`, `width` bytes (a multiple of 64) per slot.

import { evalErasureLocator } from './fwht'
import {
  DYNAMIC_BASE,
  ERASURES,
  GF_MODULUS,
  NONZERO_PREFIX,
  POSITIONS,
  RECEIVED,
  TABLES_BASE,
  WANTED_PREFIX,
} from './layout'
import { initTables, mulLut } from './gf'
import { copyBytes, mulInPlace, xorInto } from './simd'

export { fft, fftMoved } from './fft'
export { ifft, ifftMoved } from './ifft'
export { evalErasureLocator }

/** Builds the field, skew and Walsh tables; call once after instantiation. */
export function init(): void {
  // The fixed layout starts at TABLES_BASE; static data must end below it.
  if (__heap_base > TABLES_BASE) unreachable()
  initTables()
}

export function dynamicBase(): usize {
  return DYNAMIC_BASE
}
export function receivedBase(): usize {
  return RECEIVED
}
export function erasuresBase(): usize {
  return ERASURES
}
export function nonzeroPrefixBase(): usize {
  return NONZERO_PREFIX
}
export function wantedPrefixBase(): usize {
  return WANTED_PREFIX
}
export function positionsBase(): usize {
  return POSITIONS
}

/** Slots [0, count) at `dst` ^= the same slots at `src`. */
export function xorSlots(dst: usize, src: usize, stride: usize, width: usize, count: i32): void {
  for (let i = 0; i < count; i++) xorInto(dst + <usize>i * stride, src + <usize>i * stride, width)
}

/**
 * Gather: for i in [0, count), slot `positions[i]` (an i32 array in the POSITIONS area) of `work` (slots
 * `width` apart) = `width` bytes at `staging + i·stride`. Scatter (`toStaging`) copies the other way.
 */
export function movePositions(
  positions: usize,
  work: usize,
  width: usize,
  staging: usize,
  stride: usize,
  count: i32,
  toStaging: bool,
): void {
  for (let i = 0; i < count; i++) {
    const slot = work + <usize>load<i32>(positions + (<usize>i << 2)) * width
    const staged = staging + <usize>i * stride
    if (toStaging) copyBytes(staged, slot, width)
    else copyBytes(slot, staged, width)
  }
}

/** Slots per block of the cache-blocked formal derivative: 32 KiB (an L1 data cache) of 256-byte slots. */
const DERIVATIVE_BLOCK_BYTES: usize = 32 * 1024

/**
 * Formal derivative in the LCH basis over slots [0, count), count a power of two (the crate's
 * `formal_derivative`: for i = 1..count-1 ascending, with w the lowest set bit of i, slots [i - w, i) ^=
 * slots [i, i + w)). Every one of those steps reads slots no earlier step wrote, so the result is
 * slot j ^= Σ slot j + w over the powers of two w with bit w of j clear; that lets the work go block by
 * block, in ascending order: first the steps inside a block (w below the block size), then the xor of
 * each farther block (higher, so still unmodified) into it.
 */
export function formalDerivative(base: usize, stride: usize, width: usize, count: i32): void {
  let block = 1
  while (block < count && <usize>(block * 2) * width <= DERIVATIVE_BLOCK_BYTES) block *= 2
  for (let start = 0; start < count; start += block) {
    const at = base + <usize>start * stride
    for (let i = 1; i < block; i++) {
      const w = i & -i
      xorSlots(at + <usize>(i - w) * stride, at + <usize>i * stride, stride, width, w)
    }
    for (let w = block; w < count; w <<= 1) {
      if ((start & w) == 0) xorSlots(at, at + <usize>w * stride, stride, width, block)
    }
  }
}

/**
 * Multiplies `count` staged shards (slot i at `staging + i·stride`, `width` bytes) by their erasure-locator
 * values: slot i belongs to evaluation point `positions[i]`. `reveal` divides instead (the decoder's last
 * step for the missing shards). Done once per staged segment rather than per column window, so each
 * slot's table is loaded once.
 */
export function scaleStaged(
  staging: usize,
  stride: usize,
  width: usize,
  positions: usize,
  count: i32,
  reveal: bool,
): void {
  for (let i = 0; i < count; i++) {
    const pos = <usize>load<i32>(positions + (<usize>i << 2))
    const logM = <i32>load<u16>(ERASURES + (pos << 1))
    mulInPlace(staging + <usize>i * stride, width, mulLut(reveal ? GF_MODULUS - logM : logM))
  }
}

/** Zeroes the slots of [0, count) that hold no received shard (erased or padding points). */
export function zeroUnreceived(base: usize, stride: usize, width: usize, count: i32): void {
  for (let pos = 0; pos < count; pos++) {
    if (load<u8>(RECEIVED + <usize>pos) == 0) memory.fill(base + <usize>pos * stride, 0, width)
  }
}
