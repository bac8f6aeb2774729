/**
 * The part of `node:crypto` that the light client's modules use, on web-standard ground: SHA-256 from
 * @noble/hashes and randomness from `crypto.getRandomValues`. The browser bundle resolves `node:crypto` to this
 * file (scripts/build-browser.ts), so the Node build keeps OpenSSL's hashing and the modules stay as they are.
 * Only SHA-256 exists here: asking for another algorithm throws, which a bundle test would catch.
 */
import { sha256 } from '@noble/hashes/sha2.js'

type Sha256 = ReturnType<typeof sha256.create>

function checkAlgorithm(algorithm: string): void {
  if (algorithm.toLowerCase() !== 'sha256') {
    throw new Error(`the browser build hashes with SHA-256 only, not ${algorithm}`)
  }
}

/** Bytes as node:crypto's 'binary' (latin1) output encoding gives them: one character a byte. */
function binary(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += String.fromCharCode(byte)
  return out
}

/**
 * An incremental SHA-256 with the `update(...).digest()` shape of node:crypto's Hash: bytes in, bytes out, or a
 * 'binary' (latin1) string with `digest('binary')`.
 */
export class Hash {
  readonly #state: Sha256 = sha256.create()

  update(data: Uint8Array): Hash {
    this.#state.update(data)
    return this
  }

  digest(): Uint8Array
  digest(encoding: 'binary'): string
  digest(encoding?: 'binary'): Uint8Array | string {
    const bytes = this.#state.digest()
    return encoding === 'binary' ? binary(bytes) : bytes
  }
}

export function createHash(algorithm: string): Hash {
  checkAlgorithm(algorithm)
  return new Hash()
}

/** One-shot digest, as node:crypto's `hash(algorithm, data, 'buffer')`, or `'binary'` for a latin1 string. */
export function hash(algorithm: string, data: Uint8Array, encoding?: 'buffer'): Uint8Array
export function hash(algorithm: string, data: Uint8Array, encoding: 'binary'): string
export function hash(algorithm: string, data: Uint8Array, encoding?: 'buffer' | 'binary'): Uint8Array | string {
  checkAlgorithm(algorithm)
  const bytes = sha256(data)
  return encoding === 'binary' ? binary(bytes) : bytes
}

export function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size)
  // getRandomValues fills at most 65,536 bytes per call.
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65_536)))
  return out
}

/**
 * A uniform integer in [min, max) (or [0, min) with one argument), as node:crypto's `randomInt`: 32-bit draws
 * with rejection of the top partial range, so no value is favoured.
 */
export function randomInt(min: number, max?: number): number {
  const [low, high] = max === undefined ? [0, min] : [min, max]
  const range = high - low
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || range <= 0 || range > 2 ** 32) {
    throw new RangeError(`randomInt needs safe integers with 0 < max - min <= 2^32, got [${low}, ${high})`)
  }
  const limit = 2 ** 32 - (2 ** 32 % range)
  const word = new Uint32Array(1)
  for (;;) {
    crypto.getRandomValues(word)
    if (word[0]! < limit) return low + (word[0]! % range)
  }
}
