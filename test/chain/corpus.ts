/**
 * A seeded corpus of certificates for the differential test (differential.test.ts): valid certificates of the
 * committees a registry holds, and every way of getting one wrong that PROTOCOL §2.7 and §4.5 name, each with the
 * binary certificate (what `decodeCertificate` + `verifyCertificate` judge) and the on-chain form the contract
 * judges. The same seed gives the same corpus for the same committees.
 *
 * Signatures are made with dacnet's attest code (`signAttestation`). A signer set's aggregate signature is the
 * signature of the sum of its secret keys (BLS is linear in the key: Σ sk_i·H(m) = (Σ sk_i)·H(m)), which costs
 * one signing per certificate instead of one per signer; `aggregateBySigners` makes the same signature the long
 * way, and the test checks the two agree.
 *
 * The corpus is made category by category, in one order (the same seed must draw the same items): the shared
 * building blocks are in corpus-base.ts, the generator's state and common draws in corpus-state.ts, and the
 * categories in corpus-signers.ts (who signed), corpus-headers.ts (what was signed) and corpus-forms.ts (how the
 * bytes are encoded).
 */
import type { CorpusContext, CorpusItem } from './corpus-base.ts'
import {
  addBitFlips,
  addInfinity,
  addMalformedFields,
  addNonSubgroup,
  addPadded,
  addTruncated,
} from './corpus-forms.ts'
import {
  addOtherBlob,
  addOtherEpoch,
  addOtherNetwork,
  addUnknownEpoch,
  addUnsafeEncodings,
  addUnsupportedShapes,
} from './corpus-headers.ts'
import { addDuplicateSigner, addStakeOffByOne, addThresholdEdges, addValid, addWrongSigners } from './corpus-signers.ts'
import { CorpusState } from './corpus-state.ts'

export {
  aggregateBySigners,
  CATEGORIES,
  type Category,
  type CorpusCommittee,
  type CorpusContext,
  type CorpusItem,
  PLAN,
  Rng,
} from './corpus-base.ts'
export { nonSubgroupPoint } from './corpus-forms.ts'

/** The corpus for these committees and this seed, made category by category in the order of CATEGORIES. */
export function generateCorpus(ctx: CorpusContext, seed: number): CorpusItem[] {
  const s = new CorpusState(ctx, seed)
  // Each step draws from the one random source in turn, so the order is part of what a seed means (the numbers are
  // the sections of the category modules).
  addValid(s) // 1
  addThresholdEdges(s) // 2
  addWrongSigners(s) // 3
  addStakeOffByOne(s) // 4
  addOtherEpoch(s) // 5
  addUnknownEpoch(s) // 6
  addOtherNetwork(s) // 7
  addOtherBlob(s) // 8
  addDuplicateSigner(s) // 9
  addInfinity(s) // 10
  addNonSubgroup(s)
  addUnsafeEncodings(s) // 11
  addUnsupportedShapes(s)
  addTruncated(s) // 12
  addPadded(s)
  addMalformedFields(s) // 13
  addBitFlips(s) // 14
  return s.items
}
