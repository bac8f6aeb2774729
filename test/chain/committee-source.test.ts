/**
 * ChainCommitteeSource against a real anvil and the real registry: committees per epoch rebuilt from the events,
 * each checked against the registry's summary hash; certificates of those committees verified by the contract;
 * an RPC that goes away and comes back; a reorg below the confirmation depth.
 */
import type { LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { ChainCommitteeSource } from '../../src/chain/committee-source.ts'
import { encodeOnchainCertificate } from '../../src/chain/onchain-certificate.ts'
import {
  addStake,
  type RegistryWriter,
  registerMember,
  unstake,
  verifyOnchain,
} from '../../src/chain/registry-client.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { memberSecretKey, signedCertificate } from '../attest/helpers.ts'
import { peerIdFor } from '../committee/helpers.ts'
import {
  account,
  type Chain,
  type Deployed,
  deploy,
  fundAll,
  mined,
  mineToEpoch,
  startChain,
  TOKEN,
} from './helpers.ts'
import { startRelay } from './relay.ts'

const EPOCH_BLOCKS = 20n
let chain: Chain
let d: Deployed
const sources: ChainCommitteeSource[] = []

interface TestMember {
  label: string
  operator: LocalAccount
  peerId: string
  stake: bigint
}

function member(label: string, stake: bigint): TestMember {
  return { label, operator: account(`source-${label}`), peerId: peerIdFor(`source-${label}`), stake }
}

function writer(m: TestMember): RegistryWriter {
  return {
    publicClient: chain.publicClient,
    walletClient: chain.walletClient,
    account: m.operator,
    registry: d.deployment.registry,
  }
}

async function join(m: TestMember): Promise<void> {
  await registerMember(writer(m), {
    secretKey: memberSecretKey(`source-${m.label}`),
    peerId: m.peerId,
    multiaddrs: [`/dns4/${m.label}.example.org/tcp/4001`],
    stake: m.stake,
  })
}

function source(rpcUrl = chain.anvil.rpcUrl, confirmations = 0): ChainCommitteeSource {
  const s = new ChainCommitteeSource({
    rpcUrl,
    registry: d.deployment.registry,
    verifier: blsKeyVerifier,
    confirmations,
    pollIntervalMs: 50,
    rpcTimeoutMs: 2_000,
  })
  sources.push(s)
  return s
}

/** A certificate of `committee` signed by the members with these labels (their keys are memberSecretKey). */
function certify(committee: Committee, labels: string[], byPeer: Map<string, string>): Certificate {
  const signers = committee.members.filter((m) => labels.includes(byPeer.get(m.peerId)!)).map((m) => m.index)
  return signedCertificate(committee, signers, {
    seed: 'src',
    secretKeyOf: (i) => memberSecretKey(`source-${byPeer.get(committee.members[i]!.peerId)}`),
  })
}

const a = member('a', 30n * TOKEN)
const b = member('b', 20n * TOKEN)
const c = member('c', 10n * TOKEN)
const dd = member('d', 25n * TOKEN)
const byPeer = new Map([a, b, c, dd].map((m) => [m.peerId, m.label]))

beforeAll(async () => {
  chain = await startChain()
  d = await deploy(chain, { epochBlocks: EPOCH_BLOCKS, networkId: 9, retentionSeconds: 7200n })
  await fundAll(
    chain,
    d,
    [a, b, c, dd].map((m) => ({ operator: m.operator, stake: 100n * TOKEN })),
  )
})

afterAll(async () => {
  for (const s of sources) await s.stop()
  await chain?.anvil.stop()
})

describe('ChainCommitteeSource', () => {
  it('serves each epoch the committee the registry held when it began, confirmed by its summary hash', async () => {
    await join(a)
    await join(b)
    await join(c)
    const s = source()
    expect(await s.currentEpoch()).toBe(0)
    // Registered in epoch 0: in force from epoch 1.
    await expect(s.getCommittee(0)).rejects.toThrow(expect.objectContaining({ code: 'COMMITTEE_UNKNOWN_EPOCH' }))

    await mineToEpoch(chain, d, 1n)
    await s.refresh()
    expect(await s.currentEpoch()).toBe(1)
    const one = await s.getCommittee(1)
    expect(one.members.map((m) => byPeer.get(m.peerId))).toEqual(['a', 'b', 'c'])
    expect(one.members.map((m) => m.stake)).toEqual([a.stake, b.stake, c.stake])
    expect(one.members[0]!.multiaddrs).toEqual(['/dns4/a.example.org/tcp/4001'])
    expect(one.retentionSeconds).toBe(7200)
    expect(one.networkId).toBe(9)
    // Epochs later than the one in force are not known yet.
    await expect(s.getCommittee(2)).rejects.toThrow(expect.objectContaining({ code: 'COMMITTEE_UNKNOWN_EPOCH' }))

    // In epoch 1: d joins, a leaves (d takes its index), b stakes more, the thresholds change.
    await join(dd)
    await unstake(writer(a), a.stake)
    await addStake(writer(b), 5n * TOKEN)
    await mined(
      chain,
      await d.registry.write.setThresholds([3n, 4n, 1n, 4n], { account: chain.deployer, chain: null, gas: 1_000_000n }),
    )
    await s.refresh()
    expect((await s.getCommittee(1)).members.map((m) => byPeer.get(m.peerId))).toEqual(['a', 'b', 'c'])

    await mineToEpoch(chain, d, 2n)
    await s.refresh()
    const two = await s.getCommittee(2)
    expect(two.members.map((m) => byPeer.get(m.peerId))).toEqual(['d', 'b', 'c'])
    expect(two.members[1]!.stake).toBe(b.stake + 5n * TOKEN)
    expect(two.threshold).toEqual({ num: 3n, den: 4n })
    expect(two.adversary).toEqual({ num: 1n, den: 4n })
    expect(await s.epochs()).toEqual([1, 2])
    expect((await s.committeeRecord(1)).recordIndex).toBe(0)
    expect((await s.committeeRecord(2)).recordIndex).toBe(1)
    // An epoch between changes shares the committee before it.
    await mineToEpoch(chain, d, 4n)
    await s.refresh()
    expect((await s.getCommittee(3)).members.map((m) => byPeer.get(m.peerId))).toEqual(['d', 'b', 'c'])
  })

  it("certificates of the source's committees verify on-chain exactly when they verify off-chain", async () => {
    const s = source()
    for (const [epoch, labels, valid] of [
      [1, ['a', 'b'], true], // 50 of 60 >= 2/3, against the archived record
      [1, ['b', 'c'], false], // 30 of 60
      [3, ['d', 'b'], true], // 50 of 60 >= 3/4, against the live record
      [3, ['b', 'c'], false], // 35 of 60 < 3/4
      [3, ['d', 'b', 'c'], true],
    ] as const) {
      const committee = await s.getCommittee(epoch)
      const certificate = certify(committee, [...labels], byPeer)
      let offchain = true
      try {
        verifyCertificate(certificate, committee)
      } catch {
        offchain = false
      }
      const { recordIndex } = await s.committeeRecord(epoch)
      const verdict = await verifyOnchain(
        chain.publicClient,
        d.deployment.verifier,
        encodeOnchainCertificate(certificate, committee, { recordIndex }),
      )
      expect(offchain, `epoch ${epoch} signed by ${labels}`).toBe(valid)
      expect(verdict.verified, `epoch ${epoch} signed by ${labels}`).toBe(valid)
      expect(verdict.reason).toBe(valid ? 0 : 7)
      if (valid) expect(verdict.gas).toBeGreaterThan(150_000n)
    }
  })

  it('keeps serving what it knows while the RPC is down, says so, and catches up when it is back', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    try {
      const s = source(proxy.url)
      await s.start()
      expect(s.status().state).toBe('synced')
      const epoch = await s.currentEpoch()
      proxy.down = true
      await until(() => s.status().state === 'stale')
      expect(s.status().lastError).toBe('CHAIN_UNAVAILABLE')
      expect(await s.currentEpoch()).toBe(epoch)
      expect((await s.getCommittee(epoch)).size).toBe(3)

      await mineToEpoch(chain, d, BigInt(epoch + 1))
      proxy.down = false
      await until(() => s.status().state === 'synced' && s.status().epoch === epoch + 1)
      expect(await s.currentEpoch()).toBe(epoch + 1)
    } finally {
      await proxy.close()
    }
  })

  it('a source that never reached its RPC throws CHAIN_UNAVAILABLE', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    proxy.down = true
    try {
      const s = source(proxy.url)
      await s.start()
      expect(s.status().state).toBe('starting')
      await expect(s.currentEpoch()).rejects.toThrow(expect.objectContaining({ code: 'CHAIN_UNAVAILABLE' }))
    } finally {
      await proxy.close()
    }
  })

  it('refuses, with a typed error, an epoch whose committee fails the off-chain checks, and serves the others', async () => {
    // The registry accepts any f < q; with q − f = 1/65536 no erasure code lets the honest signers hold a shard.
    const other = await deploy(chain, { epochBlocks: EPOCH_BLOCKS, networkId: 10 })
    const x = member('x', 10n * TOKEN)
    const y = member('y', 10n * TOKEN)
    await fundAll(
      chain,
      other,
      [x, y].map((m) => ({ operator: m.operator, stake: 10n * TOKEN })),
    )
    for (const m of [x, y]) {
      await registerMember(
        {
          publicClient: chain.publicClient,
          walletClient: chain.walletClient,
          account: m.operator,
          registry: other.deployment.registry,
        },
        { secretKey: memberSecretKey(`source-${m.label}`), peerId: m.peerId, multiaddrs: [], stake: m.stake },
      )
    }
    const owner = { account: chain.deployer, chain: null, gas: 1_000_000n } as const
    await mined(chain, await other.registry.write.setThresholds([1n, 2n, 32767n, 65536n], owner))
    await mineToEpoch(chain, other, 1n)
    const s = new ChainCommitteeSource({
      rpcUrl: chain.anvil.rpcUrl,
      registry: other.deployment.registry,
      verifier: blsKeyVerifier,
      confirmations: 0,
    })
    sources.push(s)
    await s.refresh()
    await expect(s.getCommittee(1)).rejects.toThrow(
      expect.objectContaining({ code: 'COMMITTEE_ENCODING_UNSATISFIABLE' }),
    )
    expect(s.status().lastError).toBeUndefined()

    await mined(chain, await other.registry.write.setThresholds([2n, 3n, 1n, 3n], owner))
    await mineToEpoch(chain, other, 2n)
    await s.refresh()
    expect((await s.getCommittee(2)).size).toBe(2)
    await expect(s.getCommittee(1)).rejects.toThrow(
      expect.objectContaining({ code: 'COMMITTEE_ENCODING_UNSATISFIABLE' }),
    )
  })

  it('follows the chain block by block: getLogs only for a block whose bloom names the registry', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    try {
      const s = source(proxy.url)
      await s.refresh()
      const start = await s.currentEpoch()
      const stakeOfB = (await s.getCommittee(start)).members.find((m) => byPeer.get(m.peerId) === 'b')!.stake
      const logs = () => proxy.calls('eth_getLogs')
      const before = logs()
      // An empty block, then a block with only the token's logs: neither can hold a registry event.
      await chain.testClient.mine({ blocks: 1 })
      await s.refresh()
      await mined(
        chain,
        await d.token.write.approve([d.deployment.registry, 10n ** 30n], { account: b.operator, chain: null }),
      )
      await s.refresh()
      expect(logs()).toBe(before)
      // A block with a registry event is read, and the event counts from the next epoch.
      await mined(chain, await d.registry.write.addStake([2n * TOKEN], { account: b.operator, chain: null }))
      await s.refresh()
      expect(logs()).toBe(before + 1)
      await mineToEpoch(chain, d, BigInt(start + 1))
      await s.refresh()
      const next = await s.getCommittee(start + 1)
      expect(next.members.find((m) => byPeer.get(m.peerId) === 'b')!.stake).toBe(stakeOfB + 2n * TOKEN)
    } finally {
      await proxy.close()
    }
  })

  it('finds a one-block reorg below the confirmation depth by the parent hash', async () => {
    const s = source()
    await s.refresh()
    const snapshot = await chain.testClient.snapshot()
    await chain.testClient.mine({ blocks: 1 })
    await s.refresh()
    await chain.testClient.revert({ id: snapshot })
    // Another block at the height the source synced, then one more: one block on, its parent is not the block
    // the source saw.
    await mined(
      chain,
      await d.token.write.approve([d.deployment.registry, 10n ** 30n + 1n], { account: b.operator, chain: null }),
    )
    await s.refresh() // same height: nothing to see yet
    expect(s.status().deepReorgs).toBe(0)
    await chain.testClient.mine({ blocks: 1 })
    await s.refresh()
    expect(s.status().deepReorgs).toBe(1)
    expect(s.status().state).toBe('synced')
  })

  it('finds a reorg below the confirmation depth and reads the registry again', async () => {
    const s = source()
    await s.refresh()
    const snapshot = await chain.testClient.snapshot()
    const start = await s.currentEpoch()
    // On one branch c leaves; the source reads it once its epoch begins.
    await unstake(writer(c), c.stake)
    await mineToEpoch(chain, d, BigInt(start + 1))
    await s.refresh()
    expect((await s.getCommittee(start + 1)).size).toBe(2)

    // The chain goes back and takes another branch on which c stays.
    await chain.testClient.revert({ id: snapshot })
    await mineToEpoch(chain, d, BigInt(start + 2))
    await s.refresh()
    expect(s.status().deepReorgs).toBe(1)
    expect((await s.getCommittee(start + 1)).size).toBe(3)
  })

  it('takes an RPC backend a few blocks behind for what it is, not a reorg: it keeps its state and goes on', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    try {
      const s = source(proxy.url)
      await chain.testClient.mine({ blocks: 3 })
      await s.refresh()
      const epoch = await s.currentEpoch()
      const logs = proxy.calls('eth_getLogs')
      // Its head three blocks lower and no block above it: neither the synced block nor a sign of a reorg.
      proxy.lagBlocks = 3
      await s.refresh()
      await chain.testClient.mine({ blocks: 1 })
      await s.refresh()
      expect(s.status()).toMatchObject({ state: 'synced', deepReorgs: 0 })
      expect((await s.getCommittee(epoch)).size).toBeGreaterThan(0)
      proxy.lagBlocks = 0
      await chain.testClient.mine({ blocks: 1 })
      await s.refresh()
      expect(s.status()).toMatchObject({ state: 'synced', deepReorgs: 0 })
      // Caught up block by block: the registry was not read again from its deployment.
      expect(proxy.calls('eth_getLogs') - logs).toBeLessThanOrEqual(1)
    } finally {
      await proxy.close()
    }
  })

  it('after a deep reorg, serves what it knew until the registry is read again in full', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    try {
      const s = source(proxy.url)
      await s.refresh()
      const start = await s.currentEpoch()
      const before = (await s.getCommittee(start)).size
      const snapshot = await chain.testClient.snapshot()
      await chain.testClient.mine({ blocks: 2 })
      await s.refresh()
      await chain.testClient.revert({ id: snapshot })
      await mined(
        chain,
        await d.token.write.approve([d.deployment.registry, 10n ** 30n + 2n], { account: b.operator, chain: null }),
      )
      await chain.testClient.mine({ blocks: 2 })
      // The re-read fails: the reorg is counted once, and the committees known so far stay in service.
      proxy.failing.add('eth_getLogs')
      const unavailable = expect.objectContaining({ code: 'CHAIN_UNAVAILABLE' })
      await expect(s.refresh()).rejects.toThrow(unavailable)
      await chain.testClient.mine({ blocks: 1 })
      await expect(s.refresh()).rejects.toThrow(unavailable)
      expect(s.status()).toMatchObject({ deepReorgs: 1, lastError: 'CHAIN_UNAVAILABLE' })
      expect((await s.getCommittee(start)).size).toBe(before)
      // The next poll that can read it completes the re-read.
      proxy.failing.clear()
      await chain.testClient.mine({ blocks: 1 })
      await s.refresh()
      expect(s.status()).toMatchObject({ state: 'synced', deepReorgs: 1, lastError: undefined })
      expect((await s.getCommittee(start)).size).toBe(before)
    } finally {
      await proxy.close()
    }
  })
})

async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition')
    await new Promise((r) => setTimeout(r, 25))
  }
}
