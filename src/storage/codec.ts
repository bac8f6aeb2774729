/** Fixed-width big-endian integers and small byte helpers shared by the repositories. */

const TWO_32 = 2 ** 32

/** Writes a non-negative safe integer as u64 big-endian (two u32 halves: no BigInt on the hot path). */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / TWO_32))
  view.setUint32(offset + 4, value >>> 0)
}

/** Reads a u64 big-endian; values above 2^53 - 1 lose precision, which no field we write can reach. */
export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset) * TWO_32 + view.getUint32(offset + 4)
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** A Map key for a blob id: latin1 maps every byte to one UTF-16 unit, so it is exact and cheap. */
export function blobIdKey(blobId: Uint8Array): string {
  return Buffer.from(blobId.buffer, blobId.byteOffset, blobId.byteLength).toString('latin1')
}
