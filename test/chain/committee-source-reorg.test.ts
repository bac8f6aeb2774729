/**
 * ChainCommitteeSource on a chain that reorganises below its confirmation depth, and through an RPC backend that
 * lags behind or fails: a real anvil and the real registry (committee-source-setup.ts), a JSON-RPC relay in front.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unstake } from '../../src/chain/registry-client.ts'
import {
  a,
  b,
  c,
  chain,
  d,
  dd,
  join,
  source,
  startSourceChain,
  stopSourceChain,
  writer,
} from './committee-source-setup.ts'
import { mined, mineToEpoch } from './helpers.ts'
import { startRelay } from './relay.ts'

beforeAll(async () => {
  await startSourceChain()
  for (const m of [b, c, dd]) await join(m)
  await mineToEpoch(chain, d, 1n)
})

afterAll(stopSourceChain)

describe('ChainCommitteeSource through reorgs and lagging RPC backends', () => {
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

  it('a log the RPC left out of an answer is found at the next epoch by its record, and the registry read again', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    try {
      const s = source(proxy.url)
      await s.refresh()
      const start = await s.currentEpoch()
      const before = (await s.getCommittee(start)).size
      // a registers, and the backend answers the getLogs that would have shown it with nothing.
      proxy.emptyLogs = 1
      await join(a)
      await s.refresh()
      expect(proxy.emptyLogs).toBe(0)
      expect(s.status().registryRereads).toBe(0)
      // From the next epoch the registry's committee has a; the follower's does not, and its record says so: the
      // sync fails, and the epoch in force stays the one it knew while the registry is read again.
      await mineToEpoch(chain, d, BigInt(start + 1))
      const mismatch = expect.objectContaining({ code: 'CHAIN_COMMITTEE_MISMATCH' })
      await expect(s.refresh()).rejects.toThrow(mismatch)
      expect(s.status()).toMatchObject({ registryRereads: 1, lastError: 'CHAIN_COMMITTEE_MISMATCH' })
      expect(await s.currentEpoch()).toBe(start)
      // A re-read that still misses the log (the backend has not caught up) is not trusted either.
      proxy.emptyLogs = 1
      await chain.testClient.mine({ blocks: 1 })
      await expect(s.refresh()).rejects.toThrow(mismatch)
      expect(await s.currentEpoch()).toBe(start)
      // The next one reads everything.
      await chain.testClient.mine({ blocks: 1 })
      await s.refresh()
      expect(s.status()).toMatchObject({ state: 'synced', registryRereads: 1, lastError: undefined })
      const next = await s.getCommittee(start + 1)
      expect(next.size).toBe(before + 1)
      expect(next.members.map((m) => m.peerId)).toContain(a.peerId)
      // Read on block by block from there, with nothing more to repair.
      await chain.testClient.mine({ blocks: 2 })
      await s.refresh()
      expect(s.status().registryRereads).toBe(1)
    } finally {
      await proxy.close()
    }
  })

  it('does not take a full read answered with no logs at all for a registry without members, but for so long', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    try {
      proxy.emptyLogs = Number.POSITIVE_INFINITY
      const s = source(proxy.url)
      const mismatch = expect.objectContaining({ code: 'CHAIN_COMMITTEE_MISMATCH' })
      for (let i = 0; i < 3; i++) await expect(s.refresh()).rejects.toThrow(mismatch)
      expect(s.status().state).toBe('starting')
      // The fourth is taken (the backend keeps saying the same), and reading on from it is quiet this epoch.
      await s.refresh()
      const epoch = await s.currentEpoch()
      await expect(s.getCommittee(epoch)).rejects.toThrow(expect.objectContaining({ code: 'COMMITTEE_UNKNOWN_EPOCH' }))
      const reads = proxy.calls('eth_getLogs')
      for (let i = 0; i < 3; i++) {
        await chain.testClient.mine({ blocks: 1 })
        await s.refresh()
      }
      expect(proxy.calls('eth_getLogs') - reads).toBeLessThanOrEqual(3) // block by block, no full re-read
      // The backend has the logs again: at the next epoch the check runs again, and the registry is read in full.
      proxy.emptyLogs = 0
      await mineToEpoch(chain, d, BigInt(epoch + 1))
      await expect(s.refresh()).rejects.toThrow(mismatch)
      await chain.testClient.mine({ blocks: 1 })
      await s.refresh()
      expect((await s.getCommittee(await s.currentEpoch())).size).toBeGreaterThan(0)
    } finally {
      await proxy.close()
    }
  })

  it('asks for the logs of a busy stretch of blocks in halves when the answer is too large for the provider', async () => {
    const proxy = await startRelay(chain.anvil.rpcUrl)
    try {
      await chain.testClient.mine({ blocks: 120 }) // a history longer than the provider's cap
      const direct = source()
      await direct.refresh()
      const epoch = await direct.currentEpoch()
      // A fresh node reads from the deployment: every window over 50 blocks is refused, as too many results.
      proxy.maxLogRange = 50
      const s = source(proxy.url)
      await s.refresh()
      expect(s.status()).toMatchObject({ state: 'synced', lastError: undefined })
      expect(proxy.calls('eth_getLogs')).toBeGreaterThan(3) // refused windows, then halves
      expect(await s.currentEpoch()).toBe(epoch)
      const [ours, theirs] = [await s.getCommittee(epoch), await direct.getCommittee(epoch)]
      expect(ours.members.map((m) => m.peerId)).toEqual(theirs.members.map((m) => m.peerId))
    } finally {
      await proxy.close()
    }
  })

  it('reports an RPC whose head stopped moving as stale (CHAIN_HEAD_STALLED), not as freshly synced', async () => {
    const s = source(chain.anvil.rpcUrl, 0, { maxHeadStallMs: 300 })
    await chain.testClient.mine({ blocks: 1 })
    await s.refresh()
    expect(s.status()).toMatchObject({ state: 'synced', lastError: undefined })
    const synced = s.status().lastSyncAt!
    // No block for longer than the limit: the RPC still answers, but nothing it says is news.
    await new Promise((resolve) => setTimeout(resolve, 500))
    await s.refresh()
    expect(s.status()).toMatchObject({ state: 'stale', lastError: 'CHAIN_HEAD_STALLED', lastSyncAt: synced })
    expect((await s.getCommittee(await s.currentEpoch())).size).toBeGreaterThan(0) // still serving what it knows
    await chain.testClient.mine({ blocks: 1 })
    await s.refresh()
    expect(s.status()).toMatchObject({ state: 'synced', lastError: undefined })
  })
})
