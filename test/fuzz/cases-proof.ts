/**
 * The `proof-failing` kind of encoding case (encoding-cases.ts): members are sent shards or proofs that do not
 * verify — flipped bits, swapped, short, long or foreign proofs, moved indices, shards of another commitment,
 * dropped or doubled shards.
 */
import { assignShards } from '../../src/committee/assignment.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { type Choices, copyShard, type MaliciousCase, spoil } from './cases-shared.ts'
import { type Commitment, expectedStore } from './encoding-oracle.ts'

/** What a member is sent that does not verify. */
export const PROOF_ATTACKS = [
  'data-bit',
  'proof-bit',
  'proof-swap',
  'proof-short',
  'proof-long',
  'proof-empty',
  'data-short',
  'data-long',
  'foreign-shard',
  'foreign-proof',
  'index-swap',
  'index-moved',
  'dropped',
  'duplicated',
] as const

/** A member's delivery after the attack: some of its shards (at least one) spoiled, moved, dropped or doubled. */
function attackDelivery(
  shards: ShardWithProof[],
  attack: string,
  choices: Choices,
  n: number,
  foreign: Commitment,
): { shards: ShardWithProof[]; shardCount: number } {
  const out = shards.map(copyShard)
  const hits = choices.distinct(out.length, choices.int(1, Math.min(3, out.length)))
  switch (attack) {
    case 'proof-swap':
    case 'index-swap': {
      // Two shards trade proofs (or indices); with one shard, it gets its neighbour's proof.
      if (out.length < 2) {
        const neighbour = foreign.shards[(out[0]!.index + 1) % foreign.shards.length]!
        out[0] = { ...out[0]!, proof: neighbour.proof.slice() }
        break
      }
      const [a, b] = choices.distinct(out.length, 2) as [number, number]
      if (attack === 'proof-swap') [out[a]!.proof, out[b]!.proof] = [out[b]!.proof, out[a]!.proof]
      else [out[a]!.index, out[b]!.index] = [out[b]!.index, out[a]!.index]
      break
    }
    case 'index-moved':
      out[hits[0]!] = { ...out[hits[0]!]!, index: choices.int(0, n + 4) }
      break
    case 'dropped':
      out.splice(hits[0]!, 1)
      return { shards: out, shardCount: choices.chance(0.5) ? out.length : out.length + 1 }
    case 'duplicated':
      if (out.length < 2) out.push(copyShard(out[0]!))
      else out[hits[0]!] = copyShard(out[(hits[0]! + 1) % out.length]!)
      break
    default:
      for (const i of hits) out[i] = spoil(out[i]!, attack, choices, n, foreign)
  }
  return { shards: out, shardCount: out.length }
}

/** Some members (at least one) are sent their shards after the attack; each expects the refusal the oracle gives. */
export function proofFailingCase(
  base: MaliciousCase,
  attack: string,
  choices: Choices,
  foreign: Commitment,
): MaliciousCase {
  const main = base.main!.commitment
  const c = base.committee.committee
  const targets = choices.distinct(base.deliveries.length, choices.int(1, base.deliveries.length))
  const assignment = assignShards(c, main.blobId.bytes, main.header.n)
  for (const t of targets) {
    const d = base.deliveries[t]!
    const { shards, shardCount } = attackDelivery(d.shards, attack, choices, main.header.n, foreign)
    base.deliveries[t] = {
      ...d,
      shards,
      shardCount,
      expect: expectedStore(main.header, assignment.shardsOf(d.member), shards, shardCount),
    }
  }
  return base
}
