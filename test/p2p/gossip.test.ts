import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { type CertificateVerdict, joinCertificateGossip, publishCertificate } from '../../src/p2p/gossip.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import { CERTIFICATE_TOPIC } from '../../src/p2p/protocols.ts'
import { startNodes, stopAll } from './helpers.ts'

let nodes: DacnetLibp2p[] = []
type Scored = { getScore(peerId: string): number }
type Meshed = { getMeshPeers(topic: string): string[] }

beforeAll(async () => {
  nodes = await startNodes(3)
  await nodes[1]!.dial(nodes[0]!.getMultiaddrs())
  await nodes[2]!.dial(nodes[0]!.getMultiaddrs())
})
afterAll(() => stopAll(nodes))

// Generous: gossipsub forms meshes on its heartbeat, which a loaded two-core machine delays.
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('certificate gossip', () => {
  it('delivers and relays what the validator accepts, drops what it rejects and penalises the sender', {
    timeout: 90_000,
  }, async () => {
    const [hub, publisher, listener] = nodes as [DacnetLibp2p, DacnetLibp2p, DacnetLibp2p]
    const received: string[] = []
    const relayed: string[] = []
    // "Valid" certificates start with 0x01 in this test; the real validator verifies BLS certificates.
    const validate = (bytes: Uint8Array): CertificateVerdict => (bytes[0] === 1 ? 'accept' : 'reject')
    joinCertificateGossip(hub, { validate, onCertificate: (b) => received.push(Buffer.from(b).toString('hex')) })
    joinCertificateGossip(listener, { validate, onCertificate: (b) => relayed.push(Buffer.from(b).toString('hex')) })
    joinCertificateGossip(publisher, { validate: () => 'accept' })
    await until(() => hub.services.pubsub!.getSubscribers(CERTIFICATE_TOPIC).length >= 2)
    await until(() => listener.services.pubsub!.getSubscribers(CERTIFICATE_TOPIC).length >= 1)
    await until(() => publisher.services.pubsub!.getSubscribers(CERTIFICATE_TOPIC).length >= 1)
    // Relaying goes through the hub's mesh: wait until the listener is in it.
    const listenerId = listener.peerId.toString()
    await until(() => (hub.services.pubsub! as unknown as Meshed).getMeshPeers(CERTIFICATE_TOPIC).includes(listenerId))

    await publishCertificate(publisher, Uint8Array.from([1, 2, 3]))
    await until(() => received.includes('010203') && relayed.includes('010203'))

    for (let i = 0; i < 5; i++) await publishCertificate(publisher, Uint8Array.from([9, i]))
    const scoreOf = () => (hub.services.pubsub! as unknown as Scored).getScore(publisher.peerId.toString())
    await until(() => scoreOf() < 0)
    expect(received).toEqual(['010203'])
    expect(relayed).toEqual(['010203']) // invalid messages were never forwarded to the listener
  })

  it('is left out of a client created without gossip: nothing to join, nothing published, no gossip stream', async () => {
    const light = await createDacnetLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      dhtMode: 'client',
      listen: [],
      gossip: false,
    })
    await light.start()
    try {
      expect(light.services.pubsub).toBeUndefined()
      const joining = (() => {
        try {
          joinCertificateGossip(light, { validate: () => 'accept' })
        } catch (err) {
          return err
        }
      })()
      expect(joining).toMatchObject({ code: P2pErrorCode.NO_GOSSIP })
      expect(await publishCertificate(light, Uint8Array.from([1, 2, 3]))).toBe(0)
      // Connected to a gossiping node, it speaks no gossipsub: the hub never counts it a subscriber or a peer.
      const connection = await light.dial(nodes[0]!.getMultiaddrs())
      await new Promise((r) => setTimeout(r, 500))
      expect(connection.streams.filter((s) => s.protocol?.includes('meshsub'))).toEqual([])
      expect(nodes[0]!.services.pubsub!.getPeers().map(String)).not.toContain(light.peerId.toString())
    } finally {
      await light.stop()
    }
  })
})
