import {
  aggregateCheckedSignatureBytes,
  aggregateSignatures,
  aggregateWithRandomness,
  decodeSignature,
  type PublicKey,
  type Signature,
  verify,
} from './bls.ts'
import { AttestErrorCode } from './errors.ts'

/** One signature to check, with the (validated) key it should verify under. */
export interface SignatureSet {
  publicKey: PublicKey
  /** Untrusted compressed bytes. */
  signature: Uint8Array
}

export type SetVerdict =
  | { ok: true }
  | {
      ok: false
      code: typeof AttestErrorCode.MALFORMED_SIGNATURE | typeof AttestErrorCode.INVALID_SIGNATURE
      reason: string
    }

export interface BatchResult {
  /** One verdict per set, in order. */
  verdicts: SetVerdict[]
  /** Sum of the valid signatures, or undefined if none was valid. */
  aggregate: Signature | undefined
}

/**
 * Verifies signatures that all sign `message`. Two or more are checked together first (random-scalar
 * aggregation off the main thread, then one pairing); if that fails, because one is malformed or forged,
 * each is checked alone so that exactly the bad ones are named and the good ones still count.
 */
export async function verifySameMessage(message: Uint8Array, sets: SignatureSet[]): Promise<BatchResult> {
  if (sets.length > 1 && (await batchVerifies(message, sets))) {
    // aggregateWithRandomness group-checked every signature: summing them needs no second check.
    const aggregate = aggregateCheckedSignatureBytes(sets.map((s) => s.signature))
    return { verdicts: sets.map(() => ({ ok: true })), aggregate }
  }
  const valid: Signature[] = []
  const verdicts = sets.map((set): SetVerdict => {
    let signature: Signature
    try {
      signature = decodeSignature(set.signature)
    } catch (err) {
      return { ok: false, code: AttestErrorCode.MALFORMED_SIGNATURE, reason: (err as Error).message }
    }
    if (!verify(message, set.publicKey, signature)) {
      return { ok: false, code: AttestErrorCode.INVALID_SIGNATURE, reason: 'signature does not verify' }
    }
    valid.push(signature)
    return { ok: true }
  })
  return { verdicts, aggregate: valid.length === 0 ? undefined : aggregateSignatures(valid) }
}

async function batchVerifies(message: Uint8Array, sets: SignatureSet[]): Promise<boolean> {
  try {
    const { publicKey, signature } = await aggregateWithRandomness(sets)
    return verify(message, publicKey, signature)
  } catch {
    return false // a malformed signature in the batch: the single checks name it
  }
}
