/**
 * A badly-encoding or equivocating sequencer, as a seeded generator of shard sets. fast-check draws a small plan
 * (which committee, the blob's size, the kind of attack and its strategy, a seed); everything else — the blob's
 * bytes, which shards, symbols and members are hit — comes from a PRNG seeded by the plan, so a plan printed with a
 * failure rebuilds the same case.
 *
 * The encoding's shape (PROTOCOL.md §1.1–1.3): n shards (rows) of shardSize bytes, the first k the blob's bytes;
 * each 64-byte chunk of a shard holds 32 GF(2^16) symbols (low bytes, then high bytes), and the code acts on each
 * symbol position (column) on its own. Members are assigned contiguous runs of rows (§2.4).
 *
 * Four kinds of case:
 *  - `proof-failing`: members are sent shards or proofs that do not verify (flipped bits, swapped, short, long or
 *    foreign proofs, moved indices, shards of another commitment);
 *  - `commitment`: consistent commitments (every proof valid) to a set that is not a codeword — one symbol, many,
 *    whole rows, whole columns, recovery rows from other data or another rate, swapped or zeroed rows — and, as
 *    controls, codewords: the honest one, one of other data, one with non-zero padding;
 *  - `absurd-header`: headers with absurd k, n, shard sizes, data sizes, versions, lengths, networks, epochs and
 *    shapes, and shard counts that are not the member's assignment;
 *  - `equivocation`: a second commitment for the same blob (other bytes, or the same bytes encoded differently),
 *    whose shards go to some members under the first header and to others under its own.
 *
 * Each kind is made in a module of its own: `proof-failing` in cases-proof.ts, `absurd-header` in cases-header.ts,
 * `commitment` and `equivocation` (both made of commitments) in cases-commitment.ts; what they share — the plan and
 * the case's types, the seeded choices, the blob, honest deliveries and retrievals — is in cases-shared.ts.
 *
 * Each case carries what the oracle (encoding-oracle.ts) expects: per store, sign or the refusal's code; per
 * commitment, the verdict (the blob's bytes, or BadEncoding with its reason).
 */
import fc from 'fast-check'
import { commit, EQUIVOCATIONS, equivocationCase } from './cases-commitment.ts'
import { absurdCase, HEADER_ATTACKS } from './cases-header.ts'
import { PROOF_ATTACKS, proofFailingCase } from './cases-proof.ts'
import {
  blobData,
  type CasePlan,
  Choices,
  COMMITMENTS,
  honestDeliveries,
  type MaliciousCase,
  RETRIEVALS_PER_CASE,
  retrievalsOf,
} from './cases-shared.ts'
import { COMMITTEE_SPECS, FUZZ_MAX_BLOB_SIZE, type FuzzCommittee } from './encoding-members.ts'
import { verdictOf } from './encoding-oracle.ts'

export { commit, EQUIVOCATIONS, fuzzedCommitment } from './cases-commitment.ts'
export { HEADER_ATTACKS } from './cases-header.ts'
export { PROOF_ATTACKS } from './cases-proof.ts'
export {
  CATEGORIES,
  type CasePlan,
  type Category,
  COMMITMENTS,
  type CommitmentStrategy,
  type Delivery,
  type MaliciousCase,
  RETRIEVALS_PER_CASE,
  type Retrieval,
} from './cases-shared.ts'

const sizes = fc.oneof(
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 256 }), weight: 3 },
  { arbitrary: fc.integer({ min: 257, max: 8192 }), weight: 6 },
  { arbitrary: fc.integer({ min: 8193, max: 24_576 }), weight: 3 },
  { arbitrary: fc.integer({ min: 24_577, max: FUZZ_MAX_BLOB_SIZE }), weight: 1 },
)

/** The plans, the four categories in equal parts. */
export function casePlans(): fc.Arbitrary<CasePlan> {
  const base = {
    committee: fc.nat({ max: COMMITTEE_SPECS.length - 1 }),
    dataSize: sizes,
    zeroTail: fc.boolean(),
    seed: fc.nat(),
  }
  const any = fc.constantFrom(...COMMITMENTS)
  const broken = fc.constantFrom(...COMMITMENTS.slice(3))
  return fc.oneof(
    fc.record({
      ...base,
      category: fc.constant('proof-failing' as const),
      commitment: any,
      attack: fc.constantFrom(...PROOF_ATTACKS),
    }),
    fc.record({
      ...base,
      category: fc.constant('commitment' as const),
      // Mostly sets that are not codewords; the codewords keep the oracle and the decoder honest.
      commitment: fc.oneof({ arbitrary: broken, weight: 4 }, { arbitrary: any, weight: 1 }),
      attack: fc.constant(''),
    }),
    fc.record({
      ...base,
      category: fc.constant('absurd-header' as const),
      commitment: any,
      attack: fc.constantFrom(...HEADER_ATTACKS),
    }),
    fc.record({
      ...base,
      category: fc.constant('equivocation' as const),
      commitment: any,
      attack: fc.constantFrom(...EQUIVOCATIONS),
    }),
  )
}

/** Builds the case a plan describes, with what the oracle expects of it. */
export function buildCase(plan: CasePlan, committees: readonly FuzzCommittee[]): MaliciousCase {
  const choices = new Choices(plan.seed)
  const committee = committees[plan.committee]!
  const c = committee.committee
  const data = blobData(plan, choices)
  const shape = c.shapeFor(data.length)
  const params = { networkId: c.networkId, epoch: c.epoch, k: shape.k, n: shape.n }
  const main = commit(data, params, plan.commitment, choices)
  const mainVerdict = verdictOf(main)
  // Another commitment of the same shape, for foreign shards and proofs.
  const foreign = commit(blobData(plan, choices), params, 'honest', choices)
  const base: MaliciousCase = {
    plan,
    committee,
    headerBytes: main.headerBytes,
    headerRefusal: undefined,
    main: { commitment: main, verdict: mainVerdict },
    rival: undefined,
    deliveries: honestDeliveries(main, committee),
    retrievals: retrievalsOf('main', main, committee, choices, foreign, RETRIEVALS_PER_CASE),
  }
  switch (plan.category) {
    case 'commitment':
      return base
    case 'proof-failing':
      return proofFailingCase(base, plan.attack, choices, foreign)
    case 'absurd-header':
      return absurdCase(base, plan.attack, choices)
    case 'equivocation':
      return equivocationCase(base, plan, data, params, choices)
  }
}
