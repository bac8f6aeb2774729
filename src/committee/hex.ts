/** The two hex digits of each byte value. */
const DIGITS = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/**
 * Lower-case hex with a 0x prefix: the one way dacnet writes bytes in JSON. Plain JavaScript (no Node `Buffer`),
 * so the browser bundle runs the same code; what it writes (keys, signatures, headers) is small.
 */
export function toHex(bytes: Uint8Array): string {
  let out = '0x'
  for (const byte of bytes) out += DIGITS[byte]
  return out
}

/**
 * Parses hex with or without a 0x prefix, in either case. Returns undefined for anything else (odd length,
 * non-hex characters, wrong length) so that each caller can throw its own typed error.
 */
export function fromHex(text: unknown, expectedLength?: number): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined
  const digits = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return undefined
  if (expectedLength !== undefined && digits.length !== expectedLength * 2) return undefined
  const bytes = new Uint8Array(digits.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16)
  return bytes
}
