/**
 * The one module that calls the BLS library. Everything else in dacnet goes through these functions, so a
 * browser backend (e.g. a WASM build of blst) replaces this file and nothing else.
 *
 * Scheme: BLS12-381, Ethereum ciphersuite, min-pk (public keys in G1, 48 bytes compressed; signatures in
 * G2, 96 bytes compressed), hash-to-curve with SIGNATURE_DST. Untrusted points are always decoded with
 * the subgroup and infinity checks; points from this module's own outputs are trusted.
 */
import * as blst from '@chainsafe/blst'
import { AttestErrorCode, attestError } from './errors.ts'

/**
 * The only hash-to-G2 tag used: the Ethereum proof-of-possession scheme's signature DST, which
 * @chainsafe/blst hardcodes. Proofs of possession are kept apart from attestations by their message tag
 * (see pop.ts and message.ts), not by a second DST.
 */
export const SIGNATURE_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
export const SECRET_KEY_SIZE = 32
export const PUBLIC_KEY_SIZE = 48
export const SIGNATURE_SIZE = 96

export type SecretKey = blst.SecretKey
export type PublicKey = blst.PublicKey
export type Signature = blst.Signature

/** IETF KeyGen from at least 32 bytes of input key material. */
export function secretKeyFromIkm(ikm: Uint8Array): SecretKey {
  return blst.SecretKey.fromKeygen(ikm)
}

/** A secret key from its 32 big-endian bytes; zero and values >= r are refused. */
export function secretKeyFromBytes(bytes: Uint8Array): SecretKey {
  try {
    return blst.SecretKey.fromBytes(bytes)
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
  try {
    return blst.PublicKey.fromBytes(bytes, true)
  } catch (err) {
    throw attestError(AttestErrorCode.MALFORMED_KEY, `not a valid G1 public key: ${reason(err)}`, {}, { cause: err })
  }
}

/** Decodes an untrusted compressed signature with subgroup and infinity checks. */
export function decodeSignature(bytes: Uint8Array): Signature {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SIGNATURE_SIZE) {
    throw attestError(AttestErrorCode.MALFORMED_SIGNATURE, `a signature is ${SIGNATURE_SIZE} compressed bytes`)
  }
  try {
    return blst.Signature.fromBytes(bytes, true, true)
  } catch (err) {
    throw attestError(
      AttestErrorCode.MALFORMED_SIGNATURE,
      `not a valid G2 signature: ${reason(err)}`,
      {},
      { cause: err },
    )
  }
}

/**
 * -P for a validated key P. Negation keeps x and flips y, which in the compressed encoding is the sign
 * bit (0x20 of the first byte); blst has no point subtraction, and this lets a verifier subtract
 * non-signers from a cached aggregate.
 */
export function negatePublicKey(publicKey: PublicKey): PublicKey {
  const bytes = publicKey.toBytes(true)
  bytes[0]! ^= 0x20
  return blst.PublicKey.fromBytes(bytes, false)
}

export function publicKeyBytes(publicKey: PublicKey): Uint8Array {
  return publicKey.toBytes(true)
}

export function signatureBytes(signature: Signature): Uint8Array {
  return signature.toBytes(true)
}

/** Bytes of uncompressed coordinates: G1 x ‖ y (48 each), G2 x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0 (48 each). */
export const PUBLIC_KEY_COORDINATES_SIZE = 96
export const SIGNATURE_COORDINATES_SIZE = 192

/**
 * A key's affine coordinates x ‖ y, 48 bytes each, big-endian; 96 zero bytes for the point at infinity (the
 * encoding the EVM side uses), which an aggregate can be when keys cancel: not a key and its negation, which
 * committees refuse, but e.g. three keys of one party whose secrets sum to 0 mod r, each with its own proof of
 * possession (see committee/key-negation.ts). blst's uncompressed form of a finite point carries no flag bits,
 * and marks infinity with 0x40 on otherwise zero bytes.
 */
export function publicKeyCoordinates(publicKey: PublicKey): Uint8Array {
  const bytes = publicKey.toBytes(false)
  return bytes[0]! & 0x40 ? new Uint8Array(PUBLIC_KEY_COORDINATES_SIZE) : bytes
}

/** A signature's affine coordinates x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0 (the ZCash order), 48 bytes each. */
export function signatureCoordinates(signature: Signature): Uint8Array {
  return signature.toBytes(false)
}

/**
 * Decodes untrusted coordinates x ‖ y (96 bytes) with the on-curve, subgroup and infinity checks: the
 * uncompressed counterpart of decodePublicKey.
 */
export function publicKeyFromCoordinates(bytes: Uint8Array): PublicKey {
  if (!(bytes instanceof Uint8Array) || bytes.length !== PUBLIC_KEY_COORDINATES_SIZE) {
    throw attestError(AttestErrorCode.MALFORMED_KEY, `key coordinates are ${PUBLIC_KEY_COORDINATES_SIZE} bytes`)
  }
  try {
    return blst.PublicKey.fromBytes(bytes, true)
  } catch (err) {
    throw attestError(AttestErrorCode.MALFORMED_KEY, `not a valid G1 public key: ${reason(err)}`, {}, { cause: err })
  }
}

/** Sum of validated keys (no checks: the inputs come from decodePublicKey or this module). */
export function aggregatePublicKeys(keys: PublicKey[]): PublicKey {
  return blst.aggregatePublicKeys(keys, false)
}

/** Sum of validated signatures. */
export function aggregateSignatures(signatures: Signature[]): Signature {
  return blst.aggregateSignatures(signatures, false)
}

/**
 * Sum of signatures given as bytes that were already checked (e.g. inside aggregateWithRandomness): they
 * are only decompressed, not group-checked again.
 */
export function aggregateCheckedSignatureBytes(signatures: Uint8Array[]): Signature {
  return blst.aggregateSerializedSignatures(signatures, false)
}

/** e(pk, H(msg)) == e(g1, sig) for a validated key and signature. */
export function verify(message: Uint8Array, publicKey: PublicKey, signature: Signature): boolean {
  return blst.verify(message, publicKey, signature, false, false)
}

/**
 * Checks many (message, key, signature) triples at once with random 64-bit scalars (one multi-pairing):
 * true only if, except with negligible probability, every triple verifies. False says some triple is bad,
 * not which: callers fall back to verifying each.
 */
export function verifyBatch(sets: { message: Uint8Array; publicKey: PublicKey; signature: Signature }[]): boolean {
  return blst.verifyMultipleAggregateSignatures(
    sets.map((s) => ({ msg: s.message, pk: s.publicKey, sig: s.signature })),
    false,
    false,
  )
}

/**
 * For many signatures over the same message: sum(r_i * pk_i) and sum(r_i * sig_i) with random 64-bit r_i,
 * computed off the main thread. One pairing check of the result then verifies them all (a single forged
 * signature cannot be cancelled by another because the r_i are unknown in advance). Signatures are
 * decoded here with subgroup and infinity checks; a malformed one makes the whole call throw.
 */
export async function aggregateWithRandomness(
  sets: { publicKey: PublicKey; signature: Uint8Array }[],
): Promise<{ publicKey: PublicKey; signature: Signature }> {
  const { pk, sig } = await blst.asyncAggregateWithRandomness(sets.map((s) => ({ pk: s.publicKey, sig: s.signature })))
  return { publicKey: pk, signature: sig }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
