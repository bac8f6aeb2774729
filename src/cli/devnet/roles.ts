import { generateKeyPair } from '@libp2p/crypto/keys'
import { blsKeyVerifier } from '../../attest/pop.ts'
import type { Committee } from '../../committee/committee.ts'
import { FileCommitteeSource } from '../../committee/file-source.ts'
import { ErasurePool } from '../../erasure/pool.ts'
import { Disperser } from '../../node/disperser.ts'
import { LightClient } from '../../node/light-client.ts'
import { dialBootstrap } from '../../node/peers.ts'
import { Retriever } from '../../node/retriever.ts'
import { loadOrCreatePeerKey } from '../../p2p/identity.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../p2p/node.ts'
import { waitForGossipPeers } from '../client/connect.ts'
import type { DevnetLayout } from './layout.ts'

/** Start-up dials from the sequencer to the members. */
const CONNECT_TIMEOUT_MS = 5_000
/** One member's store may take this long before the disperser gives up on it (and retries once). */
const MEMBER_TIMEOUT_MS = 30_000

/**
 * The roles the devnet runs in its own process: a sequencer (Disperser, with the devnet's registered key)
 * and a light client that also retrieves, each on its own libp2p node, sharing one erasure worker pool.
 */
export class DevnetRoles {
  readonly committee: Committee
  readonly disperser: Disperser
  readonly lightClient: LightClient
  readonly retriever: Retriever
  readonly #nodes: DacnetLibp2p[]
  readonly #pool: ErasurePool

  private constructor(init: {
    committee: Committee
    disperser: Disperser
    lightClient: LightClient
    retriever: Retriever
    nodes: DacnetLibp2p[]
    pool: ErasurePool
  }) {
    this.committee = init.committee
    this.disperser = init.disperser
    this.lightClient = init.lightClient
    this.retriever = init.retriever
    this.#nodes = init.nodes
    this.#pool = init.pool
  }

  static async start(layout: DevnetLayout): Promise<DevnetRoles> {
    const committees = new FileCommitteeSource(layout.committeePath, { verifier: blsKeyVerifier })
    const committee = await committees.getCommittee(0)
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
      committee,
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
  }
}
