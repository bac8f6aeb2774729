import { describe, expect, it } from 'vitest'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { ATTESTATION_TAG, attestationContextOf, attestationMessage } from '../../src/attest/message.ts'
import { blobIdOf } from '../../src/erasure/blob-id.ts'
import { decodeHeader } from '../../src/erasure/header.ts'
import vectors from './fixtures/vectors.json' with { type: 'json' }
import { hex } from './helpers.ts'

const bytes = (h: string) => new Uint8Array(Buffer.from(h.slice(2), 'hex'))

describe('attestation message', () => {
  const v = vectors.attestation
  const header = decodeHeader(bytes(v.header))
  const context = attestationContextOf(header)

  it('matches the protocol vectors', () => {
    expect(Buffer.from(ATTESTATION_TAG).toString()).toBe('dacnet/attestation/v1')
    expect(context).toEqual({ networkId: v.networkId, epoch: v.epoch, blobId: bytes(v.blobIdBytes) })
    expect(blobIdOf(bytes(v.header)).toString()).toBe(v.blobId)
    expect(bytes(v.preimage)).toHaveLength(21 + 4 + 8 + 36)
    expect(hex(attestationMessage(context))).toBe(v.message)
  })

  it('binds network id, epoch and blob id', () => {
    const messages = new Set(
      [
        context,
        { ...context, networkId: context.networkId + 1 },
        { ...context, epoch: context.epoch + 1 },
        { ...context, blobId: blobIdOf(new Uint8Array([1])).bytes },
        // Moving a byte between the network id and epoch fields changes the message: fixed widths.
        { ...context, networkId: 0, epoch: 2 ** 32 },
      ].map((c) => hex(attestationMessage(c))),
    )
    expect(messages.size).toBe(5)
  })

  it('refuses out-of-range fields', () => {
    for (const bad of [
      { ...context, networkId: 2 ** 32 },
      { ...context, epoch: -1 },
      { ...context, epoch: 2 ** 53 },
      { ...context, blobId: new Uint8Array(32) },
    ]) {
      expect(() => attestationMessage(bad)).toThrow(
        expect.objectContaining({ code: AttestErrorCode.MALFORMED_ATTESTATION }),
      )
    }
  })
})
