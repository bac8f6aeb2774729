import { EventEmitter } from 'node:events'
import type { SecretKey } from '../attest/bls.ts'
import { certificateBlobId } from '../attest/certificate.ts'
import { decodeCertificate } from '../attest/certificate-codec.ts'
import { publicKeyOf } from '../attest/keys.ts'
import type { CommitteeSource } from '../committee/source.ts'
import type { BlobId } from '../erasure/blob-id.ts'
import { decodeHeader } from '../erasure/header.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../erasure/params.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { P2pErrorCode } from '../p2p/errors.ts'
import { joinCertificateGossip } from '../p2p/gossip.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { STORE_PROTOCOL } from '../p2p/protocols.ts'
import { type ProtocolOptions, registerProtocols, type StopServing } from '../p2p/service.ts'
import { intakeAll } from '../p2p/store.ts'
import { CANCELLED, type ServedExchange } from '../p2p/wire.ts'
import type { ShardStore, StoreStats } from '../storage/store.ts'
import { CertificateJudge } from './certificates.ts'
import type { LocalMember } from './disperser.ts'
import { MemberService } from './member-service.ts'
import { dialBootstrap } from './peers.ts'
import { ProviderAnnouncer } from './provider-announcer.ts'
import { ShardReads } from './shard-reads.ts'

/** How long start-up waits for each bootstrap dial before going on without it. */
export const DEFAULT_BOOTSTRAP_TIMEOUT_MS = 10_000
/** Recent errors kept for `status()`. */
const MAX_RECENT_ERRORS = 20
/** A refused store is logged at most once per peer and code in this time (the counters count every one). */
export const REFUSAL_LINE_INTERVAL_MS = 60_000
/** Peer-and-code pairs remembered for that rule. */
const MAX_REFUSAL_LINE_KEYS = 1024

export interface CommitteeNodeInit {
  /** Created but not started; the node starts and stops it. */
  libp2p: DacnetLibp2p
  /** Open; the node closes it on stop. */
  store: ShardStore
  committees: CommitteeSource
  /** The member's BLS secret key (decrypted from its keystore). */
  secretKey: SecretKey
  logger?: Logger
}

export interface CommitteeNodeOptions extends ProtocolOptions {
  /** Largest blob this node stores a share of. Default DEFAULT_MAX_BLOB_SIZE (32 MiB). */
  maxBlobSize?: number
  /** Multiaddrs dialled at start to join the network (and seed the DHT). */
  bootstrap?: string[]
  bootstrapTimeoutMs?: number
  /** Publish DHT provider records for stored blobs (when this node is one of a blob's announcers). Default true. */
  announceProviders?: boolean
  /**
   * How many members announce each blob: the first ones of the blob's run order (PROTOCOL.md §3.7). Default
   * DEFAULT_PROVIDERS_PER_BLOB (1); every member of the network should use the same value.
   */
  providersPerBlob?: number
  /**
   * Provider records wait until no store has begun or ended on this node for this long (they cost a DHT query; see
   * DEFAULT_PROVIDE_QUIET_MS). Default DEFAULT_PROVIDE_QUIET_MS (2 s); 0 announces at once.
   */
  provideQuietMs?: number
  /** The longest a provider record waits for quiet. Default DEFAULT_PROVIDE_MAX_DELAY_MS (60 s). */
  provideMaxDelayMs?: number
  /** On stop, the longest wait for store exchanges under way. Default DEFAULT_STORE_DRAIN_MS (30 s). */
  storeDrainMs?: number
  /** Stores for the epoch before the one in force are taken this long after it changed. Default 30 s. */
  previousEpochGraceMs?: number
  /**
   * Share bytes received at once over every store, past which a new store is refused NODE_BUSY. Default
   * INTAKE_BLOBS_AT_ONCE (8) × maxBlobSize.
   */
  maxIntakeBytes?: number
  /**
   * Shard reads under way at once, node-wide: sample, retrieve and the HTTP API together. Default
   * DEFAULT_MAX_CONCURRENT_SHARD_READS (32).
   */
  maxConcurrentShardReads?: number
  /** How long a read waits for a free slot before NODE_BUSY. Default DEFAULT_SHARD_READ_WAIT_MS (2 s). */
  shardReadWaitMs?: number
  /**
   * Shard bytes (with proofs) served per second node-wide, shared fairly between requesters; Infinity turns it off.
   * Default DEFAULT_SERVING_BYTES_PER_SECOND (8 MiB/s).
   */
  servingBytesPerSecond?: number
}

/** The store's figures and place on disk, without a way to read or change what it holds. */
export interface NodeStorage {
  /** Counts kept in memory: never waits on the disk. */
  stats(): StoreStats
  /** The LevelDB directory. */
  readonly dir: string
}

/** What a node reports as it works; metrics and logs subscribe through `node.events`. */
export interface CommitteeNodeEvents {
  /**
   * An inbound exchange finished: 'ok', 'cancelled' (the client stopped reading once it had what it needed), or the
   * code it was refused or failed with.
   */
  served: [{ protocol: string; ms: number; outcome: string }]
  /** Shards of a blob are durable and this node signed (`fresh` false: a repeat of an earlier store). */
  attested: [{ blobId: string; shards: number; bytes: number; fresh: boolean }]
  /** A verified certificate for a blob this node holds was kept. */
  certificate: [{ blobId: string }]
  /** Something went wrong that did not stop the node. */
  problem: [{ message: string; code?: string }]
}

export interface CommitteeNodeStatus {
  peerId: string
  addresses: string[]
  peers: number
  running: boolean
  storage: StoreStats
  /** Inbound exchanges answered in full since start, by protocol id. Refusals and cancellations are not in it. */
  served: Record<string, number>
  /** Inbound exchanges refused or failed since start (any protocol), by error code. */
  refused: Record<string, number>
  /** Samples and retrievals the client stopped reading mid-answer (it had what it needed), by protocol id. */
  cancelled: Record<string, number>
  recentErrors: { time: string; message: string; code?: string }[]
  /** DHT provider records waiting for a quiet moment or being published (PROTOCOL.md §3.7). */
  providerRecordsPending: number
}

/**
 * A committee member: serves store, sample and retrieve, signs attestations once shards are durable,
 * verifies and relays certificates, announces provider records, and prunes through its store.
 *
 * Start order: libp2p, protocol handlers, certificate gossip, bootstrap dials. Stop order is the reverse,
 * and lets the stores under way finish before the database closes.
 */
export class CommitteeNode {
  readonly libp2p: DacnetLibp2p
  /** The node's own handle on its store. Readers outside the node go through `reads`. */
  readonly store: ShardStore
  /**
   * Every read of stored shards for others (sample, retrieve, the HTTP API) goes through here: node-wide read
   * slots, and for requesters outside libp2p a per-requester rate, `sampleRatePerSecond` as for a peer's samples.
   */
  readonly reads: ShardReads
  readonly storage: NodeStorage
  readonly committees: CommitteeSource
  readonly events = new EventEmitter<CommitteeNodeEvents>()
  readonly #logger: Logger
  readonly #opts: CommitteeNodeOptions
  readonly #member: MemberService
  readonly #announcer: ProviderAnnouncer
  readonly #served: Record<string, number> = {}
  readonly #refused = new Map<string, number>()
  readonly #refusalLines = new Map<string, { at: number; left: number }>()
  readonly #cancelled: Record<string, number> = {}
  readonly #memberLogger: Logger
  readonly #errors: CommitteeNodeStatus['recentErrors'] = []
  #unregister: StopServing | null = null
  #leaveGossip: (() => void) | null = null
  #running = false

  constructor(init: CommitteeNodeInit, opts: CommitteeNodeOptions = {}) {
    this.libp2p = init.libp2p
    this.store = init.store
    this.committees = init.committees
    this.#logger = init.logger ?? silentLogger
    this.#memberLogger = this.#logger.child({ component: 'member' })
    this.#opts = opts
    const store = init.store
    this.storage = {
      stats: () => store.stats(),
      get dir() {
        return store.dir
      },
    }
    this.reads = new ShardReads(store, {
      maxConcurrentShardReads: opts.maxConcurrentShardReads,
      shardReadWaitMs: opts.shardReadWaitMs,
      servingBytesPerSecond: opts.servingBytesPerSecond,
      // HTTP clients get the budget a peer has for sample requests.
      requestsPerSecond: opts.sampleRatePerSecond,
      logger: this.#memberLogger,
    })
    this.#announcer = new ProviderAnnouncer(this.libp2p, {
      enabled: opts.announceProviders ?? true,
      logger: this.#logger,
      quietMs: opts.provideQuietMs,
      maxDelayMs: opts.provideMaxDelayMs,
    })
    this.#member = new MemberService({
      store: init.store,
      committees: init.committees,
      secretKey: init.secretKey,
      publicKey: publicKeyOf(init.secretKey),
      reads: this.reads,
      maxBlobSize: opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE,
      previousEpochGraceMs: opts.previousEpochGraceMs,
      ...(opts.maxIntakeBytes !== undefined ? { maxIntakeBytes: opts.maxIntakeBytes } : {}),
      selfPeerId: init.libp2p.peerId,
      logger: this.#memberLogger,
      ...(opts.providersPerBlob !== undefined ? { providersPerBlob: opts.providersPerBlob } : {}),
      onStoreAdmitted: () => this.#announcer.storeActivity(),
      onStored: (blobId, _header, { announce, ...stored }) => {
        this.#announcer.storeActivity()
        if (announce) this.#announcer.announce(blobId)
        this.events.emit('attested', { blobId: blobId.toString(), ...stored })
      },
    })
  }

  get peerId(): string {
    return this.libp2p.peerId.toString()
  }

  get running(): boolean {
    return this.#running
  }

  async start(): Promise<void> {
    if (this.#running) return
    await this.libp2p.start()
    this.#unregister = await registerProtocols(
      this.libp2p,
      { store: this.#member, sample: this.#member, retrieve: this.#member },
      {
        ...this.#opts,
        onServed: (protocol, ms, outcome, exchange) => {
          this.#count(protocol, outcome, exchange)
          this.events.emit('served', { protocol, ms, outcome })
          this.#opts.onServed?.(protocol, ms, outcome, exchange)
        },
      },
    )
    const judge = new CertificateJudge(this.committees)
    this.#leaveGossip = joinCertificateGossip(this.libp2p, {
      validate: (bytes) => judge.judge(bytes),
      onCertificate: (bytes) => void this.#keepCertificate(bytes),
    })
    this.#running = true
    this.#logger.info('committee node started', { peerId: this.peerId, addresses: this.addresses() })
    const bootstrap = this.#opts.bootstrap ?? []
    if (bootstrap.length > 0) {
      // Peers that are not up yet are normal at start-up (they dial us when they come): only reaching none
      // of them is a problem worth reporting.
      void dialBootstrap(this.libp2p, bootstrap, {
        timeoutMs: this.#opts.bootstrapTimeoutMs ?? DEFAULT_BOOTSTRAP_TIMEOUT_MS,
        onError: (address, err) => this.#logger.debug('bootstrap peer not reached', { address, error: err }),
      }).then((connected) => {
        if (connected === 0 && this.#running) this.#recordError(`none of ${bootstrap.length} bootstrap peers answered`)
      })
    }
  }

  /**
   * Stops taking streams, finishes the store exchanges under way (up to `storeDrainMs`: their shards are
   * received, stored and signed, and the answer goes out), then stops libp2p and closes the database.
   */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    await this.#unregister?.(this.#opts.storeDrainMs === undefined ? {} : { drainMs: this.#opts.storeDrainMs })
    await this.#member.drain()
    this.#leaveGossip?.()
    await this.#announcer.stop()
    await this.libp2p.stop()
    await this.store.close()
    this.#logger.info('committee node stopped', { peerId: this.peerId })
  }

  /**
   * This node as the LocalMember of a Disperser running in the same process (a member that is also a
   * registered sequencer): its own share is admitted and stored exactly as a remote store would be.
   */
  asLocalMember(): LocalMember {
    const self = this.libp2p.peerId
    return {
      peerId: self.toString(),
      storeOwnShare: async (headerBytes, shards) => {
        const header = decodeHeader(headerBytes)
        return intakeAll(await this.#member.admit(self, header, headerBytes, shards.length), shards)
      },
      keepCertificate: (bytes) => this.#keepCertificate(bytes),
    }
  }

  addresses(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString())
  }

  status(): CommitteeNodeStatus {
    return {
      peerId: this.peerId,
      addresses: this.addresses(),
      peers: this.libp2p.getPeers().length,
      running: this.#running,
      storage: this.storage.stats(),
      served: { ...this.#served },
      refused: Object.fromEntries(this.#refused),
      cancelled: { ...this.#cancelled },
      recentErrors: [...this.#errors],
      providerRecordsPending: this.#announcer.pending,
    }
  }

  /** Served in full, cancelled by the client, or refused with a code; one log line per refused store. */
  #count(protocol: string, outcome: string, exchange: ServedExchange): void {
    if (outcome === 'ok') this.#served[protocol] = (this.#served[protocol] ?? 0) + 1
    else if (outcome === CANCELLED) this.#cancelled[protocol] = (this.#cancelled[protocol] ?? 0) + 1
    else {
      this.#refused.set(outcome, (this.#refused.get(outcome) ?? 0) + 1)
      if (protocol === STORE_PROTOCOL) this.#logRefusedStore(outcome, exchange)
    }
  }

  /**
   * One info line per refused store (a warning for P2P_SERVICE_FAILED, a fault of this node), but at most one per peer and code a minute: a peer that opens store streams
   * in a loop (a refusal costs it next to nothing) cannot flood the log. The counters above count every one; the
   * next line says how many were left out.
   */
  #logRefusedStore(code: string, exchange: ServedExchange): void {
    const key = `${exchange.peer}\u0000${code}`
    const now = performance.now()
    const last = this.#refusalLines.get(key)
    if (last !== undefined && now - last.at < REFUSAL_LINE_INTERVAL_MS) {
      last.left++
      return
    }
    // Bounded memory: many identities at once only cost the rule its memory, never the node its.
    if (last === undefined && this.#refusalLines.size >= MAX_REFUSAL_LINE_KEYS) this.#refusalLines.clear()
    this.#refusalLines.set(key, { at: now, left: 0 })
    // A store failed by this node's own fault is its operator's business, not the peer's.
    const log = code === P2pErrorCode.SERVICE_FAILED ? this.#memberLogger.warn : this.#memberLogger.info
    log.call(this.#memberLogger, 'store refused', {
      code,
      peer: exchange.peer,
      ...(exchange.blobId === undefined ? {} : { blobId: exchange.blobId }),
      ...(exchange.reason === undefined ? {} : { reason: exchange.reason }),
      ...(last?.left ? { refusedSinceLastLine: last.left } : {}),
    })
  }

  /** A verified certificate for a blob this node holds is kept next to its shards. */
  async #keepCertificate(bytes: Uint8Array): Promise<void> {
    try {
      const blobId: BlobId = certificateBlobId(decodeCertificate(bytes))
      if (await this.store.hasBlob(blobId)) {
        await this.store.putCertificate(blobId, bytes)
        this.events.emit('certificate', { blobId: blobId.toString() })
      }
    } catch (err) {
      this.#recordError(`keeping a certificate: ${(err as Error).message}`, err)
    }
  }

  #recordError(message: string, err?: unknown): void {
    const code = (err as { code?: string } | undefined)?.code
    this.#errors.push({ time: new Date().toISOString(), message, ...(code ? { code } : {}) })
    if (this.#errors.length > MAX_RECENT_ERRORS) this.#errors.shift()
    this.#logger.warn(message)
    this.events.emit('problem', { message, ...(code ? { code } : {}) })
  }
}
