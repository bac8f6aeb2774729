/**
 * Noise's ciphers with kept key objects against noise's own default crypto: each opens what the other sealed, for
 * messages on both sides of the 1,200-byte switch and given as bytes or as lists of pieces; a key array rewritten in
 * place is imported again; a forged tag fails to open.
 */
import { randomBytes } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { keptKeyCrypto } from '../../src/p2p/noise-crypto.ts'

type Sealed = ReturnType<typeof defaultCrypto.chaCha20Poly1305Encrypt>
type NoiseList = Exclude<Sealed, Uint8Array>

const bytesOf = (value: Sealed): Uint8Array => (value instanceof Uint8Array ? value : value.subarray())

/** A list holding `data` in three pieces (noise hands over lists of its own uint8arraylist version; any list reads the same). */
function listOf(data: Uint8Array): NoiseList {
  const third = Math.floor(data.length / 3)
  return new Uint8ArrayList(
    data.subarray(0, third),
    data.subarray(third, 2 * third),
    data.subarray(2 * third),
  ) as unknown as NoiseList
}

describe('keptKeyCrypto', () => {
  const nonce = new Uint8Array(12)
  const ad = new Uint8Array(0)

  for (const size of [0, 100, 1199, 1200, 3600, 65_519]) {
    it(`seals and opens ${size}-byte messages as noise's default crypto does`, () => {
      const k = randomBytes(32)
      const message = randomBytes(size)
      nonce[0] = size & 0xff
      const ours = bytesOf(keptKeyCrypto.chaCha20Poly1305Encrypt(message, nonce, ad, k))
      const theirs = bytesOf(defaultCrypto.chaCha20Poly1305Encrypt(message, nonce, ad, k))
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true)
      expect(Buffer.from(bytesOf(keptKeyCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k))).equals(message)).toBe(
        true,
      )
      // Twice with the same key array: the second goes through the kept key object.
      expect(Buffer.from(bytesOf(keptKeyCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k))).equals(message)).toBe(true)
    })
  }

  it("takes messages given as lists of pieces, and answers with the list noise's own cipher answers with", () => {
    const k = randomBytes(32)
    const message = randomBytes(9000)
    const sealed = keptKeyCrypto.chaCha20Poly1305Encrypt(listOf(message), nonce, ad, k)
    expect(sealed instanceof Uint8Array).toBe(false)
    expect(sealed.constructor).toBe(defaultCrypto.chaCha20Poly1305Encrypt(listOf(message), nonce, ad, k).constructor)
    const opened = keptKeyCrypto.chaCha20Poly1305Decrypt(listOf(bytesOf(sealed)), nonce, ad, k)
    expect(Buffer.from(bytesOf(opened)).equals(message)).toBe(true)
    expect(
      Buffer.from(bytesOf(defaultCrypto.chaCha20Poly1305Decrypt(bytesOf(sealed), nonce, ad, k))).equals(message),
    ).toBe(true)
  })

  it('imports a key again when its array was rewritten in place', () => {
    const k = randomBytes(32)
    const message = randomBytes(4096)
    keptKeyCrypto.chaCha20Poly1305Encrypt(message, nonce, ad, k)
    k.set(randomBytes(32))
    const sealed = bytesOf(keptKeyCrypto.chaCha20Poly1305Encrypt(message, nonce, ad, k))
    const expected = bytesOf(defaultCrypto.chaCha20Poly1305Encrypt(message, nonce, ad, Buffer.from(k)))
    expect(Buffer.from(sealed).equals(Buffer.from(expected))).toBe(true)
  })

  it('refuses a message whose tag or body was changed', () => {
    const k = randomBytes(32)
    const sealed = Buffer.from(bytesOf(keptKeyCrypto.chaCha20Poly1305Encrypt(randomBytes(4096), nonce, ad, k)))
    const badTag = Buffer.from(sealed)
    badTag[badTag.length - 1]! ^= 1
    expect(() => keptKeyCrypto.chaCha20Poly1305Decrypt(badTag, nonce, ad, k)).toThrow()
    const badBody = Buffer.from(sealed)
    badBody[10]! ^= 1
    expect(() => keptKeyCrypto.chaCha20Poly1305Decrypt(badBody, nonce, ad, k)).toThrow()
  })
})
