import { describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { signAttestation } from '../../src/attest/attestation.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import {
  CERTIFICATE_FIXED_SIZE,
  certificateFromJson,
  certificateToJson,
  decodeCertificate,
  encodeCertificate,
  MAX_CERTIFICATE_SIZE,
} from '../../src/attest/certificate-codec.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import committeeVectors from '../committee/fixtures/vectors.json' with { type: 'json' }
import vectors from './fixtures/vectors.json' with { type: 'json' }
import { headerFor, hex, memberSecretKey, realCommittee } from './helpers.ts'

const bytes = (h: string) => new Uint8Array(Buffer.from(h.slice(2), 'hex'))
const malformed = expect.objectContaining({ code: AttestErrorCode.MALFORMED_CERTIFICATE })

async function certify(memberCount: number, signers: number[]): Promise<Certificate> {
  const committee = realCommittee(Array.from({ length: memberCount }, () => 1n))
  const header = headerFor(committee)
  const aggregator = new Aggregator({ committee, header })
  await Promise.all(
    signers.map((i) => aggregator.add(signAttestation(memberSecretKey(i), attestationContextOf(header)))),
  )
  return aggregator.certificate()
}

describe('certificate layout', () => {
  it('round-trips through binary and JSON for several member counts', async () => {
    for (const [count, signers] of [
      [1, [0]],
      [8, [0, 1, 2, 3, 4, 7]],
      [9, [0, 1, 2, 3, 4, 5, 8]],
    ] as const) {
      const certificate = await certify(count, [...signers])
      const encoded = encodeCertificate(certificate)
      expect(encoded).toHaveLength(CERTIFICATE_FIXED_SIZE + Math.ceil(count / 8))
      expect(decodeCertificate(encoded)).toEqual(certificate)
      const json = certificateToJson(certificate)
      expect(certificateFromJson(JSON.parse(JSON.stringify(json)))).toEqual(certificate)
      expect(certificateFromJson(JSON.stringify(json))).toEqual(certificate)
      // Decoded from a Buffer the caller then reuses (a socket's, a file's): the certificate keeps its own bytes.
      const buffer = Buffer.from(encoded)
      const decoded = decodeCertificate(buffer)
      buffer.fill(0xff)
      expect(encodeCertificate(decoded)).toEqual(encoded)
    }
    expect(MAX_CERTIFICATE_SIZE).toBe(206 + 8192)
  })

  it('refuses truncation, trailing bytes, set padding bits and bad fields', async () => {
    const encoded = encodeCertificate(await certify(9, [0, 1, 2, 3, 4, 5, 8]))
    const patched = (at: number, value: number) => {
      const copy = encoded.slice()
      copy[at] = value
      return copy
    }
    const cases = [
      encoded.subarray(0, encoded.length - 1), // truncated bitmap
      encoded.subarray(0, 100), // truncated fixed part
      new Uint8Array([...encoded, 0]), // trailing byte
      patched(encoded.length - 1, 0b10), // padding bit (member 9 of 9) set
      patched(0, 2), // version
      patched(8, 1), // epoch differs from the header's
      patched(9 + 21 + 3, 1), // header k = 1: no longer matches its shard size (1000 bytes need 1024, not 64)
      patched(202 + 3, 0), // member count 0
      patched(202 + 3, 17), // member count 17 with a 2-byte bitmap: length mismatch
    ]
    for (const bad of cases) expect(() => decodeCertificate(bad)).toThrow(malformed)
  })

  it("refuses JSON with unknown fields, bad hex or a blob id that is not its header's", async () => {
    const json = certificateToJson(await certify(3, [0, 1]))
    const cases: object[] = [
      { ...json, extra: 1 },
      { ...json, signature: '0x12' },
      { ...json, signers: '0x0b' }, // bit 3 is padding for three members
      { ...json, signers: '0x0300' }, // two bytes for three members
      { ...json, signedStake: '-1' },
      { ...json, blobId: 'bafkreihtzlqtpztonugfqajzojxujbhdgwzxlqqnhwmcpp6cb4fl5vrgre' },
      { ...json, blobId: 'hello' },
      { ...json, memberCount: 0 },
    ]
    for (const bad of cases) expect(() => certificateFromJson(bad)).toThrow(malformed)
    expect(() => certificateFromJson('{')).toThrow(malformed)
  })

  it('matches the protocol vectors, and the vector certificate verifies', () => {
    const v = vectors.certificate
    const certificate = decodeCertificate(bytes(v.binary))
    expect(hex(encodeCertificate(certificate))).toBe(v.binary)
    expect(certificateToJson(certificate)).toEqual(v.json)
    expect(certificateFromJson(v.json)).toEqual(certificate)
    const registry = parseCommitteeFile(committeeVectors.committeeFile, { verifier: blsKeyVerifier })
    const result = verifyCertificate(certificate, registry.committees[0]!)
    expect(result.signers).toEqual(v.signers)
    expect(result.signedStake.toString()).toBe(v.signedStake)
    expect(result.blobId.toString()).toBe(vectors.attestation.blobId)
    // The vector's signatures are what each member signs; their sum is the certificate's signature.
    vectors.attestation.signatures.forEach((sig, i) => {
      const sk = memberSecretKey(i)
      expect(hex(signAttestation(sk, attestationContextOf(certificate.header)).signature)).toBe(sig)
    })
  })
})
