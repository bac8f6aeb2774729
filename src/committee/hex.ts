/** Lower-case hex with a 0x prefix: the one way dacnet writes bytes in JSON. */
export function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
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
  return new Uint8Array(Buffer.from(digits, 'hex'))
}
