import { AttestErrorCode, attestError } from './errors.ts'

/**
 * Signer bitmaps: bit i says whether member i (in the committee file's order) signed. Member i is bit
 * (i mod 8) of byte floor(i / 8), least significant bit first; the bitmap is ceil(memberCount / 8) bytes
 * and the padding bits past memberCount are zero.
 */
export function bitmapSize(memberCount: number): number {
  return Math.ceil(memberCount / 8)
}

export function bitmapFromSigners(memberCount: number, signers: Iterable<number>): Uint8Array {
  const bitmap = new Uint8Array(bitmapSize(memberCount))
  for (const i of signers) {
    if (!Number.isInteger(i) || i < 0 || i >= memberCount) {
      throw attestError(AttestErrorCode.BITMAP_LENGTH_MISMATCH, `signer ${i} is outside 0..${memberCount - 1}`)
    }
    bitmap[i >> 3]! |= 1 << (i & 7)
  }
  return bitmap
}

/** Member indices whose bits are set, ascending. */
export function signersOf(bitmap: Uint8Array, memberCount: number): number[] {
  const signers: number[] = []
  for (let i = 0; i < memberCount; i++) if ((bitmap[i >> 3]! >> (i & 7)) & 1) signers.push(i)
  return signers
}

/** Throws unless the bitmap is exactly ceil(memberCount / 8) bytes with zero padding bits. */
export function checkBitmap(bitmap: Uint8Array, memberCount: number): void {
  if (!(bitmap instanceof Uint8Array) || bitmap.length !== bitmapSize(memberCount)) {
    throw attestError(
      AttestErrorCode.BITMAP_LENGTH_MISMATCH,
      `a bitmap over ${memberCount} members is ${bitmapSize(memberCount)} bytes, got ${bitmap?.length}`,
      { memberCount, length: bitmap?.length },
    )
  }
  const used = memberCount & 7
  if (used !== 0 && bitmap[bitmap.length - 1]! >> used !== 0) {
    throw attestError(AttestErrorCode.MALFORMED_CERTIFICATE, 'bitmap padding bits must be zero', { memberCount })
  }
}
