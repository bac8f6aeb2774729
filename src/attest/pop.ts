import { createHash } from 'node:crypto'
import type { KeyProblem, MemberKeyVerifier } from '../committee/member.ts'
import {
  decodePublicKey,
  decodeSignature,
  type PublicKey,
  publicKeyBytes,
  type SecretKey,
  type Signature,
  sign,
  verify,
  verifyBatch,
} from './bls.ts'

/** Type tag of proofs of possession; differs from ATTESTATION_TAG in its 8th byte, so no preimage is both. */
export const POP_TAG = new TextEncoder().encode('dacnet/proof-of-possession/v1')
/** Proofs verified per multi-pairing when a committee loads; a bad proof costs at most this many single checks. */
export const DEFAULT_POP_BATCH_SIZE = 64

/**
 * The 32 bytes a member signs to prove it holds the secret key of `publicKey`:
 *
 *   SHA-256( "dacnet/proof-of-possession/v1" (29 bytes) || publicKey (48 bytes compressed G1) )
 *
 * A rogue key pk' = pk_attacker - pk_honest has no known secret, so it cannot come with a valid proof;
 * committees refuse keys without one, which is what makes same-message aggregation safe.
 */
export function popMessage(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(POP_TAG).update(publicKey).digest())
}

export function createProofOfPossession(secretKey: SecretKey): Uint8Array {
  return sign(secretKey, popMessage(publicKeyBytes(secretKey.toPublicKey())))
}

/** True when both encodings are valid points and the proof verifies; false otherwise. */
export function verifyProofOfPossession(publicKey: Uint8Array, proof: Uint8Array): boolean {
  try {
    return verify(popMessage(publicKey), decodePublicKey(publicKey), decodeSignature(proof))
  } catch {
    return false
  }
}

/**
 * The MemberKeyVerifier committees are built with: every key is decoded with subgroup and infinity
 * checks, every proof likewise, then proofs are verified in batches with a per-proof fallback.
 */
export const blsKeyVerifier: MemberKeyVerifier = {
  checkKeys(entries) {
    const problems: (KeyProblem | undefined)[] = entries.map(() => undefined)
    const pending: { index: number; message: Uint8Array; publicKey: PublicKey; signature: Signature }[] = []
    entries.forEach((entry, index) => {
      let publicKey: PublicKey
      try {
        publicKey = decodePublicKey(entry.publicKey)
      } catch (err) {
        problems[index] = { kind: 'malformed-key', detail: (err as Error).message }
        return
      }
      if (entry.proofOfPossession === undefined) return
      try {
        const signature = decodeSignature(entry.proofOfPossession)
        pending.push({ index, message: popMessage(entry.publicKey), publicKey, signature })
      } catch (err) {
        problems[index] = { kind: 'invalid-pop', detail: `proof of possession: ${(err as Error).message}` }
      }
    })
    for (let start = 0; start < pending.length; start += DEFAULT_POP_BATCH_SIZE) {
      const batch = pending.slice(start, start + DEFAULT_POP_BATCH_SIZE)
      if (batch.length > 1 && verifyBatch(batch)) continue
      for (const set of batch) {
        if (!verify(set.message, set.publicKey, set.signature)) {
          problems[set.index] = { kind: 'invalid-pop', detail: 'proof of possession does not verify' }
        }
      }
    }
    return problems
  },
}
