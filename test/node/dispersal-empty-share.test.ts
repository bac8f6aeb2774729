import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificateSigners } from '../../src/attest/certificate.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import { Disperser } from '../../src/node/disperser.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

/**
 * A member whose stake is under S/n is assigned no shard of a small blob (PROTOCOL.md §2.4). Four real members,
 * stakes 100, 100, 100 and 1: for a 1,000-byte blob (n = 16) the last one's count is ⌊16 · 1/301⌋ = 0 and no
 * leftover shard reaches it. It stores nothing and still signs, so its stake counts.
 */

const NETWORK = 9301
const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let sequencer: DacnetLibp2p
let pool: ErasurePool

beforeAll(async () => {
  for (const stake of [100n, 100n, 100n, 1n]) members.push(await startMember(await memberIdentity(stake), committees))
  sequencer = await startClient('server')
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
      sequencers: [sequencer.peerId.toString()],
    },
  ])
  pool = new ErasurePool({ size: 1 })
}, 30_000)

afterAll(async () => {
  for (const m of members) await m.node.stop().catch(() => {})
  await sequencer?.stop()
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
})

describe('a member assigned no shard of a blob', () => {
  it('stores nothing, signs, and its stake is in the certificate', async () => {
    const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { graceMs: 20_000 })
    try {
      const failures: string[] = []
      const result = await disperser.disperse(randomData(1_000, prng(9301)), {
        onFailure: (failure) => failures.push(`${failure.member} ${failure.code}`),
      })
      const committee = await committees.getCommittee(0)
      const { blobId, header } = result.blob
      const small = committee.memberByPublicKey(members[3]!.identity.publicKey)!
      // The case this file is about: the small member's count for this blob is zero.
      expect(assignShards(committee, blobId.bytes, header.n).shardsOf(small.index)).toEqual([])
      expect(failures).toEqual([])
      expect(result.certificate.signedStake).toBe(301n)
      expect(certificateSigners(result.certificate)).toContain(small.index)
      // It holds nothing of the blob, and the blob is not listed as stored there.
      expect(await members[3]!.node.store.hasBlob(blobId)).toBe(false)
      // Every other member holds its run.
      for (const m of members.slice(0, 3)) expect(await m.node.store.hasBlob(blobId)).toBe(true)
    } finally {
      await disperser.close()
    }
  }, 30_000)
})
