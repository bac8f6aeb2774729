import type { Committee } from '../committee/committee.ts'
import { aggregatePublicKeys, decodePublicKey, negatePublicKey, type PublicKey } from './bls.ts'

/** A committee's keys decoded once, with the aggregate of all of them for the certificate fast path. */
export interface CommitteeKeys {
  /** Decoded (subgroup-checked) keys in member order. */
  readonly publicKeys: readonly PublicKey[]
  /** Sum of every member's key. */
  readonly all: PublicKey
  /** -pk of a member, computed on first use. */
  negated(memberIndex: number): PublicKey
}

// Keyed by the Committee object, which is immutable, so an entry can never go stale; it goes away with it.
const cache = new WeakMap<Committee, CommitteeKeys>()

export function committeeKeys(committee: Committee): CommitteeKeys {
  let keys = cache.get(committee)
  if (!keys) {
    keys = buildKeys(committee)
    cache.set(committee, keys)
  }
  return keys
}

function buildKeys(committee: Committee): CommitteeKeys {
  // The committee already checked every key through its verifier; decoding with checks again costs
  // ~80 µs a key once per committee and keeps this cache safe even if a caller used a lax verifier.
  const publicKeys = Object.freeze(committee.members.map((m) => decodePublicKey(m.publicKey)))
  const negated: (PublicKey | undefined)[] = []
  return {
    publicKeys,
    all: aggregatePublicKeys([...publicKeys]),
    negated(memberIndex) {
      let key = negated[memberIndex]
      if (!key) {
        key = negatePublicKey(publicKeys[memberIndex]!)
        negated[memberIndex] = key
      }
      return key
    },
  }
}

/**
 * The aggregate key of a signer set: the sum of the signers, or the cached sum of all members plus the
 * negated non-signers, whichever takes fewer point additions. With 1,000 members and a third absent that
 * halves the work; with everyone signing it is free.
 */
export function aggregateSigners(keys: CommitteeKeys, signers: readonly number[]): PublicKey {
  const memberCount = keys.publicKeys.length
  const absent = memberCount - signers.length
  if (absent === 0) return keys.all
  if (absent + 1 < signers.length) {
    const signing = new Uint8Array(memberCount)
    for (const i of signers) signing[i] = 1
    const terms = [keys.all]
    for (let i = 0; i < memberCount; i++) if (signing[i] === 0) terms.push(keys.negated(i))
    return aggregatePublicKeys(terms)
  }
  return aggregatePublicKeys(signers.map((i) => keys.publicKeys[i]!))
}
