import type { Committee } from '../../src/committee/committee.ts'
import { type EncodedBlob, encodeBlob } from '../../src/erasure/encode.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
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

/**
 * The set-up member-service.test.ts and member-serving.test.ts share: one real committee node (libp2p on
 * loopback, LevelDB in a temp dir) of a three-member committee, a registered sequencer connected to it, and
 * fresh blobs in the committee's shape.
 */

export const NETWORK = 31
export const MAX_BLOB = 64 * 1024
export const committees = new SwappableCommitteeSource()
export const identities: MemberIdentity[] = []
export let member: RunningMember
export let sequencer: DacnetLibp2p
export let committee: Committee
let seed = 500

export async function setUpMember(): Promise<void> {
  for (const stake of [40n, 30n, 30n]) identities.push(await memberIdentity(stake))
  member = await startMember(identities[0]!, committees, { maxBlobSize: MAX_BLOB, announceProviders: false })
  sequencer = await startClient()
  committees.registry = registryOf(NETWORK, [epochEntry(0)])
  committee = await committees.getCommittee(0)
  await sequencer.dial(member.node.libp2p.getMultiaddrs())
}

export async function tearDownMember(): Promise<void> {
  await member?.node.stop()
  await sequencer?.stop()
  await removeDirs(member ? [member.dir] : [])
}

/** The test committee's entry for `epoch` in registryOf: the three members, the running one with its addresses. */
export function epochEntry(epoch: number, extra: { retentionSeconds?: number } = {}) {
  return {
    epoch,
    members: identities.map((identity, i) => ({
      identity,
      ...(i === 0 ? { addresses: member.node.addresses() } : {}),
    })),
    sequencers: [sequencer.peerId.toString()],
    ...extra,
  }
}

/** A fresh blob (never stored before) with the committee's shape for its size unless overridden. */
export function freshBlob(
  overrides: { networkId?: number; k?: number; n?: number; size?: number; epoch?: number } = {},
): EncodedBlob {
  const size = overrides.size ?? 20_000
  const shape = committee.shapeFor(size)
  return encodeBlob(randomData(size, prng(seed++)), {
    networkId: overrides.networkId ?? NETWORK,
    epoch: overrides.epoch ?? 0,
    k: overrides.k ?? shape.k,
    n: overrides.n ?? shape.n,
    maxBlobSize: 1024 * 1024,
  })
}
