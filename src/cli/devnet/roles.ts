import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PublicClient } from 'viem'
import { blsKeyVerifier } from '../../attest/pop.ts'
import { ChainCommitteeSource } from '../../chain/committee-source.ts'
import type { Committee } from '../../committee/committee.ts'
import { FileCommitteeSource } from '../../committee/file-source.ts'
import type { CommitteeSource } from '../../committee/source.ts'
import { ErasurePool } from '../../erasure/pool.ts'
import { Disperser } from '../../node/disperser.ts'
import { currentCommittee } from '../../node/epochs.ts'
import { LightClient } from '../../node/light-client.ts'
import { dialBootstrap } from '../../node/peers.ts'
import { Retriever } from '../../node/retriever.ts'
import { loadOrCreatePeerKey } from '../../p2p/identity.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../p2p/node.ts'
import { waitForGossipPeers } from '../client/connect.ts'
import { DEVNET_CONFIRMATIONS, DEVNET_POLL_SECONDS, type DevnetChain } from './chain.ts'
import type { DevnetLayout } from './layout.ts'

/** Start-up dials from the sequencer to the members. */
const CONNECT_TIMEOUT_MS = 5_000
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
 * and a light client that also retrieves, each on its own libp2p node, sharing one erasure worker pool. With a
 * chain, they read committees from it as the nodes do.
 */
export class DevnetRoles {
  readonly committees: CommitteeSource
  readonly chain: RolesChain | undefined
  readonly disperser: Disperser
  readonly lightClient: LightClient
  readonly retriever: Retriever
  readonly #nodes: DacnetLibp2p[]
  readonly #pool: ErasurePool

  private constructor(init: {
    committees: CommitteeSource
    chain: RolesChain | undefined
    disperser: Disperser
    lightClient: LightClient
    retriever: Retriever
    nodes: DacnetLibp2p[]
    pool: ErasurePool
  }) {
    this.committees = init.committees
    this.chain = init.chain
    this.disperser = init.disperser
    this.lightClient = init.lightClient
    this.retriever = init.retriever
    this.#nodes = init.nodes
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
    const committee: Committee = await currentCommittee(committees)
    const sequencer = await createDacnetLibp2p({
      privateKey: await loadOrCreatePeerKey(layout.sequencerKeyPath),
      dhtMode: 'client',
      listen: [],
      localNetwork: true,
    })
    const light = await createDacnetLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      dhtMode: 'client',
      listen: [],
      localNetwork: true,
    })
    await Promise.all([sequencer.start(), light.start()])
    // Connected and subscribed before the first blob, so that its certificate reaches every node by gossip.
    const addresses = committee.members.flatMap((m) => m.multiaddrs)
    await dialBootstrap(sequencer, addresses, { timeoutMs: CONNECT_TIMEOUT_MS })
    await waitForGossipPeers(sequencer, committee.size)
    const pool = new ErasurePool({ size: 1 })
    return new DevnetRoles({
      committees,
      chain: rolesChain,
      disperser: new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: MEMBER_TIMEOUT_MS }),
      lightClient: new LightClient({ libp2p: light, committees }),
      retriever: new Retriever({ libp2p: light, committees, pool }),
      nodes: [sequencer, light],
      pool,
    })
  }

  async stop(): Promise<void> {
    await Promise.all(this.#nodes.map(async (n) => await n.stop()))
    await this.#pool.close()
    await this.chain?.source.stop()
  }
}
