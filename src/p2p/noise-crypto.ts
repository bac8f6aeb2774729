/**
 * Noise's ciphers with the session key imported once.
 *
 * libp2p-noise's Node.js crypto hands node:crypto the raw 32-byte key for every message it seals or opens, and
 * node:crypto imports it into a fresh key object each time: ~10 µs a message, as much as sealing 3.6 KB, a third of
 * sealing a whole 64 KiB message. A session's key never changes (noise makes a new cipher state, with a new key
 * array, for each key it derives), so the key object made for a key array is kept beside it (a WeakMap: it goes with
 * the session) and used as long as the array still holds the same bytes. Messages under 1,200 bytes go to noise's
 * own WebAssembly cipher, as its default does (faster there); everything else is noise's default crypto.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'

/** What noise hands its cipher: bytes, or a list of pieces of noise's own list class (uint8arraylist 2). */
type NoiseBytes = Parameters<ICryptoInterface['chaCha20Poly1305Encrypt']>[0]
type NoiseList = Exclude<NoiseBytes, Uint8Array>

/** An empty list of the class `like` is of: noise's, which a list of another uint8arraylist version is not. */
function emptyListLike(like: NoiseList): NoiseList {
  return new (like.constructor as new () => NoiseList)()
}

const CIPHER = 'chacha20-poly1305'
const TAG_BYTES = 16
/** Below this, noise's WebAssembly cipher is faster than node:crypto (libp2p-noise's own threshold). */
const NODE_CIPHER_MIN_BYTES = 1200

interface ImportedKey {
  readonly bytes: Buffer
  readonly key: KeyObject
}

const imported = new WeakMap<Uint8Array, ImportedKey>()

/** The key object for `k`: the one made before, unless the array's bytes changed since. */
function keyObject(k: Uint8Array): KeyObject {
  const known = imported.get(k)
  if (known !== undefined && known.bytes.equals(k)) return known.key
  const bytes = Buffer.from(k)
  const key = createSecretKey(bytes)
  imported.set(k, { bytes, key })
  return key
}

function seal(plaintext: NoiseBytes, nonce: Uint8Array, ad: Uint8Array, k: Uint8Array): NoiseBytes {
  if (plaintext.byteLength < NODE_CIPHER_MIN_BYTES)
    return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
  const cipher = createCipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
  if (plaintext instanceof Uint8Array) {
    const sealed = cipher.update(plaintext)
    const final = cipher.final()
    const tag = cipher.getAuthTag()
    return Buffer.concat([sealed, final, tag], sealed.byteLength + final.byteLength + tag.byteLength)
  }
  const out = emptyListLike(plaintext)
  for (const piece of plaintext) out.append(cipher.update(piece))
  const final = cipher.final()
  if (final.byteLength > 0) out.append(final)
  out.append(cipher.getAuthTag())
  return out
}

function open(ciphertext: NoiseBytes, nonce: Uint8Array, ad: Uint8Array, k: Uint8Array, dst?: Uint8Array): NoiseBytes {
  if (ciphertext.byteLength < NODE_CIPHER_MIN_BYTES)
    return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
  const decipher = createDecipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_BYTES })
  const bodyBytes = ciphertext.byteLength - TAG_BYTES
  decipher.setAAD(ad, { plaintextLength: bodyBytes })
  decipher.setAuthTag(ciphertext.subarray(bodyBytes))
  if (ciphertext instanceof Uint8Array) {
    const opened = decipher.update(ciphertext.subarray(0, bodyBytes))
    const final = decipher.final()
    return final.byteLength > 0 ? Buffer.concat([opened, final], opened.byteLength + final.byteLength) : opened
  }
  const out = emptyListLike(ciphertext)
  for (const piece of ciphertext.sublist(0, bodyBytes)) out.append(decipher.update(piece))
  const final = decipher.final()
  if (final.byteLength > 0) out.append(final)
  return out
}

/** noise's default crypto, sealing and opening with imported keys. */
export const keptKeyCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt: seal,
  chaCha20Poly1305Decrypt: open,
}
