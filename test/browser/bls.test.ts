/**
 * The browser's BLS backend (src/browser/bls.ts, @noble/curves) is the same scheme as blst: it verifies what blst
 * signs (single, same-message aggregates, batches of different messages, proofs of possession), encodes points
 * byte for byte as blst does, and refuses the same bad encodings: infinity, points outside the subgroup, off the
 * curve, wrong lengths. Certificates are checked through the bundle in bundle.test.ts.
 */
import { describe, expect, it } from 'vitest'
import * as blst from '../../src/attest/bls.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { publicKeyOf } from '../../src/attest/keys.ts'
import { createProofOfPossession, popMessage } from '../../src/attest/pop.ts'
import * as noble from '../../src/browser/bls.ts'
import { memberSecretKey } from '../attest/helpers.ts'
import {
  infinityVariant,
  nonSubgroupG1,
  nonSubgroupG2,
  offCurveG1,
  offCurveG2,
  signWithDst,
} from '../attest/rogue-points.ts'
import { prng } from '../erasure/helpers.ts'

const keys = Array.from({ length: 5 }, (_, i) => memberSecretKey(`browser-${i}`))
const publicKeys = keys.map((sk) => publicKeyOf(sk))
const message = new TextEncoder().encode('dacnet browser backend')
const other = new TextEncoder().encode('another message')

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'ACCEPTED'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

describe('noble BLS backend against blst', () => {
  it('has the same constants and hash-to-curve tag', () => {
    expect(noble.SIGNATURE_DST).toBe(blst.SIGNATURE_DST)
    expect([noble.SECRET_KEY_SIZE, noble.PUBLIC_KEY_SIZE, noble.SIGNATURE_SIZE]).toEqual([
      blst.SECRET_KEY_SIZE,
      blst.PUBLIC_KEY_SIZE,
      blst.SIGNATURE_SIZE,
    ])
    expect([noble.PUBLIC_KEY_COORDINATES_SIZE, noble.SIGNATURE_COORDINATES_SIZE]).toEqual([
      blst.PUBLIC_KEY_COORDINATES_SIZE,
      blst.SIGNATURE_COORDINATES_SIZE,
    ])
  })

  it('verifies blst signatures, and only over their own message and key', () => {
    keys.forEach((sk, i) => {
      const signature = noble.decodeSignature(blst.sign(sk, message))
      const publicKey = noble.decodePublicKey(publicKeys[i]!)
      expect(noble.verify(message, publicKey, signature)).toBe(true)
      expect(noble.verify(other, publicKey, signature)).toBe(false)
      expect(noble.verify(message, noble.decodePublicKey(publicKeys[(i + 1) % keys.length]!), signature)).toBe(false)
    })
  })

  it('signs exactly what blst signs (same DST, same encoding)', () => {
    const bytes = blst.secretKeyFromIkm(new Uint8Array(32).fill(7)).toBytes()
    expect(noble.sign(noble.secretKeyFromBytes(bytes), message)).toEqual(
      blst.sign(blst.secretKeyFromBytes(bytes), message),
    )
    expect(noble.publicKeyBytes(noble.secretKeyFromBytes(bytes).toPublicKey())).toEqual(
      blst.publicKeyBytes(blst.secretKeyFromBytes(bytes).toPublicKey()),
    )
  })

  it('encodes keys and signatures, compressed and as coordinates, byte for byte as blst', () => {
    keys.forEach((sk, i) => {
      const signature = blst.sign(sk, message)
      const nobleKey = noble.decodePublicKey(publicKeys[i]!)
      const nobleSignature = noble.decodeSignature(signature)
      expect(noble.publicKeyBytes(nobleKey)).toEqual(publicKeys[i])
      expect(noble.signatureBytes(nobleSignature)).toEqual(signature)
      const coordinates = blst.publicKeyCoordinates(blst.decodePublicKey(publicKeys[i]!))
      expect(noble.publicKeyCoordinates(nobleKey)).toEqual(coordinates)
      expect(noble.publicKeyBytes(noble.publicKeyFromCoordinates(coordinates))).toEqual(publicKeys[i])
      expect(noble.signatureCoordinates(nobleSignature)).toEqual(
        blst.signatureCoordinates(blst.decodeSignature(signature)),
      )
      expect(noble.publicKeyBytes(noble.negatePublicKey(nobleKey))).toEqual(
        blst.publicKeyBytes(blst.negatePublicKey(blst.decodePublicKey(publicKeys[i]!))),
      )
    })
    // A key plus its negation is the point at infinity: 96 zero bytes, as blst gives.
    const key = noble.decodePublicKey(publicKeys[0]!)
    expect(noble.publicKeyCoordinates(noble.aggregatePublicKeys([key, noble.negatePublicKey(key)]))).toEqual(
      new Uint8Array(96),
    )
  })

  it('verifies a same-message aggregate of blst signatures, and not with a key missing', () => {
    const signature = blst.aggregateSignatures(keys.map((sk) => blst.decodeSignature(blst.sign(sk, message))))
    const aggregate = noble.decodeSignature(blst.signatureBytes(signature))
    const all = noble.aggregatePublicKeys(publicKeys.map((pk) => noble.decodePublicKey(pk)))
    expect(noble.publicKeyBytes(all)).toEqual(
      blst.publicKeyBytes(blst.aggregatePublicKeys(publicKeys.map((pk) => blst.decodePublicKey(pk)))),
    )
    expect(noble.verify(message, all, aggregate)).toBe(true)
    const fewer = noble.aggregatePublicKeys(publicKeys.slice(1).map((pk) => noble.decodePublicKey(pk)))
    expect(noble.verify(message, fewer, aggregate)).toBe(false)
    const summed = noble.aggregateCheckedSignatureBytes(keys.map((sk) => blst.sign(sk, message)))
    expect(noble.signatureBytes(summed)).toEqual(blst.signatureBytes(signature))
  })

  it('batch-verifies blst signatures over different messages, and fails the batch for one bad triple', async () => {
    const sets = keys.map((sk, i) => {
      const m = new TextEncoder().encode(`message ${i}`)
      return {
        message: m,
        publicKey: noble.decodePublicKey(publicKeys[i]!),
        signature: noble.decodeSignature(blst.sign(sk, m)),
      }
    })
    expect(noble.verifyBatch(sets)).toBe(true)
    const swapped = sets.map((s, i) => (i === 2 ? { ...s, message: other } : s))
    expect(noble.verifyBatch(swapped)).toBe(false)
    const same = keys.map((sk, i) => ({
      publicKey: noble.decodePublicKey(publicKeys[i]!),
      signature: blst.sign(sk, message),
    }))
    const randomized = await noble.aggregateWithRandomness(same)
    expect(noble.verify(message, randomized.publicKey, randomized.signature)).toBe(true)
  })

  it('verifies blst proofs of possession, each for its own key only', () => {
    keys.forEach((sk, i) => {
      const proof = createProofOfPossession(sk)
      const key = noble.decodePublicKey(publicKeys[i]!)
      expect(noble.verify(popMessage(publicKeys[i]!), key, noble.decodeSignature(proof))).toBe(true)
      expect(noble.verify(popMessage(publicKeys[(i + 1) % 5]!), key, noble.decodeSignature(proof))).toBe(false)
    })
  })

  it('refuses infinity, points outside the subgroup or off the curve, and bad lengths, as blst does', () => {
    const random = prng(2026)
    const badKeys = [
      infinityVariant(random, 48),
      infinityVariant(random, 48),
      nonSubgroupG1(random).bytes,
      offCurveG1(random),
      publicKeys[0]!.subarray(0, 47),
      new Uint8Array([...publicKeys[0]!, 0]),
      new Uint8Array(96),
    ]
    for (const bytes of badKeys) {
      expect(
        codeOf(() => noble.decodePublicKey(bytes)),
        `key ${Buffer.from(bytes).toString('hex')}`,
      ).toBe(AttestErrorCode.MALFORMED_KEY)
      expect(codeOf(() => blst.decodePublicKey(bytes))).toBe(AttestErrorCode.MALFORMED_KEY)
    }
    const signature = blst.sign(keys[0]!, message)
    const badSignatures = [
      infinityVariant(random, 96),
      infinityVariant(random, 96),
      nonSubgroupG2(random).bytes,
      offCurveG2(random),
      signature.subarray(0, 95),
      new Uint8Array([...signature, 0]),
    ]
    for (const bytes of badSignatures) {
      expect(
        codeOf(() => noble.decodeSignature(bytes)),
        `signature ${Buffer.from(bytes).toString('hex')}`,
      ).toBe(AttestErrorCode.MALFORMED_SIGNATURE)
      expect(codeOf(() => blst.decodeSignature(bytes))).toBe(AttestErrorCode.MALFORMED_SIGNATURE)
    }
    // Uncompressed coordinates: infinity (zero coordinates) and a point outside the subgroup.
    const outside = nonSubgroupG1(random)
    const coordinates = new Uint8Array(96)
    coordinates.set(Buffer.from(outside.x.toString(16).padStart(96, '0'), 'hex'), 0)
    coordinates.set(Buffer.from(outside.y.toString(16).padStart(96, '0'), 'hex'), 48)
    for (const bytes of [new Uint8Array(96), coordinates, new Uint8Array(95)]) {
      expect(codeOf(() => noble.publicKeyFromCoordinates(bytes))).toBe(AttestErrorCode.MALFORMED_KEY)
      expect(codeOf(() => blst.publicKeyFromCoordinates(bytes))).toBe(AttestErrorCode.MALFORMED_KEY)
    }
  })

  it('does not accept a signature made with another hash-to-curve tag', () => {
    const wrongDst = signWithDst(keys[0]!.toBytes(), message, 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_')
    const key = noble.decodePublicKey(publicKeys[0]!)
    expect(noble.verify(message, key, noble.decodeSignature(wrongDst))).toBe(false)
    expect(blst.verify(message, blst.decodePublicKey(publicKeys[0]!), blst.decodeSignature(wrongDst))).toBe(false)
  })
})
