import * as varint from 'uint8-varint'

/** Unsigned LEB128 varints in their shortest encoding (uint8-varint), as frames' length prefixes and protobuf use them. */

/** Bytes of the varint of `value` (a non-negative safe integer). */
export const varintSize = varint.encodingLength

/** Writes the varint of `value` at `offset`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  varint.encodeUint8Array(value, buf, offset)
  return offset + varint.encodingLength(value)
}
