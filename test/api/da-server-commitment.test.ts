/** The Alt-DA commitment codec: the byte layout PROTOCOL.md "Alt-DA commitment" specifies, and its refusals. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  COMMITMENT_PREFIX_SIZE,
  DACNET_DA_LAYER_BYTE,
  decodeCommitment,
  encodeCommitment,
  MAX_COMMITMENT_SIZE,
  parseCommitmentHex,
} from '../../src/api/da-server/commitment.ts'
import { DaServerErrorCode } from '../../src/api/da-server/errors.ts'
import { decodeCertificate, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { isDacnetError } from '../../src/errors.ts'
import vectors from '../attest/fixtures/vectors.json' with { type: 'json' }
import { realCommittee, signedCertificate } from '../attest/helpers.ts'

const committee = realCommittee([40n, 30n, 20n, 10n])
const certificate = signedCertificate(committee, [0, 1, 2])

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isDacnetError(err) ? err.code : `not a dacnet error: ${err}`
  }
  return undefined
}

describe('Alt-DA commitment', () => {
  it('is 0x01 (da-service), 0x64 (dacnet), 0x01 (payload version), then the binary certificate', () => {
    const commitment = encodeCommitment(certificate)
    const cert = encodeCertificate(certificate)
    expect([...commitment.subarray(0, COMMITMENT_PREFIX_SIZE)]).toEqual([0x01, 0x64, 0x01])
    expect(DACNET_DA_LAYER_BYTE).toBe(0x64)
    expect(Buffer.from(commitment.subarray(COMMITMENT_PREFIX_SIZE)).equals(Buffer.from(cert))).toBe(true)
    // 4 members: a 1-byte bitmap, so 3 + 206 + 1 bytes.
    expect(commitment.length).toBe(210)
    expect(decodeCommitment(commitment)).toEqual(certificate)
  })

  it('of the PROTOCOL.md §2.7 vector certificate is 0x016401 followed by its binary form', () => {
    const binary = vectors.certificate.binary
    const commitment = encodeCommitment(decodeCertificate(parseCommitmentHex(binary)))
    expect(`0x${Buffer.from(commitment).toString('hex')}`).toBe(`0x016401${binary.slice(2)}`)
  })

  it('reads the 0x hex op-alt-da writes in the get path, in either case', () => {
    const commitment = encodeCommitment(certificate)
    const hex = Buffer.from(commitment).toString('hex')
    expect(parseCommitmentHex(`0x${hex}`)).toEqual(commitment)
    expect(parseCommitmentHex(`0X${hex.toUpperCase()}`)).toEqual(commitment)
    for (const bad of [hex, `0x${hex}0`, `0x${hex.slice(0, -1)}g`, `0x${'00'.repeat(MAX_COMMITMENT_SIZE + 1)}`]) {
      expect(codeOf(() => parseCommitmentHex(bad))).toBe(DaServerErrorCode.MALFORMED_COMMITMENT)
    }
  })

  it('tells a foreign commitment (keccak256, another DA layer) from a malformed one', () => {
    const commitment = encodeCommitment(certificate)
    const with0 = (i: number, b: number) => Uint8Array.from(commitment, (x, j) => (j === i ? b : x))
    expect(codeOf(() => decodeCommitment(with0(0, 0x00)))).toBe(DaServerErrorCode.UNSUPPORTED_COMMITMENT)
    expect(codeOf(() => decodeCommitment(with0(1, 0x00)))).toBe(DaServerErrorCode.UNSUPPORTED_COMMITMENT)
    expect(codeOf(() => decodeCommitment(with0(1, 0x0c)))).toBe(DaServerErrorCode.UNSUPPORTED_COMMITMENT)
    expect(codeOf(() => decodeCommitment(with0(0, 0x02)))).toBe(DaServerErrorCode.MALFORMED_COMMITMENT)
    expect(codeOf(() => decodeCommitment(with0(2, 0x02)))).toBe(DaServerErrorCode.MALFORMED_COMMITMENT)
    expect(codeOf(() => decodeCommitment(commitment.subarray(0, 100)))).toBe(DaServerErrorCode.MALFORMED_COMMITMENT)
    expect(codeOf(() => decodeCommitment(new Uint8Array(0)))).toBe(DaServerErrorCode.MALFORMED_COMMITMENT)
    const trailing = new Uint8Array(commitment.length + 1)
    trailing.set(commitment)
    expect(codeOf(() => decodeCommitment(trailing))).toBe(DaServerErrorCode.MALFORMED_COMMITMENT)
  })

  it('refuses any byte string with one of its two codes, never another error', () => {
    const prefix = fc.constantFrom([], [0x01], [0x01, 0x64], [0x01, 0x64, 0x01])
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 400 }), (head, tail) => {
        const code = codeOf(() => decodeCommitment(Uint8Array.from([...head, ...tail])))
        expect([DaServerErrorCode.MALFORMED_COMMITMENT, DaServerErrorCode.UNSUPPORTED_COMMITMENT]).toContain(code)
      }),
      { numRuns: 500 },
    )
  })
})
