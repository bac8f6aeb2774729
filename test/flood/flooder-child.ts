/**
 * Flooders in a process of their own, so their client work does not land on the honest client's event loop:
 * sample floods from several identities (FloodSpec) and bursts of new peers dialling the node (BurstSpec).
 * Driven over IPC by test/flood/harness.ts (messages in ./protocol.ts).
 */
import { connect, type Socket } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { type BlobId, parseBlobId } from '../../src/erasure/blob-id.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { prng } from '../erasure/helpers.ts'
import type { BurstSpec, FlooderStart, FloodSpec, FromFlooder, StallSpec, ToFlooder } from './protocol.ts'
import { distinctIndices, median, outcomeOf, sleep } from './stats.ts'

interface Target {
  addresses: ReturnType<typeof multiaddr>[]
  blobId: BlobId
  shardSize: number
  n: number
  rand: () => number
}

let target: Target | undefined
/** How long a stalled socket may take to connect. */
const STALL_CONNECT_MS = 5_000

function send(message: FromFlooder): void {
  process.send?.(message)
}

async function newPeer(): Promise<DacnetLibp2p> {
  const libp2p = await createDacnetLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    dhtMode: 'client',
    localNetwork: true,
  })
  await libp2p.start()
  return libp2p
}

/** Each identity paces its requests at least 1/rate apart, over `streams` workers that each wait for their answer. */
async function flood(spec: FloodSpec): Promise<void> {
  const t = target!
  const peers = await Promise.all(Array.from({ length: spec.identities }, () => newPeer()))
  try {
    const holder = (await Promise.all(peers.map((p) => p.dial(t.addresses))))[0]!.remotePeer
    const started = performance.now()
    const cpu = process.cpuUsage()
    const end = started + spec.durationMs
    const interval = 1000 / spec.ratePerSecond
    const perIdentity = await Promise.all(
      peers.map(async (peer) => {
        const tally = { served: 0, refused: {} as Record<string, number> }
        let nextAt = performance.now()
        const worker = async () => {
          while (true) {
            const at = Math.max(nextAt, performance.now())
            nextAt = at + interval
            if (at >= end) return
            await sleep(at - performance.now())
            const indices = distinctIndices(spec.indicesPerRequest, t.n, t.rand)
            const outcome = await outcomeOf(requestSamples(peer, holder, t.blobId, indices, { shardSize: t.shardSize }))
            if (outcome === 'ok') tally.served++
            else tally.refused[outcome] = (tally.refused[outcome] ?? 0) + 1
          }
        }
        await Promise.all(Array.from({ length: spec.streams }, worker))
        return tally
      }),
    )
    const used = process.cpuUsage(cpu)
    send({
      type: 'flooded',
      perIdentity,
      seconds: (performance.now() - started) / 1000,
      cpuMs: (used.user + used.system) / 1000,
    })
  } finally {
    await Promise.all(peers.map((p) => p.stop()))
  }
}

/** `peers` fresh identities dial at once; with `durationMs`, fresh ones keep `peers` handshakes going until it ends. */
async function burst(spec: BurstSpec): Promise<void> {
  const t = target!
  const outcomes: Record<string, number> = {}
  const connectMs: number[] = []
  let dials = 0
  const dialOnce = async (peer: DacnetLibp2p) => {
    const at = performance.now()
    dials++
    const outcome = await outcomeOf(peer.dial(t.addresses, { signal: AbortSignal.timeout(10_000) }))
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
    if (outcome === 'ok') connectMs.push(performance.now() - at)
  }
  const first = await Promise.all(Array.from({ length: spec.peers }, () => newPeer()))
  const started = performance.now()
  try {
    send({ type: 'bursting' })
    await Promise.all(first.map(dialOnce))
  } finally {
    await Promise.all(first.map((p) => p.stop()))
  }
  if (spec.durationMs !== undefined) {
    const end = started + spec.durationMs
    const lane = async () => {
      while (performance.now() < end) {
        const peer = await newPeer()
        try {
          await dialOnce(peer)
        } finally {
          await peer.stop()
        }
      }
    }
    await Promise.all(Array.from({ length: spec.peers }, lane))
  }
  connectMs.sort((a, b) => a - b)
  send({
    type: 'burst-done',
    dials,
    outcomes,
    connectP50Ms: median(connectMs),
    connectMaxMs: connectMs.at(-1) ?? 0,
    seconds: (performance.now() - started) / 1000,
  })
}

/** Opens `sockets` TCP connections to the node's TCP address and sends nothing on them until the end. */
async function stall(spec: StallSpec): Promise<void> {
  const tcp = target!.addresses.map(tcpAddressOf).find((a) => a !== undefined)
  if (!tcp) throw new Error('the node has no IPv4 TCP address')
  const opened = performance.now()
  const closedAfter: number[] = []
  let ending = false
  const held = await Promise.allSettled(
    Array.from({ length: spec.sockets }, () =>
      stalledSocket(tcp, () => {
        if (!ending) closedAfter.push(performance.now() - opened)
      }),
    ),
  )
  const sockets = held.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  send({ type: 'bursting' })
  await sleep(spec.durationMs)
  ending = true
  for (const socket of sockets) socket.destroy()
  closedAfter.sort((a, b) => a - b)
  send({
    type: 'stall-done',
    sockets: spec.sockets,
    closedByNode: closedAfter.length,
    closedAfterP50Ms: median(closedAfter),
  })
}

/** A TCP connection that sends nothing; `onClose` hears when it closes. Given up after STALL_CONNECT_MS. */
function stalledSocket(tcp: { host: string; port: number }, onClose: () => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: tcp.host, port: tcp.port })
    const timer = setTimeout(() => socket.destroy(new Error('not connected in time')), STALL_CONNECT_MS)
    socket.on('error', (err) => reject(err))
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve(socket)
    })
    socket.once('close', onClose)
  })
}

function tcpAddressOf(address: ReturnType<typeof multiaddr>): { host: string; port: number } | undefined {
  const parts = address.getComponents()
  const host = parts.find((c) => c.name === 'ip4')?.value
  const port = parts.find((c) => c.name === 'tcp')?.value
  if (host === undefined || port === undefined || parts.some((c) => c.name === 'ws')) return undefined
  return { host, port: Number(port) }
}

function start(spec: FlooderStart): void {
  target = {
    addresses: spec.addresses.map((a) => multiaddr(a)),
    blobId: parseBlobId(spec.blobId),
    shardSize: spec.shardSize,
    n: spec.n,
    rand: prng(spec.seed),
  }
  send({ type: 'ready' })
}

process.on('message', (message: ToFlooder) => {
  const run = async () => {
    if (message.type === 'start') start(message)
    else if (message.type === 'flood') await flood(message)
    else if (message.type === 'burst') await burst(message)
    else if (message.type === 'stall') await stall(message)
    else if (message.type === 'stop') {
      send({ type: 'stopped' })
      process.disconnect?.()
    }
  }
  run().catch((err: unknown) => send({ type: 'failed', message: (err as Error).stack ?? String(err) }))
})
process.on('disconnect', () => process.exit(0))
