import { randomBytes } from 'node:crypto'
import { deriveKeyFromEntropy, deriveKeyFromMnemonic } from '@chainsafe/bls-keygen'
import { publicKeyBytes, type SecretKey, secretKeyFromBytes, secretKeyFromIkm } from './bls.ts'
import { AttestErrorCode, attestError } from './errors.ts'

/**
 * EIP-2334 path of a member's signing key: purpose 12381, coin type 3600, account 0, then 0/0. It is the
 * Ethereum validator signing path, so derive from a seed used for dacnet only, or pass another path.
 */
export const DEFAULT_KEY_PATH = 'm/12381/3600/0/0/0'
/** EIP-2333 needs at least 32 bytes of seed; so does IETF KeyGen. */
export const MIN_SEED_SIZE = 32

/** A fresh key from 32 bytes of OS randomness (IETF KeyGen). */
export function generateSecretKey(): SecretKey {
  return secretKeyFromIkm(new Uint8Array(randomBytes(32)))
}

/** The EIP-2333 key at `path` (EIP-2334 syntax) under a seed of at least 32 bytes. */
export function secretKeyFromSeed(seed: Uint8Array, path: string = DEFAULT_KEY_PATH): SecretKey {
  if (!(seed instanceof Uint8Array) || seed.length < MIN_SEED_SIZE) {
    throw attestError(AttestErrorCode.INVALID_SECRET_KEY, `a seed has at least ${MIN_SEED_SIZE} bytes`)
  }
  return derive(() => deriveKeyFromEntropy(seed, path), path)
}

/** The EIP-2333 key at `path` under a BIP-39 mnemonic (the seed is the mnemonic's BIP-39 seed). */
export function secretKeyFromMnemonic(mnemonic: string, path: string = DEFAULT_KEY_PATH): SecretKey {
  return derive(() => deriveKeyFromMnemonic(mnemonic, path), path)
}

/** The 48-byte compressed public key of a secret key. */
export function publicKeyOf(secretKey: SecretKey): Uint8Array {
  return publicKeyBytes(secretKey.toPublicKey())
}

function derive(fn: () => Uint8Array, path: string): SecretKey {
  let bytes: Uint8Array
  try {
    bytes = fn()
  } catch (err) {
    throw attestError(AttestErrorCode.INVALID_SECRET_KEY, `cannot derive a key at ${path}: ${(err as Error).message}`, {
      path,
    })
  }
  return secretKeyFromBytes(bytes)
}
