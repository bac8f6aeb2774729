import { hash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import { type Identify, identify } from '@libp2p/identify'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { type Ping, ping } from '@libp2p/ping'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Registry } from 'prom-client'
import { withBatchedWrites } from './batched-writes.ts'
import { libp2pLogger } from './libp2p-logger.ts'
import { listenError } from './listen-error.ts'
import { keptKeyCrypto } from './noise-crypto.ts'
import { rememberPeerStoreAnswers } from './peer-store-memory.ts'
import { CERTIFICATE_TOPIC, DHT_PROTOCOL } from './protocols.ts'

const EMPTY_BYTES = new Uint8Array(0)

/**
 * `pubsub` is absent on a node created with `gossip: false` (a client that only samples and retrieves), `dht` on one
 * created with `dhtMode: 'off'` (a client that only samples).
 */
export type DacnetServices = { identify: Identify; ping: Ping; dht?: KadDHT; pubsub?: GossipSub }
export type DacnetLibp2p = Libp2p<DacnetServices>

/** Loopback TCP on a free port: safe for tests and the devnet; operators set their own. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']
/**
 * Muxer window per stream. It must stay below the stream's read buffer (4 MiB): a paused reader can still
 * receive one full window, and a buffer overflow resets the stream.
 */
export const STREAM_WINDOW_BYTES = 2 * 1024 * 1024
export const STREAM_READ_BUFFER_BYTES = 4 * 1024 * 1024
/**
 * How often libp2p's connection monitor pings each connection (a new stream each time: multistream-select, a
 * ping, a close), and the least time it waits for the answer before it cuts the connection. libp2p's defaults
 * (every 10 s, 5 s) made the pings a tenth of an idle member's CPU with ~20 connections, and cut connections of
 * a member busy storing a large blob on a loaded machine. Yamux's own keep-alive still runs every 30 s.
 */
export const CONNECTION_PING_INTERVAL_MS = 60_000
export const CONNECTION_PING_MIN_TIMEOUT_MS = 20_000
/** Connections a node keeps at most: a committee of hundreds plus its clients. */
export const DEFAULT_MAX_CONNECTIONS = 512
/**
 * Inbound connections with a handshake under way. libp2p's default of 10 let ten idle sockets (or a burst of new
 * peers) keep every other new peer out until their handshakes timed out: with 128, 0 of 225 honest new clients were
 * kept out during a burst of 32 simultaneous new peers (was 199 of 260), and 245 of 245 got in past 16 idle sockets
 * (was 0 of 278).
 */
export const MAX_PENDING_INBOUND_CONNECTIONS = 128
/**
 * Time an inbound connection has to finish the noise and yamux handshakes: libp2p's 10 s. 3 s freed stalled
 * places sooner, but a loaded machine's honest handshakes took longer than that; the 128 places are what keep
 * new peers in.
 */
export const INBOUND_UPGRADE_TIMEOUT_MS = 10_000

/**
 * When a DHT client (a light client, a sequencer) runs its first self-query (ms after start). A self-query walks
 * the DHT towards the node's own id, dialling and querying most of a committee; run at start, as libp2p does
 * (after 1 s, or 100 ms on a local network), it lands on the members just as a fresh client's first checks do:
 * measured on 16 members, a fresh client's first check on its open connections took 193-248 ms with it and
 * 139 ms with it deferred (66-78 ms with no DHT at all; later checks 35-64 ms). A client's routing table fills
 * from the members it connects to, and its queries do not wait for this one.
 */
export const CLIENT_FIRST_SELF_QUERY_MS = 10_000

export interface DacnetLibp2pOptions {
  privateKey: PrivateKey
  /** Listen multiaddrs (TCP and/or `/ws`). Default DEFAULT_LISTEN. */
  listen?: string[]
  /** Addresses announced to others instead of the listen addresses (e.g. behind NAT). */
  announce?: string[]
  /**
   * 'server' answers DHT queries (committee nodes); 'client' only asks (sequencers, retrievers); 'off' runs no DHT
   * (a client that only samples: it finds holders in the committee, never through provider records).
   */
  dhtMode: 'server' | 'client' | 'off'
  /**
   * Local-network mode: loopback addresses count as distinct hosts (no gossipsub IP-colocation penalty,
   * no per-IP connection rate limit). For devnets and tests only. Default false.
   */
  localNetwork?: boolean
  /** Refuse connections from peers the gater denies (e.g. to cut off graylisted peers). */
  connectionGater?: ConnectionGater
  /** Register libp2p's metrics here (prom-client). Off by default. */
  metricsRegistry?: Registry
  /**
   * Certificate gossip (gossipsub). A client that only samples and retrieves can leave it out: gossipsub opens a
   * stream to every peer it connects to and exchanges subscriptions, which a fresh light client pays for on each
   * holder it dials (measured on 16 members, 8 fresh clients each: first check 201 -> 160 ms p50, the next
   * 94 -> 80 ms, later ones 86 -> 52 ms). Committee nodes need it. Default true.
   */
  gossip?: boolean
}

/**
 * Whether the node identifies each peer it connects to (libp2p's identify, run on every new connection). Only the
 * DHT and gossipsub read what it learns (which peers speak their protocols); a node with neither — a client that
 * only samples — skips it and still answers a peer's identify. Each identify costs both sides a stream and a
 * signed-record check, and a DHT client then pings every new contact before adding it to its routing table: on 16
 * members, a fresh client's check dialling ~11 holders took 155 -> 121 ms p50 without it (alternate checks of one
 * run), members' CPU per check 230 -> 160 ms and the client's 112 -> 72 ms.
 */
export function identifiesOnConnect(opts: Pick<DacnetLibp2pOptions, 'dhtMode' | 'gossip'>): boolean {
  return opts.dhtMode !== 'off' || opts.gossip !== false
}

/**
 * A libp2p node with dacnet's stack: TCP and WebSockets, noise, yamux, identify, ping, kad-dht under
 * DHT_PROTOCOL, and gossipsub with scoring for the certificate topic. Created stopped: call `start()`, which
 * fails with P2P_LISTEN_FAILED (naming each address and why: a port in use, an address not of this machine) when
 * it cannot listen; libp2p has stopped again by then.
 */
export async function createDacnetLibp2p(opts: DacnetLibp2pOptions): Promise<DacnetLibp2p> {
  const libp2p = await createStack(opts)
  rememberPeerStoreAnswers(libp2p.peerStore)
  const start = libp2p.start.bind(libp2p)
  libp2p.start = async () => {
    try {
      await start()
    } catch (err) {
      throw listenError(err) ?? err
    }
  }
  return libp2p
}

function createStack(opts: DacnetLibp2pOptions): Promise<DacnetLibp2p> {
  const local = opts.localNetwork === true
  const logger = libp2pLogger(process.env)
  return createLibp2p<DacnetServices>({
    start: false,
    privateKey: opts.privateKey,
    ...(logger ? { logger } : {}),
    addresses: { listen: opts.listen ?? DEFAULT_LISTEN, ...(opts.announce ? { announce: opts.announce } : {}) },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [withBatchedWrites(noise({ crypto: keptKeyCrypto }))],
    streamMuxers: [
      yamux({
        streamOptions: { maxStreamWindowSize: STREAM_WINDOW_BYTES, maxReadBufferLength: STREAM_READ_BUFFER_BYTES },
      }),
    ],
    connectionManager: {
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      maxIncomingPendingConnections: MAX_PENDING_INBOUND_CONNECTIONS,
      inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS,
      // libp2p's default of 5 new connections per second per IP refuses a devnet's simultaneous dials.
      ...(local ? { inboundConnectionThreshold: 10_000 } : {}),
    },
    connectionMonitor: {
      pingInterval: CONNECTION_PING_INTERVAL_MS,
      pingTimeout: { minTimeout: CONNECTION_PING_MIN_TIMEOUT_MS },
    },
    ...(opts.connectionGater ? { connectionGater: opts.connectionGater } : {}),
    ...(opts.metricsRegistry
      ? {
          metrics: prometheusMetrics({
            registry: opts.metricsRegistry,
            collectDefaultMetrics: false,
            preserveExistingMetrics: true,
          }),
        }
      : {}),
    services: {
      identify: identify(identifiesOnConnect(opts) ? {} : { runOnConnectionOpen: false }),
      ping: ping(),
      ...(opts.dhtMode === 'off' ? {} : { dht: dht(opts.dhtMode, local) }),
      ...(opts.gossip === false ? {} : { pubsub: certificateGossip(local) }),
    },
  })
}

function dht(mode: 'server' | 'client', local: boolean): ReturnType<typeof kadDHT> {
  return kadDHT({
    protocol: DHT_PROTOCOL,
    clientMode: mode === 'client',
    // Committees run on private networks too: keep private and loopback addresses in routing tables.
    peerInfoMapper: passthroughMapper,
    ...(mode === 'client'
      ? { initialQuerySelfInterval: CLIENT_FIRST_SELF_QUERY_MS, allowQueryWithZeroPeers: true }
      : local
        ? { initialQuerySelfInterval: 100 }
        : {}),
  })
}

/**
 * Mesh degrees of the certificate topic: a mesh of 3 (2 to 4) and gossip to 3 peers outside it, against
 * gossipsub's 6 (4 to 12) and 6. Every member hears each certificate from its sequencer, which publishes to every
 * subscriber it is connected to (flood publishing), so the mesh only repairs what that missed; each mesh peer costs
 * every member a received copy and a forward of every certificate. 16 members, 1 MiB blobs: members' CPU a blob
 * 454-595 -> 380-491 ms (alternating runs). A random mesh of degree 3 stays connected, and IHAVE gossip still
 * reaches peers outside it.
 */
export const CERTIFICATE_MESH = { D: 3, Dlo: 2, Dhi: 4, Dscore: 1, Dout: 1, Dlazy: 3 } as const

/**
 * Gossipsub's heartbeat on a node (ms): mesh upkeep and IHAVE gossip, every second by default. Certificates are rare
 * and every member hears each from its sequencer directly, so the mesh only repairs and can be kept up more slowly;
 * a member that missed a certificate hears of it within three seconds instead of one (the message cache keeps it for
 * five heartbeats, 15 s). 16 idle members of the file devnet, two alternating pairs, 1 s / 3 s: 19.6 / 16.8 and
 * 16.9 / 14.0% of a core together; 1 MiB dispersals unchanged (members' CPU a blob 417 / 407, 507 / 481 ms).
 */
export const CERTIFICATE_HEARTBEAT_MS = 3_000

/** Gossipsub for the certificate topic, with the scoring that makes invalid certificates cost their forwarder. */
function certificateGossip(local: boolean): ReturnType<typeof gossipsub> {
  return gossipsub({
    ...CERTIFICATE_MESH,
    heartbeatInterval: CERTIFICATE_HEARTBEAT_MS,
    allowPublishToZeroTopicPeers: true,
    // Content addressing: the same certificate from any publisher is one message, so a peer cannot make the
    // network re-validate it by republishing it under its own key and sequence numbers.
    msgIdFn: (message) => new Uint8Array(hash('sha256', message.data, 'buffer')),
    // The same id before the signature check: each node hears a certificate from several mesh peers, and without
    // it every copy had its publisher's signature verified before being dropped as a duplicate.
    fastMsgIdFn: (message) => hash('sha256', message.data ?? EMPTY_BYTES, 'base64'),
    // Publishing a certificate the network already carries is not an error.
    ignoreDuplicatePublishError: true,
    scoreParams: {
      ...(local ? { IPColocationFactorWhitelist: new Set(['127.0.0.1']) } : {}),
      topics: {
        // Invalid certificates cost the forwarding peer (P4, quadratic), forgotten slowly (1% a second, a
        // half-life of about 70 s) so that a steady trickle adds up: one a second passes the graylist
        // threshold within seconds. Certificates are rare, so there are no delivery quotas (P3). Time in
        // mesh counts per second, up to an hour, so that honest uptime (at most 36) can never outweigh a
        // handful of invalid messages (5 cost 250).
        [CERTIFICATE_TOPIC]: createTopicScoreParams({
          topicWeight: 1,
          timeInMeshWeight: 0.01,
          timeInMeshQuantum: 1000,
          timeInMeshCap: 3600,
          firstMessageDeliveriesWeight: 1,
          firstMessageDeliveriesDecay: 0.5,
          firstMessageDeliveriesCap: 100,
          invalidMessageDeliveriesWeight: -10,
          invalidMessageDeliveriesDecay: 0.99,
          meshMessageDeliveriesWeight: 0,
          meshFailurePenaltyWeight: 0,
        }),
      },
    },
  })
}
