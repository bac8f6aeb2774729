import { randomBytes } from 'node:crypto'
import { type IKeystore, Keystore } from '@chainsafe/bls-keystore'
import { type SecretKey, secretKeyFromBytes } from './bls.ts'
import { AttestErrorCode, attestError } from './errors.ts'
import { publicKeyOf } from './keys.ts'

/** An EIP-2335 keystore as JSON. */
export type KeystoreJson = IKeystore

/** Key-derivation settings of a keystore; the salt is always fresh randomness. */
export type KeystoreKdf = { function: 'scrypt'; n: number; r: number; p: number } | { function: 'pbkdf2'; c: number }

/** EIP-2335's suggested scrypt cost (2^18, r = 8, p = 1): about a second and 256 MiB per unlock. */
/** The largest keystore file read: an EIP-2335 keystore is about 1 KiB of JSON. */
export const MAX_KEYSTORE_FILE_BYTES = 64 * 1024

export const DEFAULT_KEYSTORE_KDF: KeystoreKdf = { function: 'scrypt', n: 262144, r: 8, p: 1 }

export interface EncryptKeystoreOptions {
  kdf?: KeystoreKdf
  /** EIP-2334 path the key was derived at, or "" if it was not derived. */
  path?: string
  description?: string
}

/** Encrypts a secret key into an EIP-2335 keystore (AES-128-CTR, SHA-256 checksum). */
export async function encryptKeystore(
  secretKey: SecretKey,
  password: string,
  options: EncryptKeystoreOptions = {},
): Promise<KeystoreJson> {
  const kdf = options.kdf ?? DEFAULT_KEYSTORE_KDF
  const salt = randomBytes(32).toString('hex')
  const kdfModule =
    kdf.function === 'scrypt'
      ? { function: 'scrypt' as const, params: { dklen: 32, n: kdf.n, r: kdf.r, p: kdf.p, salt } }
      : { function: 'pbkdf2' as const, params: { dklen: 32, c: kdf.c, prf: 'hmac-sha256' as const, salt } }
  const keystore = await Keystore.create(
    password,
    secretKey.toBytes(),
    publicKeyOf(secretKey),
    options.path ?? '',
    options.description ?? null,
    kdfModule,
  )
  return keystore.toObject()
}

/** Decrypts an EIP-2335 keystore (object or JSON text) and checks that the key matches its `pubkey`. */
export async function decryptKeystore(keystore: unknown, password: string): Promise<SecretKey> {
  let parsed: Keystore
  try {
    parsed = typeof keystore === 'string' ? Keystore.parse(keystore) : Keystore.fromObject(keystore)
  } catch (err) {
    throw attestError(AttestErrorCode.MALFORMED_KEYSTORE, `not an EIP-2335 keystore: ${(err as Error).message}`)
  }
  let secret: Uint8Array
  try {
    // One KDF run: decrypt checks the checksum itself and throws on a wrong password.
    secret = await parsed.decrypt(password)
  } catch (err) {
    if ((err as Error).message === 'Invalid password') {
      throw attestError(AttestErrorCode.WRONG_PASSWORD, 'wrong keystore password', { uuid: parsed.uuid })
    }
    throw attestError(AttestErrorCode.MALFORMED_KEYSTORE, `cannot decrypt keystore: ${(err as Error).message}`, {
      uuid: parsed.uuid,
    })
  }
  const secretKey = secretKeyFromBytes(secret)
  const pubkey = Buffer.from(publicKeyOf(secretKey)).toString('hex')
  if (parsed.pubkey !== '' && parsed.pubkey.replace(/^0x/, '').toLowerCase() !== pubkey) {
    throw attestError(AttestErrorCode.MALFORMED_KEYSTORE, 'keystore pubkey does not match its secret key', {
      uuid: parsed.uuid,
    })
  }
  return secretKey
}
