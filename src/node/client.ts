import { readFile } from 'node:fs/promises'
import type { PrivateKey } from '@libp2p/interface'
import { blsKeyVerifier } from '../attest/pop.ts'
import { ChainCommitteeSource } from '../chain/committee-source.ts'
import type { ChainCommitteeSourceOptions } from '../chain/committee-source-options.ts'
import { CommitteeErrorCode } from '../committee/errors.ts'
import { FileCommitteeSource } from '../committee/file-source.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { ErasurePool } from '../erasure/pool.ts'
import { isDacnetError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { generatePeerKey, loadOrCreatePeerKey } from '../p2p/identity.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../p2p/node.ts'
import { CERTIFICATE_TOPIC } from '../p2p/protocols.ts'
import { settleWithin } from '../timing.ts'
import type { DisperserOptions } from './dispersal-options.ts'
import { Disperser } from './disperser.ts'
import { currentCommittee } from './epochs.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { LightClient } from './light-client.ts'
import { dialBootstrap } from './peers.ts'
import { Retriever } from './retriever.ts'

/** Time for the start-up dials to the committee; members that do not answer are dialled again on demand. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
/** How long a client waits at start to learn which of the peers it reached take certificate gossip. */
export const DEFAULT_GOSSIP_WAIT_MS = 3_000
/** A chain.json is a few hundred bytes; anything near this is not one. */
const MAX_CHAIN_FILE_BYTES = 64 * 1024

/**
 * The chain a client reads committees from: the registry's address and a JSON-RPC endpoint, with the chain
 * source's tuning (confirmations, poll interval...; their defaults are ChainCommitteeSource's). A parsed
 * chain.json fits as it is.
 */
export type ClientChain = Omit<ChainCommitteeSourceOptions, 'verifier' | 'logger'>

export interface ClientOptions {
  /**
   * Where committees come from: exactly one of `committee`, `chain` and `committees`. `committee` is the path of a
   * committee file, read and validated (every key's proof of possession) on first use.
   */
  committee?: string
  /**
   * The registry on the chain, as the path of a chain.json (`dacnet chain deploy` and the devnet write one) or
   * as its `rpcUrl` and `registry`. The client starts the chain source, reads the committee in force once (an RPC
   * that does not answer fails here, CHAIN_UNAVAILABLE), follows new blocks while it runs and stops the source.
   */
  chain?: string | ClientChain
  /** A committee source of the caller's: used, never stopped (whoever creates it stops it). */
  committees?: CommitteeSource
  /**
   * The client's libp2p identity: a peer key, or the path of a key file (created, mode 0600, if it does not
   * exist). Dispersal needs the peer id of a registered sequencer; sampling and retrieval work with any.
   * Default: a fresh Ed25519 key, in memory only.
   */
  key?: PrivateKey | string
  /** Extra peers dialled at start besides the current committee's listed addresses. Default none. */
  bootstrap?: readonly string[]
  /** Listen addresses. Default none: a client only dials. */
  listen?: string[]
  /** Loopback addresses count as distinct hosts: for devnets and tests only. Default false. */
  localNetwork?: boolean
  /**
   * Certificate gossip. Off, the client connects faster to each holder (no gossipsub stream and subscription
   * exchange per connection): for a client that samples and retrieves. Without it the disperser's certificates are
   * not published on the gossip topic (`disperser.publish`). Default true.
   */
  gossip?: boolean
  /**
   * The DHT, in client mode: the retriever asks it for a blob's providers before it turns to the committee. Off, the
   * client runs none, and with gossip off too it does not identify the peers it dials (node.ts,
   * `identifiesOnConnect`): for a client that only samples, whose holders are in the committee. A retriever without
   * it asks the committee's members alone. Default true.
   */
  dht?: boolean
  /** Time for the start-up dials. Default DEFAULT_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number
  /**
   * How long start-up waits until every peer it reached is known to take certificate gossip, so that the first
   * certificate the disperser publishes reaches them. 0 skips the wait. Default DEFAULT_GOSSIP_WAIT_MS.
   */
  gossipWaitMs?: number
  /**
   * The erasure worker pool the disperser and the retriever share: the caller's (never closed by the client), or
   * by default one of `poolSize` workers (default DEFAULT_POOL_SIZE) that the client closes.
   */
  pool?: ErasurePool
  poolSize?: number
  /**
   * Start the pool's workers while the client connects (`ErasurePool.warm`): for a client that encodes or decodes
   * right after it starts (`dacnet disperse`, `dacnet retrieve`), whose first blob would otherwise wait ~0.35 s for
   * them. A pool of the caller's (`pool`) is left as it is. Default false: a client that only samples never uses them.
   */
  warmPool?: boolean
  /** The disperser's options (member timeout, retries, publishing...), with their defaults. */
  disperser?: DisperserOptions
  /** The largest blob retrieved from a bare blob id. Default DEFAULT_MAX_BLOB_SIZE. */
  maxBlobSize?: number
  /** The light client's memory of silent holders. Default DEFAULT_SILENT_MEMORY_MS. */
  silentMemoryMs?: number
  /**
   * The longest `stop()` waits for libp2p to close its connections; past it `stop()` releases the rest and
   * returns (for a process that exits next). Default: wait until libp2p has stopped.
   */
  stopTimeoutMs?: number
  logger?: Logger
}

/**
 * A started dacnet client: a libp2p node connected to the committee and the three client roles on it, with one
 * erasure pool. `stop()` (or `await using`) releases everything the client created: libp2p, the pool, the
 * committee source, in that order; what the caller passed in stays the caller's to stop.
 */
export class DacnetClient implements AsyncDisposable {
  readonly libp2p: DacnetLibp2p
  readonly committees: CommitteeSource
  /** Sends a blob's shards to the committee and returns its certificate (the key must be a sequencer's). */
  readonly disperser: Disperser
  /** Samples a certified blob: its availability confidence. */
  readonly lightClient: LightClient
  /** Gets a blob back from any k shards, or the BadEncoding verdict. */
  readonly retriever: Retriever
  /** Peers the start-up dials reached. */
  readonly connected: number
  readonly #release: () => Promise<void>
  #stopped: Promise<void> | undefined

  private constructor(init: {
    libp2p: DacnetLibp2p
    committees: CommitteeSource
    disperser: Disperser
    lightClient: LightClient
    retriever: Retriever
    connected: number
    release: () => Promise<void>
  }) {
    this.libp2p = init.libp2p
    this.committees = init.committees
    this.disperser = init.disperser
    this.lightClient = init.lightClient
    this.retriever = init.retriever
    this.connected = init.connected
    this.#release = init.release
  }

  /** See `createClient`. */
  static async start(opts: ClientOptions): Promise<DacnetClient> {
    checkOptions(opts)
    const owned = new Resources()
    try {
      const committees = await openCommittees(opts, owned)
      const privateKey =
        typeof opts.key === 'string' ? await loadOrCreatePeerKey(opts.key) : (opts.key ?? (await generatePeerKey()))
      // Created stopped: the roles check their options before anything touches the network.
      const libp2p = await createDacnetLibp2p({
        privateKey,
        dhtMode: opts.dht === false ? 'off' : 'client',
        listen: opts.listen ?? [],
        localNetwork: opts.localNetwork ?? false,
        gossip: opts.gossip ?? true,
      })
      let pool = opts.pool
      if (!pool) {
        const own = new ErasurePool(opts.poolSize === undefined ? {} : { size: opts.poolSize })
        if (opts.warmPool === true) own.warm()
        owned.add(() => own.close())
        pool = own
      }
      const logger = opts.logger ? { logger: opts.logger } : {}
      const disperser = new Disperser({ libp2p, committees, pool, ...logger }, opts.disperser)
      const retriever = new Retriever({
        libp2p,
        committees,
        pool,
        ...logger,
        ...(opts.maxBlobSize === undefined ? {} : { maxBlobSize: opts.maxBlobSize }),
      })
      const lightClient = new LightClient({
        libp2p,
        committees,
        ...logger,
        ...(opts.silentMemoryMs === undefined ? {} : { silentMemoryMs: opts.silentMemoryMs }),
      })
      owned.add(async () => {
        await disperser.close()
        await retriever.close()
      })
      // Released first: in-flight exchanges end with the connections, before the pool and the source go.
      owned.add(async () => {
        if (opts.stopTimeoutMs === undefined) await libp2p.stop()
        else
          await settleWithin(
            Promise.resolve().then(() => libp2p.stop()),
            opts.stopTimeoutMs,
          )
      })
      // Released before libp2p stops: a check or a retrieval under way ends with NODE_SHUTTING_DOWN, not with a
      // verdict of "unavailable" drawn from holders it could no longer reach.
      owned.add(async () => {
        lightClient.close()
        retriever.stopCalls()
      })
      await libp2p.start()
      const addresses = [...new Set([...(await memberAddresses(committees)), ...(opts.bootstrap ?? [])])]
      const connected = await dialBootstrap(libp2p, addresses, {
        timeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        onError: (address, err) => opts.logger?.debug('start-up dial failed', { address, error: err }),
      })
      const gossipWaitMs = opts.gossipWaitMs ?? DEFAULT_GOSSIP_WAIT_MS
      if (connected > 0 && gossipWaitMs > 0) await waitForGossipPeers(libp2p, connected, gossipWaitMs)
      return new DacnetClient({
        libp2p,
        committees,
        disperser,
        lightClient,
        retriever,
        connected,
        release: () => owned.release(),
      })
    } catch (err) {
      await owned.release().catch(() => {})
      throw err
    }
  }

  /** Stops libp2p, closes the roles and the pool, stops the committee source: each once, all of them. */
  stop(): Promise<void> {
    this.#stopped ??= this.#release()
    return this.#stopped
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }
}

/**
 * Sets up a dacnet client in one call: the committees (from a file, the chain, or a source of the caller's), a
 * libp2p node in DHT client mode dialled to the committee in force, and a Disperser, a LightClient and a Retriever
 * on it. Whoever creates a thing stops it: `stop()` releases what this call created, nothing the caller passed in.
 *
 * ```ts
 * const client = await createClient({ chain: 'chain.json', key: 'sequencer.key' })
 * const { certificate } = await client.disperser.disperse(blob)
 * const { available } = await client.lightClient.sample(certificate)
 * const back = await client.retriever.retrieve(certificate)
 * await client.stop()
 * ```
 */
export function createClient(opts: ClientOptions): Promise<DacnetClient> {
  return DacnetClient.start(opts)
}

/**
 * Waits until at least `min` connected peers are known to subscribe to the certificate topic (or the time
 * is up). Subscriptions are exchanged just after a connection opens; a certificate published before that
 * reaches nobody, so a client that has just connected waits here before publishing. A client without gossip has none.
 */
export async function waitForGossipPeers(
  libp2p: DacnetLibp2p,
  min: number,
  timeoutMs = DEFAULT_GOSSIP_WAIT_MS,
): Promise<number> {
  const pubsub = libp2p.services.pubsub
  if (pubsub === undefined) return 0
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const count = pubsub.getSubscribers(CERTIFICATE_TOPIC).length
    if (count >= min || performance.now() >= deadline) return count
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * The addresses a client dials at start: the listed ones of the committee in force, or none while a chain has no
 * committee in force yet (peers are then found through the bootstrap addresses and the DHT).
 */
export async function memberAddresses(committees: CommitteeSource): Promise<string[]> {
  try {
    return [...new Set((await currentCommittee(committees)).members.flatMap((m) => m.multiaddrs))]
  } catch (err) {
    if (isDacnetError(err) && err.code === CommitteeErrorCode.UNKNOWN_EPOCH) return []
    throw err
  }
}

function checkOptions(opts: ClientOptions): void {
  const given = (['committee', 'chain', 'committees'] as const).filter((name) => opts[name] !== undefined)
  if (given.length !== 1) {
    throw nodeError(
      NodeErrorCode.INVALID_OPTIONS,
      given.length === 0
        ? 'a client needs its committees: pass committee (a committee file), chain or committees'
        : `committee, chain and committees exclude each other, got ${given.join(' and ')}`,
    )
  }
  for (const name of ['gossip', 'dht', 'localNetwork', 'warmPool'] as const) {
    const value: unknown = opts[name]
    if (value !== undefined && typeof value !== 'boolean') {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `${name} must be true or false, got ${String(value)}`)
    }
  }
  for (const name of ['connectTimeoutMs', 'gossipWaitMs', 'stopTimeoutMs'] as const) {
    const value = opts[name]
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `${name} must be a number of milliseconds >= 0, got ${value}`)
    }
  }
}

async function openCommittees(opts: ClientOptions, owned: Resources): Promise<CommitteeSource> {
  if (opts.committees) return opts.committees
  if (opts.committee !== undefined) {
    const source = new FileCommitteeSource(opts.committee, { verifier: blsKeyVerifier })
    // Read and checked before anything touches the network.
    await source.registry()
    return source
  }
  const chain = typeof opts.chain === 'string' ? await readChainTarget(opts.chain) : opts.chain!
  const source = new ChainCommitteeSource({
    ...chain,
    verifier: blsKeyVerifier,
    ...(opts.logger ? { logger: opts.logger } : {}),
  })
  owned.add(() => source.stop())
  await source.start()
  await source.currentEpoch()
  return source
}

/** The `rpcUrl` and `registry` of a chain.json; the chain source checks both. */
async function readChainTarget(path: string): Promise<ClientChain> {
  let json: unknown
  try {
    const bytes = await readFile(path)
    if (bytes.length > MAX_CHAIN_FILE_BYTES) throw new Error(`${bytes.length} bytes is too large for a chain file`)
    json = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw nodeError(NodeErrorCode.INVALID_OPTIONS, `chain file ${path}: ${(err as Error).message}`, { path })
  }
  const { rpcUrl, registry } = (json ?? {}) as Record<string, unknown>
  if (typeof rpcUrl !== 'string' || typeof registry !== 'string') {
    throw nodeError(NodeErrorCode.INVALID_OPTIONS, `chain file ${path} has no rpcUrl and registry strings`, { path })
  }
  return { rpcUrl, registry: registry as `0x${string}` }
}

/** What a client created, released in reverse order of adding; every release runs even if one fails. */
class Resources {
  readonly #releases: (() => Promise<void>)[] = []

  add(release: () => Promise<void>): void {
    this.#releases.push(release)
  }

  async release(): Promise<void> {
    const errors: unknown[] = []
    for (const release of this.#releases.splice(0).reverse()) {
      try {
        await release()
      } catch (err) {
        errors.push(err)
      }
    }
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, 'stopping the client failed in several places')
  }
}
