import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assignShards } from '../../src/committee/assignment.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { DispersalReceipt, DispersalSent } from '../../src/node/dispersal-options.ts'
import { Disperser } from '../../src/node/disperser.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { waitFor } from '../cli/helpers.ts'
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

const NETWORK = 93
const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let sequencer: DacnetLibp2p
let pool: ErasurePool

beforeAll(async () => {
  for (const stake of [30n, 20n, 10n]) members.push(await startMember(await memberIdentity(stake), committees))
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

describe('dispersal progress events', () => {
  it('reports each share as sent before its receipt; a grace period gathers every signature, then stops waiting', async () => {
    const events: (['sent', DispersalSent] | ['receipt', DispersalReceipt])[] = []
    const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { graceMs: 20_000 })
    try {
      const start = performance.now()
      const result = await disperser.disperse(randomData(300_000, prng(401)), {
        onSent: (sent) => events.push(['sent', sent]),
        onReceipt: (receipt) => events.push(['receipt', receipt]),
      })
      const committee = await committees.getCommittee(0)
      const assignment = assignShards(committee, result.blob.blobId.bytes, result.blob.header.n)
      const sent = events.flatMap(([kind, e]) => (kind === 'sent' ? [e as DispersalSent] : []))
      expect(sent.map((s) => s.member).sort()).toEqual([0, 1, 2])
      const shardSize = result.blob.header.shardSize
      for (const s of sent) {
        expect(s.shards).toBe(assignment.shardsOf(s.member).length)
        expect(s.bytes).toBeGreaterThan(s.shards * shardSize)
        // A receipt for a member comes only after its share was reported sent.
        const sentAt = events.findIndex(([kind, e]) => kind === 'sent' && e.member === s.member)
        const receiptAt = events.findIndex(([kind, e]) => kind === 'receipt' && e.member === s.member)
        if (receiptAt !== -1) expect(sentAt).toBeLessThan(receiptAt)
      }
      // The grace collects every member's signature, and ends as soon as every member has answered.
      expect(result.receipts).toHaveLength(3)
      expect(result.certificate.signedStake).toBe(60n)
      expect(performance.now() - start).toBeLessThan(15_000)
    } finally {
      await disperser.close()
    }
  }, 30_000)

  it('goes on when an event handler throws: the certificate comes, and the round settles', async () => {
    const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { graceMs: 20_000 })
    try {
      const boom = () => {
        throw new Error('a handler that throws')
      }
      const result = await disperser.disperse(randomData(50_000, prng(409)), {
        onEncoded: boom,
        onSent: boom,
        // An async handler's rejection, unhandled, would end the process (vitest fails the run on one).
        onReceipt: async () => boom(),
      })
      // Every receipt was counted though each handler threw: all three signed within the grace.
      expect(result.certificate.signedStake).toBe(60n)
      expect(result.receipts).toHaveLength(3)
      await waitFor(() => disperser.unsettled === 0 || undefined, 10_000, 'the round settled')
    } finally {
      await disperser.close()
    }
  }, 30_000)

  it('gives a large blob’s shard memory back to a pool of two once every member is done, for the next blob', async () => {
    const split = new ErasurePool({ size: 2 })
    const disperser = new Disperser({ libp2p: sequencer, committees, pool: split })
    try {
      const size = 1024 * 1024 + 5_000
      const first = await disperser.disperse(randomData(size, prng(403)))
      await waitFor(() => disperser.unsettled === 0 || undefined, 10_000, 'every member done with the first blob')
      expect(split.staging.keptBytes).toBeGreaterThanOrEqual(first.blob.header.n * first.blob.header.shardSize)
      const reuses = split.staging.reuses
      const data = randomData(size, prng(404))
      const second = await disperser.disperse(data)
      expect(split.staging.reuses).toBe(reuses + 1)
      // The kept memory held the first blob's codeword: the second's commitment is still its own (as one thread
      // encodes it), and members signed it, so the shards they were sent matched it.
      const { networkId, epoch, k, n } = second.blob.header
      expect(second.blob.blobId.toString()).toBe(encodeBlob(data, { networkId, epoch, k, n }).blobId.toString())
      expect(second.certificate.signedStake).toBeGreaterThanOrEqual(40n)
      expect(second.failures).toEqual([])
    } finally {
      await disperser.close()
      await split.close()
    }
  }, 30_000)

  it('counts a dispersal as unsettled while a slow member still holds its share, after the certificate', async () => {
    // Member 2 takes the stream and never answers; members 0 and 1 hold 50 of 60 stake, above two thirds.
    const slow = members[2]!.node.libp2p
    await slow.unhandle(STORE_PROTOCOL)
    await slow.handle(STORE_PROTOCOL, async () => {})
    const disperser = new Disperser(
      { libp2p: sequencer, committees, pool },
      { memberTimeoutMs: 1_500, retryDelayMs: 100 },
    )
    try {
      const result = await disperser.disperse(randomData(100_000, prng(402)))
      expect(result.certificate.signedStake).toBe(50n)
      expect(disperser.unsettled).toBe(1)
      await waitFor(() => (disperser.unsettled === 0 ? true : undefined), 15_000, 'the slow send to settle')
    } finally {
      await disperser.close()
    }
  }, 30_000)
})
