import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodePublicKey, decodeSignature, verify } from '../../src/attest/bls.ts'
import { attestationContextOf, attestationMessage } from '../../src/attest/message.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { Shard, StoreRequest, StoreResponse } from '../../src/p2p/pb/dacnet.js'
import { STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { ShardStore } from '../../src/storage/store.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  type MemberIdentity,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

const NETWORK = 91
const committees = new SwappableCommitteeSource()
let member: RunningMember
let identity: MemberIdentity
let sequencer: DacnetLibp2p

beforeAll(async () => {
  identity = await memberIdentity(10n)
  const other = await memberIdentity(10n)
  member = await startMember(identity, committees)
  sequencer = await startClient('server')
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: [{ identity, addresses: member.node.addresses() }, { identity: other }],
      sequencers: [sequencer.peerId.toString()],
    },
  ])
}, 30_000)

afterAll(async () => {
  await member?.node.stop().catch(() => {})
  await sequencer?.stop()
  await removeDirs(member ? [member.dir] : [])
})

describe('graceful shutdown', () => {
  it('finishes a store whose shards are still arriving when stop begins: durable, signed, answered', async () => {
    const committee = await committees.getCommittee(0)
    const blob = encodeBlob(randomData(200_000, prng(301)), {
      networkId: NETWORK,
      epoch: 0,
      ...committee.shapeFor(200_000),
    })
    const mine = assignShards(committee, blob.blobId.bytes, blob.header.n).shardsOf(0)
    expect(mine.length).toBeGreaterThan(1)

    const stream = await sequencer.dialProtocol(member.node.libp2p.getMultiaddrs(), STORE_PROTOCOL)
    const reader = new FrameReader(stream)
    const sendShard = (index: number) =>
      writeFrame(stream, Shard.encode({ index, data: blob.shards[index]!, proof: blob.proofs[index]! }))
    await writeFrame(stream, StoreRequest.encode({ header: blob.headerBytes, shardCount: mine.length }))
    await sendShard(mine[0]!)

    // Stop begins with the exchange admitted and half its shards still to come.
    let stopped = false
    const stopping = member.node.stop().then(() => {
      stopped = true
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(stopped).toBe(false)
    for (const index of mine.slice(1)) await sendShard(index)
    await stream.close()

    const frame = await reader.expect(4096, 'the store response', AbortSignal.timeout(10_000))
    const response = StoreResponse.decode(frame)
    reader.release()
    expect(response.errorCode).toBe('')
    const message = attestationMessage(attestationContextOf(blob.header))
    expect(verify(message, decodePublicKey(identity.publicKey), decodeSignature(response.signature))).toBe(true)
    await stopping
    expect(stopped).toBe(true)

    // What the node answered for is on disk.
    const store = await ShardStore.open(member.dir, { backgroundPrune: false })
    try {
      expect(await store.listShardIndices(blob.blobId)).toEqual(mine)
      expect(await store.getAttestation(blob.blobId)).toEqual(new Uint8Array(response.signature))
    } finally {
      await store.close()
    }
  }, 30_000)
})
