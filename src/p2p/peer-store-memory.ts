import type { Peer, PeerData, PeerId, PeerInfo, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * How long a merge that would add nothing, or a repeated `getInfo`, is answered from memory; after it, one goes
 * through to the store again.
 */
export const PEER_STORE_MEMORY_MS = 30_000
/** Peers whose last merge, and whose info, are remembered; past this the oldest are forgotten. */
const MAX_REMEMBERED_PEERS = 4_096

interface Remembered {
  peer: Peer
  at: number
  protocols: Set<string>
  addresses: Set<string>
}

/**
 * Makes libp2p's peer store answer repeated merges and info reads from memory. libp2p merges into the peer store on
 * every stream each side opens (to record the stream's protocol) and for every peer a DHT answer names, and a DHT
 * node answering `FIND_NODE` reads the info of each of the ~20 peers it names; each call takes the store's lock and
 * decodes the peer's record, and each merge re-encodes it and writes it back even when nothing changed. On a
 * committee that is most of them: one DHT provide (a lookup over 15 peers, then 15 records) made ~500 peer-store
 * operations, 28% of its CPU, and every sample, store and retrieve stream paid two merges.
 *
 * A merge of protocols or addresses the peer already has, within PEER_STORE_MEMORY_MS of the last merge that
 * went through, returns that merge's result instead; a `getInfo` within that time of the last one that went through
 * returns a copy of its answer. Every other call (other fields, other methods) goes through and makes the peer be
 * forgotten. The window keeps the store's `updated` time, which ages peers out, at most that far behind.
 */
export function rememberPeerStoreAnswers(peerStore: PeerStore, windowMs = PEER_STORE_MEMORY_MS): void {
  const remembered = new Map<string, Remembered>()
  const infos = new Map<string, { info: PeerInfo; at: number }>()
  // Calls that may change a peer's record, counted per peer (and for all at once): an answer is remembered only if
  // none began while it was under way, since the store's lock may have run that change first.
  const changes = new Map<string, number>()
  let allChanged = 0
  const changed = (key: string): number => {
    const count = (changes.get(key) ?? 0) + 1
    changes.delete(key)
    changes.set(key, count)
    if (changes.size > MAX_REMEMBERED_PEERS) changes.delete(changes.keys().next().value!)
    return count
  }
  const unchangedSince = (key: string, count: number | undefined, all: number) =>
    changes.get(key) === count && allChanged === all
  const merge = peerStore.merge.bind(peerStore)
  const getInfo = peerStore.getInfo.bind(peerStore)
  const forget =
    <A extends unknown[], R>(method: (id: PeerId, ...rest: A) => Promise<R>) =>
    (id: PeerId, ...rest: A): Promise<R> => {
      changed(id.toString())
      remembered.delete(id.toString())
      infos.delete(id.toString())
      return method(id, ...rest)
    }
  peerStore.save = forget(peerStore.save.bind(peerStore))
  peerStore.patch = forget(peerStore.patch.bind(peerStore))
  peerStore.delete = forget(peerStore.delete.bind(peerStore))
  const consume = peerStore.consumePeerRecord.bind(peerStore)
  peerStore.consumePeerRecord = ((...args: Parameters<PeerStore['consumePeerRecord']>) => {
    // The record names its peer inside: forget every peer rather than decode it here (a rare call).
    allChanged++
    remembered.clear()
    infos.clear()
    return consume(...args)
  }) as PeerStore['consumePeerRecord']
  peerStore.merge = async (id: PeerId, data: PeerData, options?: Parameters<PeerStore['merge']>[2]): Promise<Peer> => {
    const key = id.toString()
    const known = remembered.get(key)
    if (known !== undefined && performance.now() - known.at < windowMs && adds(data, known) === false) {
      return known.peer
    }
    const count = changed(key)
    const all = allChanged
    remembered.delete(key)
    infos.delete(key)
    const peer = await merge(id, data, options)
    if (onlyProtocolsAndAddresses(data) && unchangedSince(key, count, all)) {
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
  peerStore.getInfo = async (id: PeerId, options?: Parameters<PeerStore['getInfo']>[1]): Promise<PeerInfo> => {
    const key = id.toString()
    const known = infos.get(key)
    if (known !== undefined && performance.now() - known.at < windowMs) return copyOf(known.info)
    const count = changes.get(key)
    const all = allChanged
    const info = await getInfo(id, options)
    if (unchangedSince(key, count, all)) {
      infos.delete(key)
      infos.set(key, { info: copyOf(info), at: performance.now() })
      if (infos.size > MAX_REMEMBERED_PEERS) infos.delete(infos.keys().next().value!)
    }
    return info
  }
}

function copyOf(info: PeerInfo): PeerInfo {
  return { id: info.id, multiaddrs: [...info.multiaddrs] }
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
