/**
 * BLS12-381 points as the EVM side sees them (PROTOCOL §4, §4.2): affine coordinates next to the compressed
 * ZCash encodings dacnet signs with, the sign rule that ties the two together, and the EIP-2537 precompile
 * encodings. Pure byte and bigint work; the curve arithmetic stays in attest/bls.ts.
 */
import { decodePublicKey, decodeSignature, publicKeyCoordinates, signatureCoordinates } from '../attest/bls.ts'
import { ChainErrorCode, chainError } from './errors.ts'

/** The BLS12-381 base field modulus. */
export const P = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn
/** Bytes in a base-field element, big-endian: P is 381 bits. */
export const FP_SIZE = 48
/** Bytes in an EIP-2537 field element: 16 zero bytes, then the 48-byte value. */
export const EIP2537_FP_SIZE = 64
/** EIP-2537 G1 point (x ‖ y) and G2 point (x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1). */
export const EIP2537_G1_SIZE = 2 * EIP2537_FP_SIZE
export const EIP2537_G2_SIZE = 4 * EIP2537_FP_SIZE

/** The top three bits of a compressed encoding's first byte: compressed, infinity, sign of y. */
export const COMPRESSED_FLAG = 0x80
export const INFINITY_FLAG = 0x40
export const SIGN_FLAG = 0x20

const HALF_P = (P - 1n) / 2n

export function uintFromBytes(bytes: Uint8Array): bigint {
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  return value
}

/** `value` as `size` big-endian bytes; it must fit. */
export function uintToBytes(value: bigint, size: number): Uint8Array {
  if (value < 0n || value >> BigInt(8 * size) !== 0n) {
    throw chainError(ChainErrorCode.MALFORMED_POINT, `${value} is not an unsigned integer of ${size} bytes`)
  }
  const out = new Uint8Array(size)
  let rest = value
  for (let i = size - 1; i >= 0; i--, rest >>= 8n) out[i] = Number(rest & 0xffn)
  return out
}

/** The "sign" of a field element as the compressed encoding's 0x20 flag records it: y > (p − 1) / 2. */
export function fpIsPositive(y: bigint): boolean {
  return y > HALF_P
}

/** The sign of an Fp2 element c0 + c1·u: that of c1, or of c0 when c1 = 0. */
export function fp2IsPositive(c0: bigint, c1: bigint): boolean {
  return c1 === 0n ? fpIsPositive(c0) : fpIsPositive(c1)
}

/** The 0x20 flag of a compressed point (first byte). */
export function compressedSign(compressed: Uint8Array): boolean {
  return (compressed[0]! & SIGN_FLAG) !== 0
}

/** The first 48-byte field of a compressed encoding with its three flag bits cleared (x, or x.c1 for G2). */
export function compressedX(compressed: Uint8Array): bigint {
  const x = compressed.slice(0, FP_SIZE)
  x[0]! &= 0x1f
  return uintFromBytes(x)
}

/** −P for coordinates x ‖ y: x ‖ (p − y). Infinity (96 zero bytes) is its own negation. */
export function negateG1Coordinates(xy: Uint8Array): Uint8Array {
  checkLength(xy, 2 * FP_SIZE, 'G1 coordinates')
  const y = uintFromBytes(xy.subarray(FP_SIZE))
  if (y >= P) throw chainError(ChainErrorCode.MALFORMED_POINT, 'y is not below p')
  const out = xy.slice()
  if (xy.every((b) => b === 0)) return out
  out.set(uintToBytes(y === 0n ? 0n : P - y, FP_SIZE), FP_SIZE)
  return out
}

/**
 * The y coordinate (48 bytes) a registration sends with a compressed key (PROTOCOL §4.2 `publicKeyY`). The
 * key is decoded with every check, so only a valid key has one.
 */
export function publicKeyY(compressed: Uint8Array): Uint8Array {
  return publicKeyCoordinates(decodePublicKey(compressed)).slice(FP_SIZE)
}

/** The y coordinate y.c1 ‖ y.c0 (96 bytes) of a compressed G2 point: a proof's `proofY` or a certificate's witness. */
export function signatureY(compressed: Uint8Array): Uint8Array {
  return signatureCoordinates(decodeSignature(compressed)).slice(2 * FP_SIZE)
}

/** An EIP-2537 field element: 16 zero bytes and the 48-byte value, which must be below p. */
export function eip2537Fp(value: bigint): Uint8Array {
  if (value < 0n || value >= P) throw chainError(ChainErrorCode.MALFORMED_POINT, 'a field element must be below p')
  const out = new Uint8Array(EIP2537_FP_SIZE)
  out.set(uintToBytes(value, FP_SIZE), EIP2537_FP_SIZE - FP_SIZE)
  return out
}

/** Reads an EIP-2537 field element, refusing non-zero padding and values not below p. */
export function fpFromEip2537(bytes: Uint8Array): bigint {
  checkLength(bytes, EIP2537_FP_SIZE, 'an EIP-2537 field element')
  if (bytes.subarray(0, EIP2537_FP_SIZE - FP_SIZE).some((b) => b !== 0)) {
    throw chainError(ChainErrorCode.MALFORMED_POINT, 'EIP-2537 field element padding is not zero')
  }
  const value = uintFromBytes(bytes.subarray(EIP2537_FP_SIZE - FP_SIZE))
  if (value >= P) throw chainError(ChainErrorCode.MALFORMED_POINT, 'EIP-2537 field element is not below p')
  return value
}

/** G1 coordinates x ‖ y (96 bytes; zeros for infinity) as an EIP-2537 point (128 bytes; zeros for infinity). */
export function eip2537G1(xy: Uint8Array): Uint8Array {
  checkLength(xy, 2 * FP_SIZE, 'G1 coordinates')
  return fieldsToEip2537([xy.subarray(0, FP_SIZE), xy.subarray(FP_SIZE)])
}

/** An EIP-2537 G1 point back to coordinates x ‖ y. */
export function g1FromEip2537(bytes: Uint8Array): Uint8Array {
  checkLength(bytes, EIP2537_G1_SIZE, 'an EIP-2537 G1 point')
  return eip2537ToFields(bytes, [0, 1])
}

/**
 * G2 coordinates in the ZCash order x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0 (192 bytes, as blst writes them) as an
 * EIP-2537 point, whose Fp2 elements are c0 ‖ c1 (256 bytes).
 */
export function eip2537G2(coordinates: Uint8Array): Uint8Array {
  checkLength(coordinates, 4 * FP_SIZE, 'G2 coordinates')
  const field = (i: number) => coordinates.subarray(i * FP_SIZE, (i + 1) * FP_SIZE)
  return fieldsToEip2537([field(1), field(0), field(3), field(2)])
}

/** An EIP-2537 G2 point back to the ZCash order x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0. */
export function g2FromEip2537(bytes: Uint8Array): Uint8Array {
  checkLength(bytes, EIP2537_G2_SIZE, 'an EIP-2537 G2 point')
  return eip2537ToFields(bytes, [1, 0, 3, 2])
}

function fieldsToEip2537(fields: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(fields.length * EIP2537_FP_SIZE)
  for (const [i, field] of fields.entries()) out.set(eip2537Fp(uintFromBytes(field)), i * EIP2537_FP_SIZE)
  return out
}

/** Field i of the output is EIP-2537 element order[i] of the input. */
function eip2537ToFields(bytes: Uint8Array, order: number[]): Uint8Array {
  const out = new Uint8Array(order.length * FP_SIZE)
  for (const [i, from] of order.entries()) {
    const element = bytes.subarray(from * EIP2537_FP_SIZE, (from + 1) * EIP2537_FP_SIZE)
    out.set(uintToBytes(fpFromEip2537(element), FP_SIZE), i * FP_SIZE)
  }
  return out
}

function checkLength(bytes: Uint8Array, size: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) {
    throw chainError(ChainErrorCode.MALFORMED_POINT, `${what} is ${size} bytes, got ${bytes?.length}`)
  }
}
