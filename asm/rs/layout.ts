// Fixed linear-memory layout of the Reed–Solomon module (byte offsets).
//
// The module runs with the `stub` runtime and allocates nothing: every table and scratch area has a fixed
// address, so the offsets fold into the load/store immediates. Static data (the Cantor basis) lives below
// TABLES_BASE; `init()` traps if the compiler ever places more than that there.

/** GF(2^16) has 65536 elements. */
export const GF_ORDER: i32 = 65536
/** 2^16 - 1: the order of the multiplicative group, and the logarithm stored for the element 0. */
export const GF_MODULUS: i32 = 65535

/** First byte after the static data: one 64 KiB wasm page. */
export const TABLES_BASE: usize = 0x10000
/** exp[log] -> element, 65536 u16 (128 KiB). */
export const EXP: usize = 0x10000
/** log[element] -> log, 65536 u16 (128 KiB); log[0] = GF_MODULUS. */
export const LOG: usize = 0x30000
/** FFT skew factors as logarithms, 65536 u16 (128 KiB); only 0..65534 are meaningful. */
export const SKEW: usize = 0x50000
/** Walsh–Hadamard transform of the log table, 65536 u16 (128 KiB), used to evaluate the erasure locator. */
export const LOG_WALSH: usize = 0x70000
/** Per-position erasure-locator logarithms for the decode under way, 65536 u16 (128 KiB). */
export const ERASURES: usize = 0x90000
/** Per-position flag: 1 if the decode under way received that shard, 65536 u8 (64 KiB). */
export const RECEIVED: usize = 0xb0000
/** Per-logarithm flag: 1 once MUL_LUT for that logarithm is filled, 65536 u8 (64 KiB). */
export const LUT_BUILT: usize = 0xc0000
/** The v128 constant 0x0F×16 (16 bytes), see simd.ts `nibbleMask`. */
export const NIBBLE_MASK: usize = 0xd0000
/** Nibble multiplication tables, 128 bytes per logarithm, 65536 of them (8 MiB), filled on first use. */
export const MUL_LUT: usize = 0x100000
/** Prefix counts (i32 × 65537) of positions holding non-zero input, for skipping all-zero IFFT blocks. */
export const NONZERO_PREFIX: usize = 0x900000
/** Prefix counts (i32 × 65537) of positions whose output is wanted, for skipping unneeded FFT blocks. */
export const WANTED_PREFIX: usize = 0x950000
/** Slot positions (i32 × 65536) for gathering shards into, and scattering them out of, a transform. */
export const POSITIONS: usize = 0x9a0000
/** Everything from here on belongs to the caller (shard staging); the caller grows memory as needed. */
export const DYNAMIC_BASE: usize = 0xa00000
