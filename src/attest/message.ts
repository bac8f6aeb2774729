import { createHash } from 'node:crypto'
import { BLOB_ID_SIZE, blobIdOf } from '../erasure/blob-id.ts'
import type { BlobHeader } from '../erasure/header.ts'
import { encodeHeader } from '../erasure/header.ts'
import { AttestErrorCode, attestError } from './errors.ts'

/** Type tag of availability attestations. A new message type or layout gets a new tag. */
export const ATTESTATION_TAG = new TextEncoder().encode('dacnet/attestation/v1')

/** What an attestation is about: one blob of one network in one committee epoch. */
export interface AttestationContext {
  /** u32. */
  readonly networkId: number
  /** u64 within 2^53 - 1. */
  readonly epoch: number
  /** The blob id's 36 CID bytes. */
  readonly blobId: Uint8Array
}

/** The context a member attests to for a blob: the header's network and epoch, and the header's blob id. */
export function attestationContextOf(header: BlobHeader): AttestationContext {
  return { networkId: header.networkId, epoch: header.epoch, blobId: blobIdOf(encodeHeader(header)).bytes }
}

/**
 * The 32 bytes a member signs:
 *
 *   SHA-256( "dacnet/attestation/v1" (21 bytes) || networkId u32 BE || epoch u64 BE || blobId (36 bytes) )
 *
 * Every field has a fixed length, so the preimage (69 bytes) parses one way only; the tag keeps it apart
 * from proofs of possession and from any later message type; network id and epoch keep a signature from
 * being replayed in another network or epoch. Never a bare blob id.
 */
export function attestationMessage(context: AttestationContext): Uint8Array {
  checkContext(context)
  const fields = new Uint8Array(4 + 8 + BLOB_ID_SIZE)
  const view = new DataView(fields.buffer)
  view.setUint32(0, context.networkId)
  view.setBigUint64(4, BigInt(context.epoch))
  fields.set(context.blobId, 12)
  return new Uint8Array(createHash('sha256').update(ATTESTATION_TAG).update(fields).digest())
}

export function checkContext(context: AttestationContext): void {
  const bad = (why: string) => attestError(AttestErrorCode.MALFORMED_ATTESTATION, why)
  if (!Number.isInteger(context.networkId) || context.networkId < 0 || context.networkId > 0xffff_ffff) {
    throw bad(`network id ${context.networkId} is not a u32`)
  }
  if (!Number.isSafeInteger(context.epoch) || context.epoch < 0) throw bad(`epoch ${context.epoch} is not a u64`)
  if (!(context.blobId instanceof Uint8Array) || context.blobId.length !== BLOB_ID_SIZE) {
    throw bad(`a blob id is ${BLOB_ID_SIZE} bytes`)
  }
}
