// Fast Walsh–Hadamard transform over the integers modulo 65535 (logarithms), used by the decoder to
// evaluate the erasure-locator polynomial at every field element in O(n log n), as Leopard-RS does.

import { ERASURES, GF_ORDER, LOG_WALSH } from './layout'
import { addMod, subMod } from './gf'

@inline
function fwht4(data: usize, i0: usize, dist: usize): void {
  const p0 = data + (i0 << 1)
  const p1 = p0 + (dist << 1)
  const p2 = p1 + (dist << 1)
  const p3 = p2 + (dist << 1)
  const a = <i32>load<u16>(p0)
  const b = <i32>load<u16>(p1)
  const c = <i32>load<u16>(p2)
  const d = <i32>load<u16>(p3)
  const s0 = addMod(a, b)
  const d0 = subMod(a, b)
  const s1 = addMod(c, d)
  const d1 = subMod(c, d)
  store<u16>(p0, <u16>addMod(s0, s1))
  store<u16>(p1, <u16>addMod(d0, d1))
  store<u16>(p2, <u16>subMod(s0, s1))
  store<u16>(p3, <u16>subMod(d0, d1))
}

/**
 * In-place transform of 65536 u16 at `data`, radix 4 (65536 = 4^8). Only the first `truncated` entries may
 * be non-zero, so blocks starting at or after it are skipped (they are all zero and stay zero).
 */
export function fwht(data: usize, truncated: i32): void {
  let dist: usize = 1
  let dist4: usize = 4
  while (dist4 <= <usize>GF_ORDER) {
    for (let r: usize = 0; r < <usize>truncated; r += dist4) {
      for (let i = r; i < r + dist; i++) fwht4(data, i, dist)
    }
    dist = dist4
    dist4 <<= 2
  }
}

/**
 * Evaluates the erasure locator: ERASURES holds 1 at erased positions and 0 elsewhere (non-zero only below
 * `truncated`); afterwards it holds, per position, the logarithm the decoder multiplies that shard by.
 */
export function evalErasureLocator(truncated: i32): void {
  fwht(ERASURES, truncated)
  for (let i: usize = 0; i < <usize>GF_ORDER; i++) {
    const product = <u32>load<u16>(ERASURES + (i << 1)) * <u32>load<u16>(LOG_WALSH + (i << 1))
    store<u16>(ERASURES + (i << 1), <u16>addMod(<i32>(product & 0xffff), <i32>(product >>> 16)))
  }
  fwht(ERASURES, GF_ORDER)
}
