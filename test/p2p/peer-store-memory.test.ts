import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Peer, PeerData, PeerId, PeerStore } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { rememberPeerStoreAnswers } from '../../src/p2p/peer-store-memory.ts'
import { startNodes, stopAll } from './helpers.ts'

/** A peer store that keeps protocols and addresses and counts the merges that reach it. */
class CountingStore {
  readonly merges: PeerData[] = []
  infoReads = 0
  /** A merge waits for this before it writes (to let another call begin meanwhile). */
  mergeGate: Promise<void> = Promise.resolve()
  readonly peers = new Map<string, { protocols: Set<string>; addresses: Set<string> }>()

  asPeerStore(): PeerStore {
    const peerOf = (id: PeerId): Peer => {
      const p = this.peers.get(id.toString()) ?? { protocols: new Set(), addresses: new Set() }
      return {
        id,
        protocols: [...p.protocols],
        addresses: [...p.addresses].map((a) => ({ multiaddr: multiaddr(a), isCertified: false })),
        metadata: new Map(),
        tags: new Map(),
      }
    }
    const write = (id: PeerId, data: PeerData) => {
      const key = id.toString()
      const p = this.peers.get(key) ?? { protocols: new Set<string>(), addresses: new Set<string>() }
      for (const protocol of data.protocols ?? []) p.protocols.add(protocol)
      for (const address of data.multiaddrs ?? []) p.addresses.add(address.toString())
      this.peers.set(key, p)
      return peerOf(id)
    }
    return {
      merge: async (id: PeerId, data: PeerData) => {
        this.merges.push(data)
        await this.mergeGate
        return write(id, data)
      },
      getInfo: async (id: PeerId) => {
        this.infoReads++
        const { addresses } = peerOf(id)
        return { id, multiaddrs: addresses.map((a) => a.multiaddr) }
      },
      patch: async (id: PeerId, data: PeerData) => {
        this.peers.delete(id.toString())
        return write(id, data)
      },
      save: async (id: PeerId, data: PeerData) => write(id, data),
      delete: async (id: PeerId) => {
        this.peers.delete(id.toString())
      },
      consumePeerRecord: async () => true,
    } as unknown as PeerStore
  }
}

const ADDRESS = multiaddr('/ip4/10.0.0.1/tcp/4001')

describe('rememberPeerStoreAnswers', () => {
  let peer: PeerId
  beforeAll(async () => {
    peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  })

  it('answers a merge that adds nothing from memory, and lets one that adds through', async () => {
    const counting = new CountingStore()
    const store = counting.asPeerStore()
    rememberPeerStoreAnswers(store)
    await store.merge(peer, { protocols: ['/a/1'], multiaddrs: [ADDRESS] })
    for (let i = 0; i < 10; i++) {
      const answered = await store.merge(peer, { protocols: ['/a/1'] })
      expect(answered.protocols).toEqual(['/a/1'])
      await store.merge(peer, { multiaddrs: [ADDRESS] })
    }
    expect(counting.merges).toHaveLength(1)
    const added = await store.merge(peer, { protocols: ['/b/1'] })
    expect(added.protocols.sort()).toEqual(['/a/1', '/b/1'])
    await store.merge(peer, { multiaddrs: [multiaddr('/ip4/10.0.0.2/tcp/4001')] })
    expect(counting.merges).toHaveLength(3)
  })

  it('lets every merge of other fields through, and forgets the peer on patch, save and delete', async () => {
    const counting = new CountingStore()
    const store = counting.asPeerStore()
    rememberPeerStoreAnswers(store)
    await store.merge(peer, { protocols: ['/a/1'] })
    await store.merge(peer, { protocols: ['/a/1'], tags: { kept: { value: 50 } } })
    await store.merge(peer, { protocols: ['/a/1'], tags: { kept: { value: 50 } } })
    expect(counting.merges).toHaveLength(3)
    for (const change of [
      () => store.patch(peer, { protocols: ['/c/1'] }),
      () => store.save(peer, { protocols: ['/c/1'] }),
      () => store.delete(peer),
    ]) {
      await store.merge(peer, { protocols: ['/a/1'] })
      const before = counting.merges.length
      await change()
      await store.merge(peer, { protocols: ['/a/1'] })
      expect(counting.merges.length).toBe(before + 1)
    }
  })

  it('answers repeated info reads from memory until the peer changes', async () => {
    const counting = new CountingStore()
    const store = counting.asPeerStore()
    rememberPeerStoreAnswers(store)
    await store.merge(peer, { multiaddrs: [ADDRESS] })
    for (let i = 0; i < 5; i++) {
      const info = await store.getInfo(peer)
      expect(info.multiaddrs.map(String)).toEqual([ADDRESS.toString()])
      info.multiaddrs.length = 0 // a caller's change to its answer is its own
    }
    expect(counting.infoReads).toBe(1)
    const second = multiaddr('/ip4/10.0.0.2/tcp/4001')
    await store.merge(peer, { multiaddrs: [second] })
    expect((await store.getInfo(peer)).multiaddrs.map(String).sort()).toEqual([ADDRESS, second].map(String).sort())
    await store.patch(peer, { multiaddrs: [second] })
    expect((await store.getInfo(peer)).multiaddrs.map(String)).toEqual([second.toString()])
    expect(counting.infoReads).toBe(3)
  })

  it('does not remember a merge during which the peer was patched', async () => {
    const counting = new CountingStore()
    const store = counting.asPeerStore()
    rememberPeerStoreAnswers(store)
    let open!: () => void
    counting.mergeGate = new Promise((resolve) => {
      open = resolve
    })
    const merging = store.merge(peer, { protocols: ['/a/1'] })
    const patching = store.patch(peer, { protocols: ['/b/1'] })
    open()
    await Promise.all([merging, patching])
    counting.mergeGate = Promise.resolve()
    await store.merge(peer, { protocols: ['/a/1'] })
    expect(counting.merges).toHaveLength(2)
  })

  it('lets a repeated merge through once the window has passed', async () => {
    const counting = new CountingStore()
    const store = counting.asPeerStore()
    rememberPeerStoreAnswers(store, 50)
    await store.merge(peer, { protocols: ['/a/1'] })
    await store.merge(peer, { protocols: ['/a/1'] })
    expect(counting.merges).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 80))
    await store.merge(peer, { protocols: ['/a/1'] })
    expect(counting.merges).toHaveLength(2)
  })
})

describe("dacnet's libp2p peer store", () => {
  let nodes: DacnetLibp2p[]
  beforeAll(async () => {
    nodes = await startNodes(2)
  })
  afterAll(async () => {
    await stopAll(nodes)
  })

  it('still records what is new: protocols of streams, addresses and tags', async () => {
    const [a, b] = nodes as [DacnetLibp2p, DacnetLibp2p]
    for (const protocol of ['/dacnet/test-x/1.0.0', '/dacnet/test-y/1.0.0']) {
      await b.handle(protocol, async (stream) => {
        await stream.close()
      })
    }
    for (let i = 0; i < 5; i++) {
      const stream = await a.dialProtocol(b.getMultiaddrs()[0]!, '/dacnet/test-x/1.0.0')
      await stream.close()
    }
    expect((await a.peerStore.get(b.peerId)).protocols).toContain('/dacnet/test-x/1.0.0')
    const stream = await a.dialProtocol(b.peerId, '/dacnet/test-y/1.0.0')
    await stream.close()
    expect((await a.peerStore.get(b.peerId)).protocols).toContain('/dacnet/test-y/1.0.0')
    const extra = multiaddr('/ip4/10.9.9.9/tcp/4001')
    await a.peerStore.merge(b.peerId, { multiaddrs: [extra] })
    expect((await a.peerStore.get(b.peerId)).addresses.map((x) => x.multiaddr.toString())).toContain(extra.toString())
    await a.peerStore.merge(b.peerId, { tags: { 'dacnet-test': { value: 10 } } })
    expect((await a.peerStore.get(b.peerId)).tags.get('dacnet-test')?.value).toBe(10)
  })
})
