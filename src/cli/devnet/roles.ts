import type { PublicClient } from 'viem'
import { blsKeyVerifier } from '../../attest/pop.ts'
import { ChainCommitteeSource } from '../../chain/committee-source.ts'
import { FileCommitteeSource } from '../../committee/file-source.ts'
import type { CommitteeSource } from '../../committee/source.ts'
import { ErasurePool } from '../../erasure/pool.ts'
import { createClient, type DacnetClient } from '../../node/client.ts'
import type { Disperser } from '../../node/disperser.ts'
import type { LightClient } from '../../node/light-client.ts'
import type { Retriever } from '../../node/retriever.ts'
import { DEVNET_CONFIRMATIONS, DEVNET_POLL_SECONDS, type DevnetChain } from './chain.ts'
import type { DevnetLayout } from './layout.ts'

/** One member's store may take this long before the disperser gives up on it (and retries once). */
const MEMBER_TIMEOUT_MS = 30_000

/** The chain as the devnet's roles see it: committees, and the verifier contract each certificate goes to. */
export interface RolesChain {
  readonly source: ChainCommitteeSource
  readonly publicClient: PublicClient
  readonly chain: DevnetChain
}

/**
 * The roles the devnet runs in its own process: a sequencer (Disperser, with the devnet's registered key)
 * and a light client that also retrieves, each a dacnet client (`createClient`) on its own libp2p node, sharing
 * one erasure worker pool and the committees, which the devnet creates and therefore stops. With a chain, they
 * read committees from it as the nodes do.
 */
export class DevnetRoles {
  readonly committees: CommitteeSource
  readonly chain: RolesChain | undefined
  readonly disperser: Disperser
  readonly lightClient: LightClient
  readonly retriever: Retriever
  readonly #clients: DacnetClient[]
  readonly #pool: ErasurePool

  private constructor(init: {
    committees: CommitteeSource
    chain: RolesChain | undefined
    disperser: Disperser
    lightClient: LightClient
    retriever: Retriever
    clients: DacnetClient[]
    pool: ErasurePool
  }) {
    this.committees = init.committees
    this.chain = init.chain
    this.disperser = init.disperser
    this.lightClient = init.lightClient
    this.retriever = init.retriever
    this.#clients = init.clients
    this.#pool = init.pool
  }

  static async start(layout: DevnetLayout, chain?: DevnetChain): Promise<DevnetRoles> {
    let committees: CommitteeSource
    let rolesChain: RolesChain | undefined
    if (chain) {
      const source = new ChainCommitteeSource({
        rpcUrl: chain.file.rpcUrl,
        registry: chain.file.registry,
        verifier: blsKeyVerifier,
        confirmations: DEVNET_CONFIRMATIONS,
        pollIntervalMs: DEVNET_POLL_SECONDS * 1000,
      })
      await source.start()
      committees = source
      rolesChain = { source, publicClient: chain.publicClient, chain }
    } else {
      committees = new FileCommitteeSource(layout.committeePath!, { verifier: blsKeyVerifier })
    }
    const pool = new ErasurePool()
    const clients: DacnetClient[] = []
    try {
      const shared = { committees, pool, localNetwork: true }
      // Connected and subscribed before the first blob, so that its certificate reaches every node by gossip.
      const sequencer = await createClient({
        ...shared,
        key: layout.sequencerKeyPath,
        disperser: { memberTimeoutMs: MEMBER_TIMEOUT_MS },
      })
      clients.push(sequencer)
      // A light client and retriever, as `dacnet sample` and `dacnet retrieve` given a certificate run when every
      // member is listed with addresses (the devnet lists them all): no certificate gossip, no DHT.
      const light = await createClient({ ...shared, gossip: false, dht: false })
      clients.push(light)
      return new DevnetRoles({
        committees,
        chain: rolesChain,
        disperser: sequencer.disperser,
        lightClient: light.lightClient,
        retriever: light.retriever,
        clients,
        pool,
      })
    } catch (err) {
      await releaseAll(clients, pool, rolesChain)
      throw err
    }
  }

  async stop(): Promise<void> {
    await releaseAll(this.#clients, this.#pool, this.chain)
  }
}

/** The clients first (their libp2p nodes), then what they shared: the pool and the committee source. */
async function releaseAll(clients: DacnetClient[], pool: ErasurePool, chain: RolesChain | undefined): Promise<void> {
  await Promise.all(clients.map((c) => c.stop()))
  await pool.close()
  await chain?.source.stop()
}
