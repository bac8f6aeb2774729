/**
 * DHT provider records published straight to the closest servers when this node already knows them.
 *
 * kad-dht's `provide` walks the DHT towards the key first (a FIND_NODE to each server it meets, whose answers name
 * up to 20 peers each) and then sends ADD_PROVIDER to the ~20 closest it found: on a committee of 16 that is 15
 * FIND_NODE and 15 ADD_PROVIDER streams, ~70 ms of the committee's CPU, for every blob. When the routing table holds
 * fewer than K peers, none of its buckets has ever been full, so it holds every DHT server this node has heard of —
 * on a committee of up to K members that all know each other, the whole DHT — and the lookup can only come back
 * with the K closest of them. Then the records go straight to those, several keys on one stream per server, as
 * kad-dht's ADD_PROVIDER messages (PROTOCOL.md §3.7). Otherwise, or when kad-dht's shape is not the one known here,
 * kad-dht's own provide runs.
 */
import { hash } from 'node:crypto'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { writeFrame } from './framing.ts'
import { deadlineIn } from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import { DHT_PROTOCOL } from './protocols.ts'
import { varintSize, writeVarint } from './varint.ts'

/** Servers written to at once by a direct publication. */
export const DIRECT_PROVIDE_CONCURRENCY = 4
/** A server that has not taken its records (dial, stream, messages, close) in this time counts as failed. */
export const DIRECT_PROVIDE_SERVER_TIMEOUT_MS = 10_000
/** A provide by lookup (kad-dht's, one key) that has not finished in this time is given up for that key. */
export const LOOKUP_PROVIDE_TIMEOUT_MS = 30_000

/** kad-dht's message type ADD_PROVIDER (its `Message.MessageType`). */
const ADD_PROVIDER = 2

/** What this module reads of a kad-dht instance beyond its public interface. */
interface DhtTable {
  k: number
  routingTable: { size: number; closestPeers(kadId: Uint8Array, options: { count: number }): PeerId[] }
  providers: { addProvider(cid: CID, provider: PeerId, options?: AbortOptions): Promise<void> }
}

function dhtTable(dht: unknown): DhtTable | undefined {
  const d = dht as Partial<DhtTable> | undefined
  if (
    typeof d?.k === 'number' &&
    typeof d.routingTable?.size === 'number' &&
    typeof d.routingTable.closestPeers === 'function' &&
    typeof d.providers?.addProvider === 'function'
  ) {
    return d as DhtTable
  }
  return undefined
}

export interface ProvideOutcome {
  /** 'direct': records sent to the known closest servers; 'lookup': kad-dht's provide, key by key. */
  how: 'direct' | 'lookup'
  /** Servers that took every record sent to them (direct), or keys provided (lookup). */
  reached: number
  /** Servers that could not be written to (direct), or keys whose provide failed (lookup). */
  failed: number
}

/**
 * Publishes a provider record naming this node for each of `keys` (the keys' multihashes, as kad-dht does), and
 * keeps each in kad-dht's own provider store, so that it answers for them and republishes them as it does its own.
 * Never throws for an unreachable or slow server (each has DIRECT_PROVIDE_SERVER_TIMEOUT_MS; a key provided by
 * lookup has LOOKUP_PROVIDE_TIMEOUT_MS): a record that missed some is still on the others, and the DHT republishes
 * it. Throws only when `options.signal` aborts.
 */
export async function publishProviderRecords(
  libp2p: DacnetLibp2p,
  keys: readonly CID[],
  options: AbortOptions = {},
): Promise<ProvideOutcome> {
  const table = dhtTable(libp2p.services.dht)
  if (table === undefined || table.routingTable.size === 0 || table.routingTable.size >= table.k) {
    return provideByLookup(libp2p, keys, options)
  }
  const byServer = new Map<string, { peer: PeerId; messages: Uint8Array[] }>()
  const self = libp2p.peerId.toMultihash().bytes
  const addrs = libp2p.getMultiaddrs().map((ma) => ma.bytes)
  for (const key of keys) {
    options.signal?.throwIfAborted()
    await table.providers.addProvider(key, libp2p.peerId, options)
    const target = key.multihash.bytes
    const message = addProviderMessage(target, self, addrs)
    const closest = table.routingTable.closestPeers(kadIdOf(target), { count: table.k })
    for (const peer of closest) {
      const id = peer.toString()
      const entry = byServer.get(id) ?? { peer, messages: [] }
      entry.messages.push(message)
      byServer.set(id, entry)
    }
  }
  const servers = [...byServer.values()]
  let reached = 0
  let failed = 0
  const next = async (): Promise<void> => {
    for (let server = servers.shift(); server !== undefined; server = servers.shift()) {
      if (await sendRecords(libp2p, server.peer, server.messages, options)) reached++
      else failed++
    }
  }
  await Promise.all(Array.from({ length: Math.min(DIRECT_PROVIDE_CONCURRENCY, servers.length) }, next))
  return { how: 'direct', reached, failed }
}

async function provideByLookup(libp2p: DacnetLibp2p, keys: readonly CID[], options: AbortOptions) {
  let reached = 0
  let failed = 0
  for (const key of keys) {
    options.signal?.throwIfAborted()
    const deadline = deadlineIn(LOOKUP_PROVIDE_TIMEOUT_MS, options.signal)
    try {
      await libp2p.contentRouting.provide(key, { signal: deadline.signal })
      reached++
    } catch (err) {
      if (options.signal?.aborted) throw err
      failed++
    } finally {
      deadline.clear()
    }
  }
  return { how: 'lookup' as const, reached, failed }
}

/** Writes `messages` on one DHT stream to `peer` and closes it; false if the peer could not be written to. */
async function sendRecords(
  libp2p: DacnetLibp2p,
  peer: PeerId,
  messages: readonly Uint8Array[],
  options: AbortOptions,
): Promise<boolean> {
  const deadline = deadlineIn(DIRECT_PROVIDE_SERVER_TIMEOUT_MS, options.signal)
  const { signal } = deadline
  let stream: Awaited<ReturnType<DacnetLibp2p['dialProtocol']>> | undefined
  try {
    stream = await libp2p.dialProtocol(peer, DHT_PROTOCOL, { signal })
    for (const message of messages) await writeFrame(stream, message, { signal })
    await stream.close({ signal })
    return true
  } catch (err) {
    stream?.abort(err instanceof Error ? err : new Error(String(err)))
    if (options.signal?.aborted) throw err
    return false
  } finally {
    deadline.clear()
  }
}

/** A key's (or peer's multihash's) position in the DHT's XOR space: its SHA-256, as kad-dht computes it. */
export function kadIdOf(bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer')
}

/**
 * kad-dht's `Message` protobuf for ADD_PROVIDER: type (1) = 2, key (2) = the key's multihash, one providerPeers
 * (9) entry with this node's id (1, its multihash) and addresses (2). Fields in number order except providerPeers,
 * as kad-dht writes them; decoders accept any order.
 */
export function addProviderMessage(key: Uint8Array, peerId: Uint8Array, addrs: readonly Uint8Array[]): Uint8Array {
  const peerLength = fieldSize(peerId.byteLength) + addrs.reduce((total, addr) => total + fieldSize(addr.byteLength), 0)
  const length = 2 + fieldSize(key.byteLength) + fieldSize(peerLength)
  const out = new Uint8Array(length)
  let at = 0
  out[at++] = (1 << 3) | 0
  out[at++] = ADD_PROVIDER
  at = writeField(out, at, 2, key)
  out[at++] = (9 << 3) | 2
  at = writeVarint(out, at, peerLength)
  at = writeField(out, at, 1, peerId)
  for (const addr of addrs) at = writeField(out, at, 2, addr)
  return out
}

/** Bytes of a length-delimited field of `length` bytes with a one-byte tag. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length
}

function writeField(out: Uint8Array, at: number, field: number, bytes: Uint8Array): number {
  out[at] = (field << 3) | 2
  const start = writeVarint(out, at + 1, bytes.byteLength)
  out.set(bytes, start)
  return start + bytes.byteLength
}
