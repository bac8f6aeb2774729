/**
 * Reed–Solomon erasure code over GF(2^16), byte-compatible with the Rust crate reed-solomon-simd (the
 * Leopard-RS construction: additive FFT in the Lin–Chung–Han basis, O(n log n)). See docs/PROTOCOL.md §1.1.
 */
export { rsDecode } from './decode.ts'
export { rsEncode } from './encode.ts'
export { RsErrorCode } from './errors.ts'
