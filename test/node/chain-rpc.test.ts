/**
 * Committee nodes that follow the chain (real anvil, real registry, real libp2p and LevelDB), one of them through an
 * RPC that goes away: it keeps serving what it holds and taking stores for the epoch it knows, says it is stale,
 * and catches up with the next epoch when its RPC is back.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificateSigners } from '../../src/attest/certificate.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { ChainCommitteeSource } from '../../src/chain/committee-source.ts'
import { addSequencer, registerMember } from '../../src/chain/registry-client.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { LightClient } from '../../src/node/light-client.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import {
  account,
  type Chain,
  type Deployed,
  deploy,
  fundAll,
  mineToEpoch,
  startChain,
  TOKEN,
} from '../chain/helpers.ts'
import { type Relay, startRelay } from '../chain/relay.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import { ErasurePool, memberIdentity, type RunningMember, removeDirs, startClient, startMember } from './harness.ts'

const EPOCH_BLOCKS = 30n
let chain: Chain
let d: Deployed
let proxy: Relay
const members: RunningMember[] = []
const sources: ChainCommitteeSource[] = []
let sequencer: DacnetLibp2p
let client: DacnetLibp2p
let pool: ErasurePool

function chainSource(rpcUrl: string): ChainCommitteeSource {
  const source = new ChainCommitteeSource({
    rpcUrl,
    registry: d.deployment.registry,
    verifier: blsKeyVerifier,
    confirmations: 0,
    pollIntervalMs: 100,
    rpcTimeoutMs: 1_000,
  })
  sources.push(source)
  return source
}

async function refreshAll(): Promise<void> {
  await Promise.all(sources.filter((s) => s !== sources[0]).map((s) => s.refresh()))
}

beforeAll(async () => {
  chain = await startChain()
  d = await deploy(chain, { epochBlocks: EPOCH_BLOCKS, networkId: 31 })
  proxy = await startRelay(chain.anvil.rpcUrl)
  // Member 0 reads the chain through the relay; the others, and the sequencer, directly.
  const stakes = [40n, 30n, 20n, 10n]
  const operators = stakes.map((_, i) => account(`rpc-member-${i}`))
  await fundAll(
    chain,
    d,
    operators.map((operator, i) => ({ operator, stake: stakes[i]! * TOKEN })),
  )
  for (const [i, stake] of stakes.entries()) {
    const source = chainSource(i === 0 ? proxy.url : chain.anvil.rpcUrl)
    await source.start()
    members.push(await startMember(await memberIdentity(stake * TOKEN), source))
  }
  for (const [i, m] of members.entries()) {
    await registerMember(
      {
        publicClient: chain.publicClient,
        walletClient: chain.walletClient,
        account: operators[i]!,
        registry: d.deployment.registry,
      },
      {
        secretKey: m.identity.secretKey,
        peerId: m.identity.peerId,
        multiaddrs: m.node.addresses(),
        stake: m.identity.stake,
      },
    )
  }
  sequencer = await startClient('server')
  client = await startClient()
  await addSequencer(
    {
      publicClient: chain.publicClient,
      walletClient: chain.walletClient,
      account: chain.deployer,
      registry: d.deployment.registry,
    },
    sequencer.peerId.toString(),
  )
  await mineToEpoch(chain, d, 1n)
  await refreshAll()
  await sources[0]!.refresh()
  pool = new ErasurePool({ size: 1 })
}, 120_000)

afterAll(async () => {
  for (const m of members) await m.node.stop().catch(() => {})
  for (const s of sources) await s.stop()
  await sequencer?.stop()
  await client?.stop()
  await pool?.close()
  await proxy?.close()
  await chain?.anvil.stop()
  await removeDirs(members.map((m) => m.dir))
})

describe('a committee node whose chain RPC goes away', () => {
  it('keeps serving and storing for the epoch it knows, reports stale, and catches up when the RPC is back', async () => {
    // The chain sources above are not the disperser's: give the sequencer its own, reading directly.
    const sequencerSource = chainSource(chain.anvil.rpcUrl)
    await sequencerSource.start()
    const dispersal = new Disperser({ libp2p: sequencer, committees: sequencerSource, pool })
    const light = new LightClient({ libp2p: client, committees: sequencerSource })
    try {
      const first = await dispersal.disperse(randomData(200_000, prng(71)))
      expect(first.certificate.epoch).toBe(1)

      proxy.down = true
      const cut = sources[0]!
      await until(() => cut.status().state === 'stale')
      expect(cut.status().lastError).toBe('CHAIN_UNAVAILABLE')
      expect(members[0]!.node.running).toBe(true)

      // It still serves its shards of the blob stored before...
      const committee = await sequencerSource.getCommittee(1)
      const held = assignShards(committee, first.blob.blobId.bytes, first.blob.header.n).shardsOf(0).slice(0, 4)
      const at = members[0]!.node.addresses().map((a) => multiaddr(a))
      const answers = await requestSamples(client, at, first.blob.blobId, held, {
        shardSize: first.certificate.header.shardSize,
      })
      expect([...answers.values()].every((a) => a !== null)).toBe(true)
      expect((await light.sample(first.certificate)).available).toBe(true)
      // ...and takes and signs a new store for the epoch it knows.
      const second = await dispersal.disperse(randomData(150_000, prng(72)))
      expect(second.certificate.epoch).toBe(1)
      await until(async () => (await members[0]!.node.store.getAttestation(second.blob.blobId)) !== undefined)

      // The RPC comes back while the chain has moved to epoch 2: the node catches up and stores under it.
      await mineToEpoch(chain, d, 2n)
      proxy.down = false
      await until(() => cut.status().state === 'synced' && cut.status().epoch === 2)
      await sequencerSource.refresh()
      const third = await dispersal.disperse(randomData(120_000, prng(73)))
      expect(third.certificate.epoch).toBe(2)
      await until(async () => (await members[0]!.node.store.getAttestation(third.blob.blobId)) !== undefined)
      expect(certificateSigners(third.certificate).length).toBeGreaterThan(0)
    } finally {
      await dispersal.close()
    }
  }, 90_000)
})

async function until(done: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition')
    await new Promise((r) => setTimeout(r, 50))
  }
}
