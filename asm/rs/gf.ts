// GF(2^16) tables, built exactly as reed-solomon-simd (and Leopard-RS) build them: logarithms are taken
// with respect to a generator of the field x^16 + x^5 + x^3 + x^2 + 1 (0x1002D), but elements are written
// in the Cantor basis below, which is what makes the additive FFT's subspaces line up with bit prefixes.

import { ERASURES, EXP, GF_MODULUS, GF_ORDER, LOG, LOG_WALSH, LUT_BUILT, MUL_LUT, SKEW } from './layout'
import { fwht } from './fwht'
import { initNibbleMask } from './simd'

/** The field polynomial, including the x^16 term. */
const GF_POLYNOMIAL: i32 = 0x1002d

/** Cantor basis of GF(2^16) over GF(2), as polynomial-basis elements (Leopard-RS's table). */
const CANTOR_BASIS: StaticArray<u16> = [
  0x0001, 0xacca, 0x3c0e, 0x163e, 0xc582, 0xed2e, 0x914c, 0x4012, 0x6c98, 0x10d8, 0x6a72, 0xb900, 0xfdb8, 0xfb34,
  0xff38, 0x991e,
]

@inline
export function expAt(i: i32): i32 {
  return load<u16>(EXP + (<usize>i << 1))
}

@inline
export function logAt(x: i32): i32 {
  return load<u16>(LOG + (<usize>x << 1))
}

@inline
export function skewAt(i: i32): i32 {
  return load<u16>(SKEW + (<usize>i << 1))
}

/** Addition of logarithms modulo 65535, leaving 65535 itself as an alias of 0 (as the crate does). */
@inline
export function addMod(x: i32, y: i32): i32 {
  const sum = x + y
  return (sum + (sum >>> 16)) & 0xffff
}

/** Subtraction of logarithms modulo 65535, the crate's wrapping form. */
@inline
export function subMod(x: i32, y: i32): i32 {
  const dif = <u32>(x - y)
  return <i32>((dif + (dif >>> 16)) & 0xffff)
}

/** x · exp(logM), with x an element and logM a logarithm. */
export function mulLog(x: i32, logM: i32): i32 {
  if (x == 0) return 0
  return expAt(addMod(logAt(x), logM))
}

function initExpLog(): void {
  // Linear-feedback shift register over the polynomial basis: EXP temporarily holds polynomial-basis logs.
  let state = 1
  for (let i = 0; i < GF_MODULUS; i++) {
    store<u16>(EXP + (<usize>state << 1), <u16>i)
    state <<= 1
    if (state >= GF_ORDER) state ^= GF_POLYNOMIAL
  }
  store<u16>(EXP, <u16>GF_MODULUS)

  // LOG[j] = the element whose Cantor-basis coordinates are the bits of j, in the polynomial basis.
  store<u16>(LOG, 0)
  for (let i = 0; i < 16; i++) {
    const width = 1 << i
    const basis = <i32>unchecked(CANTOR_BASIS[i])
    for (let j = 0; j < width; j++) {
      store<u16>(LOG + (<usize>(j + width) << 1), <u16>(logAt(j) ^ basis))
    }
  }
  // Compose: LOG[j] = log of Cantor element j; EXP is its inverse.
  for (let i = 0; i < GF_ORDER; i++) store<u16>(LOG + (<usize>i << 1), <u16>expAt(logAt(i)))
  for (let i = 0; i < GF_ORDER; i++) store<u16>(EXP + (<usize>logAt(i) << 1), <u16>i)
  store<u16>(EXP + (<usize>GF_MODULUS << 1), <u16>expAt(0))
}

/** Skew factors of the Lin–Chung–Han FFT (the crate's `initialize_skew`), stored as logarithms. */
function initSkew(): void {
  // 15 working values, kept in the (not yet used) erasure scratch area: the module allocates nothing.
  const temp = ERASURES
  for (let i = 1; i < 16; i++) store<i32>(temp + (<usize>(i - 1) << 2), 1 << i)

  for (let m = 0; m < 15; m++) {
    const step = 1 << (m + 1)
    store<u16>(SKEW + (<usize>((1 << m) - 1) << 1), 0)
    for (let i = m; i < 15; i++) {
      const s = 1 << (i + 1)
      const t = load<i32>(temp + (<usize>i << 2))
      for (let j = (1 << m) - 1; j < s; j += step) {
        store<u16>(SKEW + (<usize>(j + s) << 1), <u16>(skewAt(j) ^ t))
      }
    }
    const tm = load<i32>(temp + (<usize>m << 2))
    const logTm = GF_MODULUS - logAt(mulLog(tm, logAt(tm ^ 1)))
    store<i32>(temp + (<usize>m << 2), logTm)
    for (let i = m + 1; i < 15; i++) {
      const ti = load<i32>(temp + (<usize>i << 2))
      store<i32>(temp + (<usize>i << 2), mulLog(ti, addMod(logAt(ti ^ 1), logTm)))
    }
  }
  for (let i = 0; i < GF_MODULUS; i++) store<u16>(SKEW + (<usize>i << 1), <u16>logAt(skewAt(i)))
}

function initLogWalsh(): void {
  memory.copy(LOG_WALSH, LOG, <usize>GF_ORDER << 1)
  store<u16>(LOG_WALSH, 0)
  fwht(LOG_WALSH, GF_ORDER)
}

export function initTables(): void {
  initNibbleMask()
  initExpLog()
  initSkew()
  initLogWalsh()
  memory.fill(LUT_BUILT, 0, <usize>GF_ORDER)
}

/**
 * Address of the 128-byte nibble table for multiplying by exp(logM): bytes [16·i, 16·i+16) hold the low
 * bytes and [64 + 16·i, 64 + 16·i + 16) the high bytes of (x << 4i) · exp(logM) for x = 0..15. Built on
 * first use, so only the few thousand logarithms a code actually uses cost anything.
 */
export function mulLut(logM: i32): usize {
  const lut = MUL_LUT + (<usize>logM << 7)
  if (load<u8>(LUT_BUILT + <usize>logM) == 0) {
    for (let i = 0; i < 4; i++) {
      for (let x = 0; x < 16; x++) {
        const prod = mulLog(x << (i * 4), logM)
        store<u8>(lut + <usize>(i * 16 + x), <u8>prod)
        store<u8>(lut + <usize>(64 + i * 16 + x), <u8>(prod >> 8))
      }
    }
    store<u8>(LUT_BUILT + <usize>logM, 1)
  }
  return lut
}
