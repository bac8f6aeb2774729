import { createHash } from 'node:crypto'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { describe, expect, it } from 'vitest'
import {
  aggregatePublicKeys,
  decodePublicKey,
  negatePublicKey,
  PUBLIC_KEY_COORDINATES_SIZE,
  publicKeyCoordinates,
  publicKeyFromCoordinates,
  secretKeyFromIkm,
  signatureCoordinates,
} from '../../src/attest/bls.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { ChainErrorCode } from '../../src/chain/errors.ts'
import {
  compressedSign,
  compressedX,
  EIP2537_G1_SIZE,
  EIP2537_G2_SIZE,
  eip2537Fp,
  eip2537G1,
  eip2537G2,
  fp2IsPositive,
  fpFromEip2537,
  fpIsPositive,
  g1FromEip2537,
  g2FromEip2537,
  negateG1Coordinates,
  P,
  publicKeyY,
  signatureY,
  uintFromBytes,
  uintToBytes,
} from '../../src/chain/points.ts'

const code = (c: string) => expect.objectContaining({ code: c })
const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const POINTS = 300

const secretKeys = Array.from({ length: POINTS }, (_, i) => secretKeyFromIkm(sha256(`points test key ${i}`)))
const publicKeys = secretKeys.map((sk) => sk.toPublicKey())
// Signatures of distinct messages are unrelated G2 points.
const signatures = secretKeys.map((sk, i) => sk.sign(sha256(`points test message ${i}`)))

const fp = (bytes: Uint8Array, i: number) => uintFromBytes(bytes.subarray(48 * i, 48 * (i + 1)))

describe('field and sign rules', () => {
  it('p is the BLS12-381 base field modulus', () => {
    expect(P).toBe(bls12_381.fields.Fp.ORDER)
    expect(P.toString(2)).toHaveLength(381)
  })

  it('a G1 y is positive when y > (p − 1) / 2: blst sets the sign flag exactly then, over many points', () => {
    let positive = 0
    for (const pk of publicKeys) {
      const compressed = pk.toBytes(true)
      const y = fp(publicKeyCoordinates(pk), 1)
      expect(fpIsPositive(y)).toBe(compressedSign(compressed))
      // The negation has the other sign.
      expect(fpIsPositive(P - y)).toBe(!compressedSign(compressed))
      if (fpIsPositive(y)) positive++
    }
    expect(positive).toBeGreaterThan(POINTS / 4)
    expect(positive).toBeLessThan((3 * POINTS) / 4)
  })

  it('a G2 y = (c0, c1) takes the sign of c1 (of c0 when c1 = 0): blst agrees over many points', () => {
    let positive = 0
    for (const signature of signatures) {
      const coordinates = signatureCoordinates(signature)
      const [yc1, yc0] = [fp(coordinates, 2), fp(coordinates, 3)]
      expect(fp2IsPositive(yc0, yc1)).toBe(compressedSign(signature.toBytes(true)))
      if (fp2IsPositive(yc0, yc1)) positive++
    }
    expect(positive).toBeGreaterThan(POINTS / 4)
    expect(positive).toBeLessThan((3 * POINTS) / 4)
    // c1 = 0 happens on no random point: the rule's second half, directly.
    const half = (P - 1n) / 2n
    expect(fp2IsPositive(half + 1n, 0n)).toBe(true)
    expect(fp2IsPositive(half, 0n)).toBe(false)
    expect(fp2IsPositive(half + 1n, 1n)).toBe(false)
    expect(fp2IsPositive(0n, half + 1n)).toBe(true)
  })

  it('compressed x (flags cleared) and the coordinates are those noble reads from the same bytes', () => {
    for (let i = 0; i < 40; i++) {
      const pk = publicKeys[i]!.toBytes(true)
      const affine = bls12_381.G1.Point.fromBytes(pk).toAffine()
      const xy = publicKeyCoordinates(publicKeys[i]!)
      expect([compressedX(pk), fp(xy, 0), fp(xy, 1)]).toEqual([affine.x, affine.x, affine.y])
      expect(publicKeyY(pk)).toEqual(xy.subarray(48))

      const sig = signatures[i]!.toBytes(true)
      const g2 = bls12_381.G2.Point.fromBytes(sig).toAffine()
      const c = signatureCoordinates(signatures[i]!)
      expect([compressedX(sig), fp(c, 1), fp(c, 2), fp(c, 3)]).toEqual([g2.x.c1, g2.x.c0, g2.y.c1, g2.y.c0])
      expect(signatureY(sig)).toEqual(c.subarray(96))
    }
  })

  it('negating coordinates is negating the key (the compressed sign flip)', () => {
    for (const pk of publicKeys.slice(0, 20)) {
      expect(negateG1Coordinates(publicKeyCoordinates(pk))).toEqual(publicKeyCoordinates(negatePublicKey(pk)))
    }
    expect(negateG1Coordinates(new Uint8Array(96))).toEqual(new Uint8Array(96))
    const yTooBig = new Uint8Array(96)
    yTooBig.set(uintToBytes(P, 48), 48)
    expect(() => negateG1Coordinates(yTooBig)).toThrow(code(ChainErrorCode.MALFORMED_POINT))
  })

  it('a key and its negation sum to infinity, written as 96 zero bytes', () => {
    const pk = publicKeys[0]!
    expect(publicKeyCoordinates(aggregatePublicKeys([pk, negatePublicKey(pk)]))).toEqual(
      new Uint8Array(PUBLIC_KEY_COORDINATES_SIZE),
    )
  })

  it('coordinates decode back with every check: off-curve, infinity and non-subgroup points are refused', () => {
    for (const pk of publicKeys.slice(0, 10)) {
      expect(publicKeyFromCoordinates(publicKeyCoordinates(pk)).toBytes(true)).toEqual(pk.toBytes(true))
    }
    const offCurve = publicKeyCoordinates(publicKeys[0]!)
    offCurve[95]! ^= 1
    // x = 0 gives y² = 4: (0, 2) is on E1 but, the cofactor being > 1, not in G1.
    const notInGroup = new Uint8Array(96)
    notInGroup[95] = 2
    for (const bytes of [offCurve, notInGroup, new Uint8Array(96), new Uint8Array(95)]) {
      expect(() => publicKeyFromCoordinates(bytes)).toThrow(code(AttestErrorCode.MALFORMED_KEY))
    }
    expect(() => publicKeyY(new Uint8Array(48))).toThrow(code(AttestErrorCode.MALFORMED_KEY))
    expect(() => signatureY(new Uint8Array(96))).toThrow(code(AttestErrorCode.MALFORMED_SIGNATURE))
  })
})

describe('EIP-2537 encodings', () => {
  it('a field element is 16 zero bytes and the 48-byte value, below p', () => {
    const one = eip2537Fp(1n)
    expect(one).toHaveLength(64)
    expect([...one.subarray(0, 63)].every((b) => b === 0)).toBe(true)
    expect(one[63]).toBe(1)
    expect(fpFromEip2537(eip2537Fp(P - 1n))).toBe(P - 1n)
    expect(() => eip2537Fp(P)).toThrow(code(ChainErrorCode.MALFORMED_POINT))
    const padded = eip2537Fp(5n)
    padded[15] = 1
    expect(() => fpFromEip2537(padded)).toThrow(code(ChainErrorCode.MALFORMED_POINT))
    const tooBig = new Uint8Array(64)
    tooBig.set(uintToBytes(P, 48), 16)
    expect(() => fpFromEip2537(tooBig)).toThrow(code(ChainErrorCode.MALFORMED_POINT))
  })

  it('G1 is x ‖ y and G2 is x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1, infinity all zeros, and both read back', () => {
    for (let i = 0; i < 10; i++) {
      const xy = publicKeyCoordinates(publicKeys[i]!)
      const g1 = eip2537G1(xy)
      expect(g1).toHaveLength(EIP2537_G1_SIZE)
      const affine = bls12_381.G1.Point.fromBytes(publicKeys[i]!.toBytes(true)).toAffine()
      expect([fpFromEip2537(g1.subarray(0, 64)), fpFromEip2537(g1.subarray(64))]).toEqual([affine.x, affine.y])
      expect(g1FromEip2537(g1)).toEqual(xy)

      const coordinates = signatureCoordinates(signatures[i]!)
      const g2 = eip2537G2(coordinates)
      expect(g2).toHaveLength(EIP2537_G2_SIZE)
      const a2 = bls12_381.G2.Point.fromBytes(signatures[i]!.toBytes(true)).toAffine()
      const elements = [0, 1, 2, 3].map((j) => fpFromEip2537(g2.subarray(64 * j, 64 * (j + 1))))
      expect(elements).toEqual([a2.x.c0, a2.x.c1, a2.y.c0, a2.y.c1])
      expect(g2FromEip2537(g2)).toEqual(coordinates)
    }
    expect(eip2537G1(new Uint8Array(96))).toEqual(new Uint8Array(128))
    expect(eip2537G2(new Uint8Array(192))).toEqual(new Uint8Array(256))
    expect(() => eip2537G1(new Uint8Array(95))).toThrow(code(ChainErrorCode.MALFORMED_POINT))
    expect(() => g2FromEip2537(new Uint8Array(255))).toThrow(code(ChainErrorCode.MALFORMED_POINT))
    expect(() => decodePublicKey(new Uint8Array(48))).toThrow(code(AttestErrorCode.MALFORMED_KEY))
  })
})
