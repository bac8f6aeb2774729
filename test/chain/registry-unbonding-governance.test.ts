/**
 * DacnetRegistry on a real anvil: unbonding (the lock until retention after the last served epoch, withdrawal) and
 * governance (owner-only functions, ownership, thresholds, retention, minimum stake, sequencers), with their
 * events (PROTOCOL §4.2).
 */
import type { LocalAccount } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  account,
  type Deployed,
  deploy,
  fund,
  hex,
  mineToEpoch,
  type Registration,
  register,
  registration,
  revertName,
  TOKEN,
  U64_MAX,
} from './helpers.ts'
import { chain, events, useChain, write } from './registry-helpers.ts'

useChain()

describe('unbonding', () => {
  let d: Deployed
  let member: Registration
  const retention = 1000n

  beforeAll(async () => {
    d = await deploy(chain, { epochBlocks: 20n, retentionSeconds: retention, minStake: 2n * TOKEN })
    member = registration('unbond-a', 10n * TOKEN)
    await register(chain, d, member)
  })

  const op = () => ({ account: member.operator, chain: null })
  const withdrawCall = () => d.registry.simulate.withdraw({ account: member.operator })
  const epochNow = () => d.registry.read.currentEpoch()
  const blockTime = async () => (await chain.publicClient.getBlock()).timestamp

  it('locks an unstaked amount until retention after the next epoch began, then pays it', async () => {
    await mineToEpoch(chain, d, 1n)
    expect(await revertName(d.registry.simulate.unstake([9n * TOKEN], { account: member.operator }))).toBe(
      'StakeBelowMinimum',
    )
    const e = await epochNow()
    const unstaked = await write(d.registry.write.unstake([3n * TOKEN], op()))
    expect(events(unstaked, 'UnbondingStarted')[0]?.args).toEqual({
      operator: member.operator.address,
      amount: 3n * TOKEN,
      lastServedEpoch: e,
    })
    expect(await d.registry.read.unbonding([member.operator.address])).toEqual([3n * TOKEN, e, 0n])
    // Still the epoch it served in: nothing, and no release time yet.
    expect((await withdrawCall()).result).toBe(0n)
    const early = await write(d.registry.write.withdraw(op()))
    expect(events(early, 'Withdrawn')).toEqual([])
    expect(await d.registry.read.unbonding([member.operator.address])).toEqual([3n * TOKEN, e, 0n])

    // The first transaction of epoch e + 1 (this withdraw) records its start; the release time is fixed from it.
    await mineToEpoch(chain, d, e + 1n)
    await write(d.registry.write.withdraw(op()))
    const start = await d.registry.read.epochStartTime([e + 1n])
    expect(start).toBeGreaterThan(0n)
    expect(await d.registry.read.unbonding([member.operator.address])).toEqual([3n * TOKEN, e, start + retention])

    await chain.testClient.setNextBlockTimestamp({ timestamp: start + retention - 1n })
    await chain.testClient.mine({ blocks: 1 })
    expect((await withdrawCall()).result).toBe(0n)
    await chain.testClient.increaseTime({ seconds: 1 })
    await chain.testClient.mine({ blocks: 1 })
    expect(await blockTime()).toBeGreaterThanOrEqual(start + retention)
    expect((await withdrawCall()).result).toBe(3n * TOKEN)
    const before = await d.token.read.balanceOf([member.operator.address])
    const paid = await write(d.registry.write.withdraw(op()))
    expect(events(paid, 'Withdrawn')[0]?.args).toEqual({ operator: member.operator.address, amount: 3n * TOKEN })
    expect(await d.token.read.balanceOf([member.operator.address])).toBe(before + 3n * TOKEN)
    expect(await d.registry.read.unbonding([member.operator.address])).toEqual([0n, 0n, 0n])
    expect((await withdrawCall()).result).toBe(0n)
  })

  it('adds a second unstake to the entry and restarts its lock; keeps the retention in force when unstaking', async () => {
    const e = await epochNow()
    await write(d.registry.write.unstake([TOKEN], op()))
    await mineToEpoch(chain, d, e + 1n)
    const received = await write(d.registry.write.unstake([TOKEN], op()))
    expect(events(received, 'UnbondingStarted')[0]?.args).toEqual({
      operator: member.operator.address,
      amount: 2n * TOKEN,
      lastServedEpoch: e + 1n,
    })
    // A later retention change does not touch this entry.
    await write(d.registry.write.setRetention([10n * retention], { account: chain.deployer, chain: null }))
    // No registry transaction in e + 2: the first withdraw after it began stands in for its start.
    await mineToEpoch(chain, d, e + 3n)
    expect(await d.registry.read.epochStartTime([e + 2n])).toBe(0n)
    await write(d.registry.write.withdraw(op()))
    const [amount, served, releaseAt] = await d.registry.read.unbonding([member.operator.address])
    expect([amount, served]).toEqual([2n * TOKEN, e + 1n])
    expect(releaseAt).toBe((await blockTime()) + retention)
    await chain.testClient.increaseTime({ seconds: Number(retention) })
    await chain.testClient.mine({ blocks: 1 })
    expect((await withdrawCall()).result).toBe(2n * TOKEN)
  })

  it('locks what unbonds in an epoch for the retention in force in it, though the owner lowered it since', async () => {
    const other = registration('unbond-b', 10n * TOKEN)
    await register(chain, d, other)
    const e = await epochNow()
    await mineToEpoch(chain, d, e + 1n)
    const inForce = await d.registry.read.retentionSeconds()
    // Lowered in epoch e + 1: its committee still serves under `inForce`; the new value counts from e + 2.
    await write(d.registry.write.setRetention([1n], { account: chain.deployer, chain: null }))
    await write(d.registry.write.unstake([TOKEN], { account: other.operator, chain: null }))
    await mineToEpoch(chain, d, e + 2n)
    await write(d.registry.write.withdraw({ account: other.operator, chain: null }))
    const [, served, releaseAt] = await d.registry.read.unbonding([other.operator.address])
    expect(served).toBe(e + 1n)
    expect(releaseAt - (await d.registry.read.epochStartTime([e + 2n]))).toBe(inForce)
    await write(d.registry.write.setRetention([inForce], { account: chain.deployer, chain: null }))
  })

  it('unbonds the whole stake of a member that leaves', async () => {
    const [, , stake] = await d.registry.read.memberOf([member.operator.address])
    await write(d.registry.write.withdraw(op()))
    const e = await epochNow()
    await write(d.registry.write.unstake([stake], op()))
    expect(await d.registry.read.unbonding([member.operator.address])).toEqual([stake, e, 0n])
    expect((await d.registry.read.memberOf([member.operator.address]))[0]).toBe(false)
  })
})

describe('governance', () => {
  let d: Deployed
  let outsider: LocalAccount
  const owner = () => ({ account: chain.deployer, chain: null })

  beforeAll(async () => {
    d = await deploy(chain)
    outsider = account('gov-outsider')
    await fund(chain, d, outsider, 0n)
  })

  it('refuses every owner function to other accounts', async () => {
    const as = { account: outsider }
    for (const call of [
      d.registry.simulate.setThresholds([3n, 4n, 1n, 4n], as),
      d.registry.simulate.setRetention([1n], as),
      d.registry.simulate.setMinStake([1n], as),
      d.registry.simulate.addSequencer([hex(new Uint8Array([0x00, 1, 1]))], as),
      d.registry.simulate.removeSequencer([hex(new Uint8Array([0x00, 1, 1]))], as),
      d.registry.simulate.transferOwnership([outsider.address], as),
      d.registry.simulate.renounceOwnership(as),
    ]) {
      expect(await revertName(call)).toBe('OwnableUnauthorizedAccount')
    }
  })

  it('hands governance over with transferOwnership', async () => {
    const other = await deploy(chain)
    await write(other.registry.write.transferOwnership([outsider.address], owner()))
    expect(await other.registry.read.owner()).toBe(outsider.address)
    expect(await revertName(other.registry.simulate.setMinStake([1n], { account: chain.deployer }))).toBe(
      'OwnableUnauthorizedAccount',
    )
    expect(await revertName(other.registry.simulate.setMinStake([1n], { account: outsider }))).toBeUndefined()
  })

  it('stores thresholds in lowest terms and refuses thresholds outside 0 <= f < q <= 1', async () => {
    const receipt = await write(d.registry.write.setThresholds([6n, 8n, 0n, 5n], owner()))
    expect(events(receipt, 'ThresholdsChanged')[0]?.args).toEqual({ qNum: 3n, qDen: 4n, fNum: 0n, fDen: 1n })
    expect(await d.registry.read.thresholds()).toEqual([3n, 4n, 0n, 1n])
    await write(d.registry.write.setThresholds([U64_MAX, U64_MAX, U64_MAX - 1n, U64_MAX], owner()))
    expect(await d.registry.read.thresholds()).toEqual([1n, 1n, U64_MAX - 1n, U64_MAX])
    for (const t of [
      [2n, 3n, 2n, 3n], // f = q
      [1n, 3n, 1n, 2n], // f > q
      [4n, 3n, 1n, 3n], // q > 1
      [0n, 3n, 0n, 3n], // q = 0 = f
      [2n, 0n, 1n, 3n],
      [2n, 3n, 1n, 0n],
    ] as const) {
      expect(await revertName(d.registry.simulate.setThresholds(t, { account: chain.deployer })), `${t}`).toBe(
        'InvalidThresholds',
      )
    }
  })

  it('sets retention and the minimum stake, with events', async () => {
    const retention = await write(d.registry.write.setRetention([77n], owner()))
    expect(events(retention, 'RetentionChanged')[0]?.args).toEqual({ retentionSeconds: 77n })
    expect(await d.registry.read.retentionSeconds()).toBe(77n)
    // 1 s to 2^53 − 1 s: what every off-chain reader holds exactly, and a committee accepts.
    for (const bad of [0n, 2n ** 53n]) {
      expect(await revertName(d.registry.simulate.setRetention([bad], { account: chain.deployer }))).toBe(
        'InvalidRetention',
      )
    }
    await d.registry.simulate.setRetention([2n ** 53n - 1n], { account: chain.deployer })
    await expect(deploy(chain, { retentionSeconds: 0n })).rejects.toThrow()
    const minStake = await write(d.registry.write.setMinStake([5n * TOKEN], owner()))
    expect(events(minStake, 'MinStakeChanged')[0]?.args).toEqual({ minStake: 5n * TOKEN })
    expect(await d.registry.read.minStake()).toBe(5n * TOKEN)
  })

  it('adds and removes sequencers by peer id', async () => {
    const ids = [0, 1, 2].map((i) => hex(new Uint8Array([0x12, 0x20, ...Array(32).fill(i + 1)])))
    for (const id of ids) {
      const receipt = await write(d.registry.write.addSequencer([id], owner()))
      expect(events(receipt, 'SequencerAdded')[0]?.args).toEqual({ peerId: id })
    }
    expect(await d.registry.read.sequencers()).toEqual(ids)
    expect(await revertName(d.registry.simulate.addSequencer([ids[1]!], { account: chain.deployer }))).toBe(
      'SequencerAlreadyAdded',
    )
    expect(await revertName(d.registry.simulate.addSequencer(['0x1220'], { account: chain.deployer }))).toBe(
      'InvalidPeerId',
    )
    const removed = await write(d.registry.write.removeSequencer([ids[0]!], owner()))
    expect(events(removed, 'SequencerRemoved')[0]?.args).toEqual({ peerId: ids[0] })
    expect(await d.registry.read.sequencers()).toEqual([ids[2], ids[1]])
    expect(await d.registry.read.isSequencer([ids[0]!])).toBe(false)
    expect(await d.registry.read.isSequencer([ids[1]!])).toBe(true)
    expect(await revertName(d.registry.simulate.removeSequencer([ids[0]!], { account: chain.deployer }))).toBe(
      'UnknownSequencer',
    )
  })
})
