/**
 * Noise's ciphers with the session key imported once.
 *
 * libp2p-noise's Node.js crypto hands node:crypto the raw 32-byte key for every message it seals or opens, and
 * node:crypto imports it into a fresh key object each time: ~10 µs a message, as much as sealing 3.6 KB, a third of
 * sealing a whole 64 KiB message. A session's key never changes (noise makes a new cipher state, with a new key
 * array, for each key it derives), so the key object made for a key array is kept beside it (a WeakMap: it goes with
 * the session) and used as long as the array still holds the same bytes. Sealing and opening stay noise's own Node.js
 * cipher, which passes the key straight to node:crypto (a key object is what that accepts best); messages under
 * 1,200 bytes go to noise's WebAssembly cipher, as its default does (faster there). Everything else is noise's
 * default crypto.
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto, nodeCrypto } from '@chainsafe/libp2p-noise/crypto'

/** Below this, noise's WebAssembly cipher is faster than node:crypto (libp2p-noise's own threshold). */
const NODE_CIPHER_MIN_BYTES = 1200

interface ImportedKey {
  readonly bytes: Buffer
  readonly key: KeyObject
}

const imported = new WeakMap<Uint8Array, ImportedKey>()

/**
 * The key object for `k`: the one made before, unless the array's bytes changed since. Typed as the key bytes it
 * stands for, since noise's cipher only hands it on to node:crypto.
 */
function keyObject(k: Uint8Array): Uint8Array {
  let known = imported.get(k)
  if (known === undefined || !known.bytes.equals(k)) {
    const bytes = Buffer.from(k)
    known = { bytes, key: createSecretKey(bytes) }
    imported.set(k, known)
  }
  return known.key as unknown as Uint8Array
}

/** noise's default crypto, sealing and opening with imported keys. */
export const keptKeyCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt: (plaintext, nonce, ad, k) =>
    plaintext.byteLength < NODE_CIPHER_MIN_BYTES
      ? defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
      : nodeCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, keyObject(k)),
  chaCha20Poly1305Decrypt: (ciphertext, nonce, ad, k, dst) =>
    ciphertext.byteLength < NODE_CIPHER_MIN_BYTES
      ? defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
      : nodeCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, keyObject(k), dst),
}
