import { generateKeyPair } from '@libp2p/crypto/keys'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'

/** Started libp2p nodes on loopback; stop them with stopAll. */
export async function startNodes(count: number, dhtMode: 'server' | 'client' = 'server'): Promise<DacnetLibp2p[]> {
  const nodes: DacnetLibp2p[] = []
  for (let i = 0; i < count; i++) {
    const node = await createDacnetLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      dhtMode,
      localNetwork: true,
    })
    await node.start()
    nodes.push(node)
  }
  return nodes
}

export async function stopAll(nodes: DacnetLibp2p[]): Promise<void> {
  for (const node of nodes) await node.stop()
}
