import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { CommitteeNode } from '../../src/node/committee-node.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { createDacnetLibp2p } from '../../src/p2p/node.ts'
import { ShardStore } from '../../src/storage/store.ts'
import {
  ErasurePool,
  type MemberIdentity,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startMember,
} from '../node/harness.ts'

export const TOKEN = 'test-token-0123456789abcdef'

/**
 * A small committee of real nodes on loopback. Member 0 is the API node: it is also the registered
 * sequencer, and its libp2p registers its metrics in `registry` (as the CLI's node does).
 */
export interface ApiCommittee {
  networkId: number
  committees: SwappableCommitteeSource
  members: RunningMember[]
  apiNode: CommitteeNode
  registry: Registry
  pool: ErasurePool
  disperser: Disperser
  /** Peer ids registered as sequencers besides the API node. */
  otherSequencers: string[]
  /** Publishes the registry again, optionally without the API node as sequencer. */
  publish(opts?: { sequencer?: boolean }): void
  close(): Promise<void>
}

export async function startApiCommittee(stakes: bigint[], networkId = 5380): Promise<ApiCommittee> {
  const committees = new SwappableCommitteeSource()
  const registry = new Registry()
  const identities: MemberIdentity[] = []
  for (const stake of stakes) identities.push(await memberIdentity(stake))
  const members: RunningMember[] = [await startMetricsMember(identities[0]!, committees, registry)]
  for (const identity of identities.slice(1)) members.push(await startMember(identity, committees))
  // A ring, so that gossip reaches everyone.
  for (let i = 0; i < members.length; i++) {
    await members[i]!.node.libp2p.dial(members[(i + 1) % members.length]!.node.libp2p.getMultiaddrs())
  }
  const apiNode = members[0]!.node
  const otherSequencers: string[] = []
  const publish = (opts: { sequencer?: boolean } = {}) => {
    committees.registry = registryOf(networkId, [
      {
        epoch: 0,
        members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
        sequencers: [...(opts.sequencer === false ? [] : [apiNode.peerId]), ...otherSequencers],
      },
    ])
  }
  publish()
  const pool = new ErasurePool({ size: 1 })
  const disperser = new Disperser(
    { libp2p: apiNode.libp2p, committees, pool, localMember: apiNode.asLocalMember() },
    { memberTimeoutMs: 10_000, retryDelayMs: 100 },
  )
  return {
    networkId,
    committees,
    members,
    apiNode,
    registry,
    pool,
    disperser,
    otherSequencers,
    publish,
    async close() {
      for (const m of members) await m.node.stop().catch(() => {})
      await disperser.close()
      await pool.close()
      await removeDirs(members.map((m) => m.dir))
    },
  }
}

/** Like the harness's startMember, with libp2p's metrics registered in `registry`. */
async function startMetricsMember(
  identity: MemberIdentity,
  committees: SwappableCommitteeSource,
  registry: Registry,
): Promise<RunningMember> {
  const dir = await mkdtemp(join(tmpdir(), 'dacnet-api-'))
  const libp2p = await createDacnetLibp2p({
    privateKey: identity.peerKey,
    dhtMode: 'server',
    localNetwork: true,
    metricsRegistry: registry,
  })
  const store = await ShardStore.open(dir)
  const node = new CommitteeNode({ libp2p, store, committees, secretKey: identity.secretKey })
  await node.start()
  return { identity, node, dir }
}

/** A parsed response body: the tests check it against the OpenAPI schemas rather than a static type. */
// biome-ignore lint/suspicious/noExplicitAny: bodies are validated at run time against the OpenAPI document
export type ResponseBody = any

/** A JSON request to the API; returns the status, headers and parsed body. */
export async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: ResponseBody }> {
  const res = await fetch(url, init)
  const text = await res.text()
  const type = res.headers.get('content-type') ?? ''
  return { status: res.status, headers: res.headers, body: type.includes('json') ? JSON.parse(text) : text }
}

/** POSTs a blob; `token` null sends no Authorization header. */
export function postBlob(url: string, bytes: Uint8Array, token: string | null = TOKEN, init: RequestInit = {}) {
  return call(`${url}/v1/blobs`, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: bytes,
    ...init,
  })
}
