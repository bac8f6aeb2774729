/** Unsigned LEB128 varints in their shortest encoding, as frames' length prefixes and protobuf use them. */

/** Bytes of the unsigned LEB128 varint of `value` (a non-negative safe integer). */
export function varintSize(value: number): number {
  let size = 1
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) size++
  return size
}

/** Writes the varint of `value` at `offset`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  let at = offset
  let v = value
  while (v >= 0x80) {
    buf[at++] = (v % 0x80) | 0x80
    v = Math.floor(v / 0x80)
  }
  buf[at++] = v
  return at
}
