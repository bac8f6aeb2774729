// The additive FFT and its inverse in the Lin–Chung–Han polynomial basis, with the crate's skew factors
// and truncation rules, two butterfly layers at a time (radix 4, as the crate's SIMD engines do) so each
// element is loaded and stored half as often.
//
// A transform works on `size` slots at `base + i·stride` (i = 0..size-1), `width` bytes of each: the
// caller chooses a column window of the shards so the working set stays in cache. A butterfly's
// multiplier is a skew logarithm; GF_MODULUS there means "multiply by 0", so that butterfly is a bare XOR.
//
// FFT butterfly (x, y, m):  x ^= y·m; y ^= x.       IFFT butterfly (x, y, m):  y ^= x; x ^= y·m.
//
// Each product x ^= y·m is spelt out nibble by nibble (see simd.ts `nibble`): the low and high bytes of x
// take their look-ups for one nibble of y before the next nibble is extracted, which keeps the radix-4
// butterflies within the 16 xmm registers V8 has (grouping the look-ups by result byte spilled, ~7% slower).

import { mulLut } from './gf'
import { GF_MODULUS } from './layout'

/** Table address for a skew logarithm, or 0 for the zero factor. */
@inline
export function skewLut(logM: i32): usize {
  return logM == GF_MODULUS ? 0 : mulLut(logM)
}

/** True if positions [from, to) contain at least one counted position of the prefix array at `prefix`. */
@inline
export function anyIn(prefix: usize, from: i32, to: i32): bool {
  return load<i32>(prefix + (<usize>to << 2)) != load<i32>(prefix + (<usize>from << 2))
}
