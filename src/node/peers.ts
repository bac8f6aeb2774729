import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Member } from '../committee/member.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'

/**
 * The peer id to dial for a committee member. Addresses listed in the committee file go into the peer store
 * (again whenever the file's list changes); a member listed without addresses is dialled by peer id alone, and libp2p then asks peer routing
 * (the DHT) for its addresses.
 */
export async function memberPeer(libp2p: DacnetLibp2p, member: Member): Promise<PeerId> {
  const peerId = peerIdFromString(member.peerId)
  let merged = mergedAddresses.get(libp2p)
  if (!merged) {
    merged = new Map()
    mergedAddresses.set(libp2p, merged)
  }
  const listed = member.multiaddrs.join(' ')
  if (member.multiaddrs.length > 0 && merged.get(member.peerId) !== listed) {
    const addrs = member.multiaddrs.flatMap((text) => {
      try {
        return [multiaddr(text)]
      } catch {
        return []
      }
    })
    await libp2p.peerStore.merge(peerId, { multiaddrs: addrs })
    merged.set(member.peerId, listed)
  }
  return peerId
}

/** Time allowed for a fresh DHT lookup of a member's addresses before a retry. */
export const PEER_REFRESH_TIMEOUT_MS = 5_000

/**
 * Asks the DHT for a member's current addresses and replaces what the peer store knew (its own and the
 * committee file's listing). Used before retrying a member that failed: a member that moved (a restart on
 * another port, a new IP) is otherwise dialled at stale addresses forever, since libp2p only looks a peer up
 * when it knows no address at all. Returns false if the DHT did not know the peer.
 */
export async function refreshPeerAddresses(
  libp2p: DacnetLibp2p,
  member: Member,
  signal?: AbortSignal,
): Promise<boolean> {
  const peerId = peerIdFromString(member.peerId)
  const timeout = AbortSignal.timeout(PEER_REFRESH_TIMEOUT_MS)
  try {
    const found = await libp2p.peerRouting.findPeer(peerId, {
      useCache: false,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    })
    if (found.multiaddrs.length === 0) return false
    await libp2p.peerStore.patch(peerId, { multiaddrs: found.multiaddrs })
    mergedAddresses.get(libp2p)?.delete(member.peerId)
    return true
  } catch {
    return false
  }
}

/** Per libp2p node: the committee-file addresses already merged for each peer, so each is merged once. */
const mergedAddresses = new WeakMap<DacnetLibp2p, Map<string, string>>()

/**
 * Dials each address once, in the background of start-up; failures are reported, not thrown. Returns how many
 * distinct peers were reached (a member listing a TCP and a WebSocket address is one peer, one connection).
 */
export async function dialBootstrap(
  libp2p: DacnetLibp2p,
  addresses: readonly string[],
  opts: { timeoutMs: number; onError?: (address: string, err: unknown) => void },
): Promise<number> {
  const results = await Promise.allSettled(
    addresses.map((address) => libp2p.dial(multiaddr(address), { signal: AbortSignal.timeout(opts.timeoutMs) })),
  )
  const peers = new Set<string>()
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') peers.add(r.value.remotePeer.toString())
    else opts.onError?.(addresses[i]!, r.reason)
  })
  return peers.size
}
