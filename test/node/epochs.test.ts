import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { isDacnetError } from '../../src/errors.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { LightClient } from '../../src/node/light-client.ts'
import { Retriever } from '../../src/node/retriever.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  type EpochSpec,
  ErasurePool,
  type MemberIdentity,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

const NETWORK = 77
const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let sequencer: DacnetLibp2p
let client: DacnetLibp2p
let pool: ErasurePool

function epoch(n: number, which: number[]): EpochSpec {
  return {
    epoch: n,
    members: which.map((i) => ({ identity: members[i]!.identity, addresses: members[i]!.node.addresses() })),
    sequencers: [sequencer.peerId.toString()],
  }
}

beforeAll(async () => {
  const identities: MemberIdentity[] = []
  for (const stake of [40n, 30n, 20n, 10n]) identities.push(await memberIdentity(stake))
  for (const identity of identities) members.push(await startMember(identity, committees))
  sequencer = await startClient('server')
  client = await startClient()
  committees.registry = registryOf(NETWORK, [epoch(0, [0, 1, 2, 3])])
  pool = new ErasurePool({ size: 1 })
}, 60_000)

afterAll(async () => {
  for (const m of members) await m.node.stop().catch(() => {})
  await sequencer?.stop()
  await client?.stop()
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
})

describe('epochs', () => {
  it('dispersal moves to the newest epoch; a member that left keeps serving what it holds', async () => {
    const disperser = new Disperser({ libp2p: sequencer, committees, pool })
    const light = new LightClient({ libp2p: client, committees })
    const retriever = new Retriever({ libp2p: client, committees, pool })
    const old = randomData(400_000, prng(201))
    const first = await disperser.disperse(old)
    expect(first.certificate.epoch).toBe(0)

    // Epoch 1: member 3 leaves the committee.
    committees.registry = registryOf(NETWORK, [epoch(0, [0, 1, 2, 3]), epoch(1, [0, 1, 2])])
    const second = await disperser.disperse(randomData(300_000, prng(202)))
    expect(second.certificate.epoch).toBe(1)
    expect(second.certificate.memberCount).toBe(3)

    // The epoch-0 certificate still verifies against the committee of the epoch it names, not another one.
    const epoch0 = await committees.getCommittee(0)
    const epoch1 = await committees.getCommittee(1)
    expect(verifyCertificate(first.certificate, epoch0).signedStake).toBeGreaterThan(0n)
    expect(() => verifyCertificate(first.certificate, epoch1)).toThrow(
      expect.objectContaining({ code: 'ATTEST_WRONG_EPOCH' }),
    )

    // Member 3 still serves its epoch-0 shards: sampling and retrieval of the old blob work.
    const sampled = await light.sample(first.certificate)
    expect(sampled.available).toBe(true)
    expect(sampled.failures).toEqual([])
    const back = await retriever.retrieve(first.certificate)
    expect(back.kind === 'ok' && Buffer.from(back.data).equals(Buffer.from(old))).toBe(true)
    expect(await members[3]!.node.store.hasBlob(first.blob.blobId)).toBe(true)
  })

  it('refuses stores for an epoch that is not current, and a member that left refuses the new one', async () => {
    const current = await committees.getCommittee(1)
    // Epoch 0 was in force until a moment ago: within the grace, a store for it is judged on the rest (here its
    // shard count), not refused as stale.
    const previous = encodeBlob(randomData(1000, prng(203)), { networkId: NETWORK, epoch: 0, k: 2, n: 4 })
    const graceErr = await sendStore(
      sequencer,
      members[0]!.node.libp2p.getMultiaddrs(),
      previous.headerBytes,
      [],
    ).catch((e) => e)
    expect(isDacnetError(graceErr, NodeErrorCode.STALE_EPOCH)).toBe(false)
    expect(isDacnetError(graceErr)).toBe(true)
    // An epoch that is neither in force nor the one before it is stale.
    const later = encodeBlob(randomData(1000, prng(205)), { networkId: NETWORK, epoch: 9, k: 2, n: 4 })
    const staleErr = await sendStore(sequencer, members[0]!.node.libp2p.getMultiaddrs(), later.headerBytes, []).catch(
      (e) => e,
    )
    expect(isDacnetError(staleErr, NodeErrorCode.STALE_EPOCH)).toBe(true)

    const fresh = encodeBlob(randomData(1000, prng(204)), {
      networkId: NETWORK,
      epoch: 1,
      ...current.shapeFor(1000),
    })
    const leftErr = await sendStore(sequencer, members[3]!.node.libp2p.getMultiaddrs(), fresh.headerBytes, []).catch(
      (e) => e,
    )
    expect(isDacnetError(leftErr, NodeErrorCode.NOT_A_MEMBER)).toBe(true)
  })
})
