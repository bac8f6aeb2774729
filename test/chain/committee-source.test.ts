/**
 * ChainCommitteeSource against a real anvil and the real registry: committees per epoch rebuilt from the events,
 * each checked against the registry's summary hash; certificates of those committees verified by the contract;
 * an RPC that goes away and comes back; following the chain block by block. Reorgs and lagging RPC backends:
 * committee-source-reorg.test.ts; the shared set-up: committee-source-setup.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { ChainCommitteeSource } from '../../src/chain/committee-source.ts'
import { encodeOnchainCertificate } from '../../src/chain/onchain-certificate.ts'
import { addStake, registerMember, unstake, verifyOnchain } from '../../src/chain/registry-client.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { memberSecretKey, signedCertificate } from '../attest/helpers.ts'
import {
  a,
  b,
  byPeer,
  c,
  chain,
  d,
  dd,
  EPOCH_BLOCKS,
  join,
  member,
  source,
  startSourceChain,
  stopSourceChain,
  tracked,
  until,
  writer,
} from './committee-source-setup.ts'
import { deploy, fundAll, mined, mineToEpoch, TOKEN } from './helpers.ts'
import { startRelay } from './relay.ts'

/** A certificate of `committee` signed by the members with these labels (their keys are memberSecretKey). */
function certify(committee: Committee, labels: string[], byPeer: Map<string, string>): Certificate {
  const signers = committee.members.filter((m) => labels.includes(byPeer.get(m.peerId)!)).map((m) => m.index)
  return signedCertificate(committee, signers, {
    seed: 'src',
    secretKeyOf: (i) => memberSecretKey(`source-${byPeer.get(committee.members[i]!.peerId)}`),
  })
}

beforeAll(startSourceChain)

afterAll(stopSourceChain)

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
    const s = tracked(
      new ChainCommitteeSource({
        rpcUrl: chain.anvil.rpcUrl,
        registry: other.deployment.registry,
        verifier: blsKeyVerifier,
        confirmations: 0,
      }),
    )
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
})
