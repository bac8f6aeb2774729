import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey, StreamHandler } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { SecretKey } from '../../src/attest/bls.ts'
import { generateSecretKey, publicKeyOf } from '../../src/attest/keys.ts'
import { blsKeyVerifier, createProofOfPossession } from '../../src/attest/pop.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { type CommitteeEpochJson, type CommitteeRegistry, parseCommitteeFile } from '../../src/committee/file.ts'
import { type CommitteeSource, committeeOf } from '../../src/committee/source.ts'
import { ErasurePool } from '../../src/erasure/pool.ts'
import { CommitteeNode, type CommitteeNodeOptions } from '../../src/node/committee-node.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import { SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL } from '../../src/p2p/protocols.ts'
import { handleSampleStream, type SampleService } from '../../src/p2p/sample.ts'
import { handleSampleSession } from '../../src/p2p/sample-session.ts'
import { ShardStore } from '../../src/storage/store.ts'

/** A committee source whose registry can be replaced while nodes run (addresses are known only after start). */
export class SwappableCommitteeSource implements CommitteeSource {
  registry: CommitteeRegistry | null = null
  async getCommittee(epoch: number): Promise<Committee> {
    if (!this.registry) throw new Error('no registry yet')
    return committeeOf(this.registry, epoch)
  }
  async epochs(): Promise<number[]> {
    return this.registry?.committees.map((c) => c.epoch) ?? []
  }
}

export interface MemberIdentity {
  peerKey: PrivateKey
  peerId: string
  secretKey: SecretKey
  publicKey: Uint8Array
  proofOfPossession: Uint8Array
  stake: bigint
}

export async function memberIdentity(stake: bigint): Promise<MemberIdentity> {
  const peerKey = await generateKeyPair('Ed25519')
  const secretKey = generateSecretKey()
  return {
    peerKey,
    peerId: peerIdFromPrivateKey(peerKey).toString(),
    secretKey,
    publicKey: publicKeyOf(secretKey),
    proofOfPossession: createProofOfPossession(secretKey),
    stake,
  }
}

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

export interface EpochSpec {
  epoch: number
  members: { identity: MemberIdentity; addresses?: string[] }[]
  sequencers: string[]
  retentionSeconds?: number
}

export function registryOf(networkId: number, epochs: EpochSpec[]): CommitteeRegistry {
  const json = {
    version: 1,
    networkId,
    epochs: epochs.map(
      (e): CommitteeEpochJson => ({
        epoch: e.epoch,
        ...(e.retentionSeconds ? { retentionSeconds: e.retentionSeconds } : {}),
        members: e.members.map(({ identity, addresses }) => ({
          peerId: identity.peerId,
          publicKey: hex(identity.publicKey),
          proofOfPossession: hex(identity.proofOfPossession),
          stake: identity.stake.toString(),
          ...(addresses ? { multiaddrs: addresses } : {}),
        })),
        sequencers: e.sequencers.map((peerId) => ({ peerId })),
      }),
    ),
  }
  return parseCommitteeFile(JSON.stringify(json), { verifier: blsKeyVerifier })
}

/**
 * The usual test registry: epoch 0 with every running member listed with its addresses, and `sequencers` (their
 * libp2p nodes) registered.
 */
export function oneEpochRegistry(
  networkId: number,
  members: readonly RunningMember[],
  sequencers: readonly { peerId: { toString(): string } }[],
): CommitteeRegistry {
  return registryOf(networkId, [
    {
      epoch: 0,
      members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
      sequencers: sequencers.map((s) => s.peerId.toString()),
    },
  ])
}

export interface RunningMember {
  identity: MemberIdentity
  node: CommitteeNode
  dir: string
}

/** A committee node with real libp2p on loopback and real LevelDB in a temp dir. */
export async function startMember(
  identity: MemberIdentity,
  committees: CommitteeSource,
  opts: CommitteeNodeOptions & { dir?: string; listen?: string[] } = {},
): Promise<RunningMember> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'dacnet-member-')))
  const libp2p = await createDacnetLibp2p({
    privateKey: identity.peerKey,
    dhtMode: 'server',
    localNetwork: true,
    ...(opts.listen ? { listen: opts.listen } : {}),
  })
  const store = await ShardStore.open(dir)
  const node = new CommitteeNode({ libp2p, store, committees, secretKey: identity.secretKey }, opts)
  await node.start()
  return { identity, node, dir }
}

/**
 * Makes a running member lie: its sample protocol serves the shards it holds with every byte XORed with `mask`
 * (proofs unchanged), over the real wire. Only a proof check can catch it.
 */
export async function serveCorruptSamples(node: CommitteeNode, mask: number): Promise<void> {
  const service: SampleService = {
    async readShard(blobId, index) {
      const real = await node.store.getShard(blobId, index)
      return real && { ...real, data: real.data.map((b) => b ^ mask) }
    },
  }
  await node.libp2p.unhandle([SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL])
  dropSampleSessions(node)
  await node.libp2p.handle(SAMPLE_PROTOCOL, async (stream, connection) => {
    await handleSampleStream(service, stream, connection)
  })
  await node.libp2p.handle(SAMPLE_SESSION_PROTOCOL, async (stream, connection) => {
    await handleSampleSession(service, stream, connection)
  })
}

/**
 * Replaces a running member's sample handlers with `handler` on /dacnet/sample/1.0.0 alone: clients then fall back
 * to a stream per request, so `handler` sees every request on a stream of its own (to delay, drop or stall it).
 */
export async function serveSamplesPerStream(node: CommitteeNode, handler: StreamHandler): Promise<void> {
  await node.libp2p.unhandle([SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL])
  dropSampleSessions(node)
  await node.libp2p.handle(SAMPLE_PROTOCOL, handler)
}

/** Resets the sample sessions clients hold open with `node`: their next requests open streams to its new handlers. */
function dropSampleSessions(node: CommitteeNode): void {
  for (const connection of node.libp2p.getConnections()) {
    for (const stream of connection.streams) {
      if (stream.protocol === SAMPLE_SESSION_PROTOCOL) stream.abort(new Error('the sample handlers were replaced'))
    }
  }
}

export async function startClient(dhtMode: 'server' | 'client' = 'client'): Promise<DacnetLibp2p> {
  const libp2p = await createDacnetLibp2p({ privateKey: await generateKeyPair('Ed25519'), dhtMode, localNetwork: true })
  await libp2p.start()
  return libp2p
}

export async function removeDirs(dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
}

export { ErasurePool }
