import type { MemberKeyVerifier } from '../committee/member.ts'

/** Checks each (key, proof) once: every epoch builds a Committee, and its members rarely change. */
export class CachingKeyVerifier implements MemberKeyVerifier {
  readonly #inner: MemberKeyVerifier
  readonly #results = new Map<string, ReturnType<MemberKeyVerifier['checkKeys']>[number]>()

  constructor(inner: MemberKeyVerifier) {
    this.#inner = inner
  }

  checkKeys(entries: Parameters<MemberKeyVerifier['checkKeys']>[0]): ReturnType<MemberKeyVerifier['checkKeys']> {
    const keyOf = (e: (typeof entries)[number]) =>
      `${Buffer.from(e.publicKey).toString('hex')}:${e.proofOfPossession ? Buffer.from(e.proofOfPossession).toString('hex') : ''}`
    const missing = entries.filter((e) => !this.#results.has(keyOf(e)))
    if (missing.length > 0) {
      const results = this.#inner.checkKeys(missing)
      for (const [i, e] of missing.entries()) this.#results.set(keyOf(e), results[i])
    }
    return entries.map((e) => this.#results.get(keyOf(e)))
  }
}
