import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import { publishProviderRecords } from '../../src/p2p/provider-records.ts'
import { startNodes, stopAll, waitFor } from './helpers.ts'

const SERVERS = 5

async function randomKey(): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(randomBytes(32)))
}

/** A DHT client that can reach `only` and nobody else: what it finds, that server holds. */
async function clientOf(only: DacnetLibp2p): Promise<DacnetLibp2p> {
  const client = await createDacnetLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    dhtMode: 'client',
    localNetwork: true,
    connectionGater: { denyDialPeer: (peer: PeerId) => !peer.equals(only.peerId) },
  })
  await client.start()
  await client.dial(only.getMultiaddrs()[0]!)
  await waitFor(() => tableSize(client) === 1, 'the server in the routing table')
  return client
}

function tableSize(node: DacnetLibp2p): number {
  return (node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
}

async function providersOf(client: DacnetLibp2p, key: CID): Promise<string[]> {
  const found: string[] = []
  for await (const provider of client.contentRouting.findProviders(key, { signal: AbortSignal.timeout(5_000) })) {
    found.push(provider.id.toString())
  }
  return found
}

describe('publishProviderRecords', () => {
  let servers: DacnetLibp2p[]
  beforeAll(async () => {
    servers = await startNodes(SERVERS)
    for (let i = 0; i < SERVERS; i++) {
      for (let j = i + 1; j < SERVERS; j++) await servers[i]!.dial(servers[j]!.getMultiaddrs()[0]!)
    }
    await waitFor(() => servers.every((s) => tableSize(s) === SERVERS - 1), 'full routing tables', 10_000)
    // A server names itself as a provider only once its own addresses are in its peer store (libp2p puts them
    // there shortly after it starts listening).
    for (const server of servers) {
      const deadline = performance.now() + 10_000
      while ((await server.peerStore.get(server.peerId)).addresses.length === 0) {
        if (performance.now() > deadline) throw new Error('no own addresses in the peer store')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }, 30_000)
  afterAll(() => stopAll(servers))

  it('sends every record straight to each known server, which then answers for it, as does the publisher', async () => {
    const keys = await Promise.all([randomKey(), randomKey(), randomKey()])
    const outcome = await publishProviderRecords(servers[0]!, keys, { signal: AbortSignal.timeout(10_000) })
    expect(outcome).toEqual({ how: 'direct', reached: SERVERS - 1, failed: 0 })
    const publisher = servers[0]!.peerId.toString()
    for (const server of servers) {
      const client = await clientOf(server)
      try {
        for (const key of keys) expect(await providersOf(client, key)).toEqual([publisher])
        // A key nobody published: no provider, whichever server is asked.
        expect(await providersOf(client, await randomKey())).toEqual([])
      } finally {
        await client.stop()
      }
    }
  }, 60_000)

  it('counts a server it cannot reach as failed and still reaches the others', async () => {
    const gone = servers.pop()!
    await gone.stop()
    const key = await randomKey()
    const outcome = await publishProviderRecords(servers[1]!, [key], { signal: AbortSignal.timeout(10_000) })
    expect(outcome).toEqual({ how: 'direct', reached: SERVERS - 2, failed: 1 })
    const client = await clientOf(servers[2]!)
    try {
      expect(await providersOf(client, key)).toEqual([servers[1]!.peerId.toString()])
    } finally {
      await client.stop()
    }
  }, 60_000)

  it("falls back to kad-dht's own provide, key by key, when the routing table is not the one known here", async () => {
    const provided: string[] = []
    const libp2p = {
      services: { dht: {} },
      contentRouting: {
        provide: async (key: CID) => {
          provided.push(key.toString())
          if (provided.length === 2) throw new Error('no peers')
        },
      },
    } as unknown as DacnetLibp2p
    const keys = await Promise.all([randomKey(), randomKey(), randomKey()])
    expect(await publishProviderRecords(libp2p, keys)).toEqual({ how: 'lookup', reached: 2, failed: 1 })
    expect(provided).toEqual(keys.map(String))
  })
})
