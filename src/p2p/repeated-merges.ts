import type { Peer, PeerData, PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** How long a merge that would add nothing is answered from memory; after it, one goes through to refresh the peer. */
export const REPEATED_MERGE_WINDOW_MS = 30_000
/** Peers whose last merge is remembered; past this the oldest are forgotten. */
const MAX_REMEMBERED_PEERS = 4_096

interface Remembered {
  peer: Peer
  at: number
  protocols: Set<string>
  addresses: Set<string>
}

/**
 * Makes libp2p's peer store answer repeated merges from memory. libp2p merges into the peer store on every stream
 * each side opens (to record the stream's protocol) and for every peer a DHT answer names; each merge takes the
 * store's lock, decodes the peer's record, re-encodes it and writes it back even when nothing changed. On a
 * committee that is most of them: one DHT provide (a lookup over 15 peers, then 15 records) made ~500 peer-store
 * operations, 28% of its CPU, and every sample, store and retrieve stream paid two merges.
 *
 * A merge of protocols or addresses the peer already has, within REPEATED_MERGE_WINDOW_MS of the last merge that
 * went through, returns that merge's result instead; every other call (other fields, other methods) goes through
 * and makes the peer be forgotten until its next merge. The window keeps the store's `updated` time, which ages
 * peers out, at most that far behind.
 */
export function skipRepeatedMerges(peerStore: PeerStore, windowMs = REPEATED_MERGE_WINDOW_MS): void {
  const remembered = new Map<string, Remembered>()
  const merge = peerStore.merge.bind(peerStore)
  const forget =
    <A extends unknown[], R>(method: (id: PeerId, ...rest: A) => Promise<R>) =>
    (id: PeerId, ...rest: A): Promise<R> => {
      remembered.delete(id.toString())
      return method(id, ...rest)
    }
  peerStore.save = forget(peerStore.save.bind(peerStore))
  peerStore.patch = forget(peerStore.patch.bind(peerStore))
  peerStore.delete = forget(peerStore.delete.bind(peerStore))
  const consume = peerStore.consumePeerRecord.bind(peerStore)
  peerStore.consumePeerRecord = ((...args: Parameters<PeerStore['consumePeerRecord']>) => {
    // The record names its peer inside: forget every peer rather than decode it here (a rare call).
    remembered.clear()
    return consume(...args)
  }) as PeerStore['consumePeerRecord']
  peerStore.merge = async (id: PeerId, data: PeerData, options?: Parameters<PeerStore['merge']>[2]): Promise<Peer> => {
    const key = id.toString()
    const known = remembered.get(key)
    if (known !== undefined && performance.now() - known.at < windowMs && adds(data, known) === false) {
      return known.peer
    }
    remembered.delete(key)
    const peer = await merge(id, data, options)
    if (onlyProtocolsAndAddresses(data)) {
      remembered.set(key, {
        peer,
        at: performance.now(),
        protocols: new Set(peer.protocols),
        addresses: new Set(peer.addresses.map((a) => a.multiaddr.toString())),
      })
      if (remembered.size > MAX_REMEMBERED_PEERS) remembered.delete(remembered.keys().next().value!)
    }
    return peer
  }
}

function onlyProtocolsAndAddresses(data: PeerData): boolean {
  for (const field of Object.keys(data)) {
    if (field !== 'protocols' && field !== 'multiaddrs') return false
  }
  return true
}

/** Whether merging `data` would change what is remembered (undefined: it carries other fields, so maybe). */
function adds(data: PeerData, known: Remembered): boolean | undefined {
  if (!onlyProtocolsAndAddresses(data)) return undefined
  for (const protocol of data.protocols ?? []) if (!known.protocols.has(protocol)) return true
  for (const address of (data.multiaddrs ?? []) as Multiaddr[]) {
    if (!known.addresses.has(address.toString())) return true
  }
  return false
}
