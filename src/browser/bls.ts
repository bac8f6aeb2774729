/**
 * The browser's BLS backend: the verifying half of src/attest/bls.ts on @noble/curves (pure JS, audited), with
 * the same exports, scheme and checks, so the browser bundle resolves `attest/bls.ts` to this file and every
 * module above it (committee keys, proofs of possession, certificates) runs unchanged.
 *
 * Scheme: BLS12-381, Ethereum ciphersuite, min-pk (public keys in G1, 48 bytes compressed; signatures in G2, 96
 * bytes compressed), hash-to-curve with SIGNATURE_DST — byte for byte what blst does (test/browser/bls.test.ts
 * verifies blst-made signatures and certificates here). Untrusted points are decoded with the on-curve, subgroup
 * and infinity checks. Keys come from their bytes only (no IETF KeyGen here): a light client verifies.
 */

import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { AttestErrorCode, attestError } from '../attest/errors.ts'

export const SIGNATURE_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
export const SECRET_KEY_SIZE = 32
export const PUBLIC_KEY_SIZE = 48
export const SIGNATURE_SIZE = 96
export const PUBLIC_KEY_COORDINATES_SIZE = 96
export const SIGNATURE_COORDINATES_SIZE = 192

type Fp = bigint
type Fp2 = ReturnType<typeof bls12_381.fields.Fp2.create>
export type PublicKey = WeierstrassPoint<Fp>
export type Signature = WeierstrassPoint<Fp2>

const G1 = bls12_381.G1.Point
const G2 = bls12_381.G2.Point
const { Fp12 } = bls12_381.fields
const signatures = bls12_381.longSignatures

/** A secret key: its scalar, with the blst-shaped methods that pop.ts uses. */
export class SecretKey {
  readonly #bytes: Uint8Array

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  /** From its 32 big-endian bytes; zero and values >= r are refused. */
  static fromBytes(bytes: Uint8Array): SecretKey {
    if (!(bytes instanceof Uint8Array) || bytes.length !== SECRET_KEY_SIZE) {
      throw new Error(`a secret key is ${SECRET_KEY_SIZE} bytes`)
    }
    const scalar = bls12_381.fields.Fr.fromBytes(bytes)
    if (scalar === 0n) throw new Error('a secret key is not zero')
    return new SecretKey(bytes.slice())
  }

  toBytes(): Uint8Array {
    return this.#bytes.slice()
  }

  toPublicKey(): PublicKey {
    return signatures.getPublicKey(this.#bytes)
  }

  sign(message: Uint8Array): Signature {
    return signatures.sign(signatures.hash(message, SIGNATURE_DST), this.#bytes)
  }
}

/** A secret key from its 32 big-endian bytes; zero and values >= r are refused. */
export function secretKeyFromBytes(bytes: Uint8Array): SecretKey {
  try {
    return SecretKey.fromBytes(bytes)
  } catch (err) {
    throw attestError(AttestErrorCode.INVALID_SECRET_KEY, `not a BLS secret key: ${reason(err)}`, {}, { cause: err })
  }
}

export function sign(secretKey: SecretKey, message: Uint8Array): Uint8Array {
  return secretKey.sign(message).toBytes(true)
}

/** Decodes an untrusted compressed public key with subgroup and infinity checks. */
export function decodePublicKey(bytes: Uint8Array): PublicKey {
  if (!(bytes instanceof Uint8Array) || bytes.length !== PUBLIC_KEY_SIZE) {
    throw attestError(AttestErrorCode.MALFORMED_KEY, `a public key is ${PUBLIC_KEY_SIZE} compressed bytes`)
  }
  return checkedKey(bytes)
}

/** Decodes an untrusted compressed signature with subgroup and infinity checks. */
export function decodeSignature(bytes: Uint8Array): Signature {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SIGNATURE_SIZE) {
    throw attestError(AttestErrorCode.MALFORMED_SIGNATURE, `a signature is ${SIGNATURE_SIZE} compressed bytes`)
  }
  let point: Signature
  try {
    point = G2.fromBytes(bytes)
    point.assertValidity()
  } catch (err) {
    throw attestError(
      AttestErrorCode.MALFORMED_SIGNATURE,
      `not a valid G2 signature: ${reason(err)}`,
      {},
      { cause: err },
    )
  }
  if (point.is0()) throw attestError(AttestErrorCode.MALFORMED_SIGNATURE, 'not a valid G2 signature: infinity')
  return point
}

/** -P for a validated key P. */
export function negatePublicKey(publicKey: PublicKey): PublicKey {
  return publicKey.negate()
}

export function publicKeyBytes(publicKey: PublicKey): Uint8Array {
  return publicKey.toBytes(true)
}

export function signatureBytes(signature: Signature): Uint8Array {
  return signature.toBytes(true)
}

/** A key's affine coordinates x ‖ y, 48 bytes each, big-endian; 96 zero bytes for the point at infinity. */
export function publicKeyCoordinates(publicKey: PublicKey): Uint8Array {
  return publicKey.is0() ? new Uint8Array(PUBLIC_KEY_COORDINATES_SIZE) : publicKey.toBytes(false)
}

/** A signature's affine coordinates x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0 (the ZCash order), 48 bytes each. */
export function signatureCoordinates(signature: Signature): Uint8Array {
  return signature.toBytes(false)
}

/** Decodes untrusted coordinates x ‖ y (96 bytes) with the on-curve, subgroup and infinity checks. */
export function publicKeyFromCoordinates(bytes: Uint8Array): PublicKey {
  if (!(bytes instanceof Uint8Array) || bytes.length !== PUBLIC_KEY_COORDINATES_SIZE) {
    throw attestError(AttestErrorCode.MALFORMED_KEY, `key coordinates are ${PUBLIC_KEY_COORDINATES_SIZE} bytes`)
  }
  return checkedKey(bytes)
}

/** Sum of validated keys. */
export function aggregatePublicKeys(keys: PublicKey[]): PublicKey {
  return keys.reduce((sum, key) => sum.add(key), G1.ZERO)
}

/** Sum of validated signatures. */
export function aggregateSignatures(list: Signature[]): Signature {
  return list.reduce((sum, signature) => sum.add(signature), G2.ZERO)
}

/** Sum of signatures given as bytes that were already checked. */
export function aggregateCheckedSignatureBytes(list: Uint8Array[]): Signature {
  return aggregateSignatures(list.map((bytes) => G2.fromBytes(bytes)))
}

/** e(pk, H(msg)) == e(g1, sig) for a validated key and signature; false for an aggregate key at infinity. */
export function verify(message: Uint8Array, publicKey: PublicKey, signature: Signature): boolean {
  if (publicKey.is0() || signature.is0()) return false
  return signatures.verify(signature, signatures.hash(message, SIGNATURE_DST), publicKey)
}

/**
 * Checks many (message, key, signature) triples at once with random 64-bit scalars r_i (one multi-pairing):
 * e(-g1, Σ r_i sig_i) · Π e(r_i pk_i, H(m_i)) == 1. False says some triple is bad, not which.
 */
export function verifyBatch(sets: { message: Uint8Array; publicKey: PublicKey; signature: Signature }[]): boolean {
  if (sets.length === 0) return false
  if (sets.some((s) => s.publicKey.is0() || s.signature.is0())) return false
  const scalars = randomScalars(sets.length)
  let sum = G2.ZERO
  const pairs = sets.map((set, i) => {
    sum = sum.add(set.signature.multiply(scalars[i]!))
    return { g1: set.publicKey.multiply(scalars[i]!), g2: signatures.hash(set.message, SIGNATURE_DST) }
  })
  try {
    return Fp12.eql(bls12_381.pairingBatch([{ g1: G1.BASE.negate(), g2: sum }, ...pairs]), Fp12.ONE)
  } catch {
    return false
  }
}

/**
 * For many signatures over the same message: Σ r_i pk_i and Σ r_i sig_i with random 64-bit r_i; one pairing check
 * of the result then verifies them all. Signatures are decoded with subgroup and infinity checks; a malformed one
 * makes the call throw.
 */
export async function aggregateWithRandomness(
  sets: { publicKey: PublicKey; signature: Uint8Array }[],
): Promise<{ publicKey: PublicKey; signature: Signature }> {
  const scalars = randomScalars(sets.length)
  let publicKey = G1.ZERO
  let signature = G2.ZERO
  sets.forEach((set, i) => {
    publicKey = publicKey.add(set.publicKey.multiply(scalars[i]!))
    signature = signature.add(decodeSignature(set.signature).multiply(scalars[i]!))
  })
  return { publicKey, signature }
}

function checkedKey(bytes: Uint8Array): PublicKey {
  let point: PublicKey
  try {
    point = G1.fromBytes(bytes)
    point.assertValidity()
  } catch (err) {
    throw attestError(AttestErrorCode.MALFORMED_KEY, `not a valid G1 public key: ${reason(err)}`, {}, { cause: err })
  }
  if (point.is0()) throw attestError(AttestErrorCode.MALFORMED_KEY, 'not a valid G1 public key: infinity')
  return point
}

/** Non-zero random 64-bit scalars. */
function randomScalars(count: number): bigint[] {
  const words = new BigUint64Array(count)
  crypto.getRandomValues(words)
  return Array.from(words, (w) => (w === 0n ? 1n : w))
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
