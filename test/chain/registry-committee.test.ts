/**
 * DacnetRegistry on a real anvil: the member tree, aggregate key and summary against an independent computation,
 * committee records across epochs, and the gas of registering and of archiving a record (PROTOCOL §4.1–4.3).
 */
import { describe, expect, it } from 'vitest'
import {
  deploy,
  fund,
  mineToEpoch,
  type Registration,
  register,
  registration,
  revertName,
  TOKEN,
  treeRoot,
  U64_MAX,
} from './helpers.ts'
import { chain, events, expectCommittee, useChain, write } from './registry-helpers.ts'

useChain()

describe('member tree, aggregate key and summary', () => {
  it('match an independent computation through joins, stake changes and departures', async () => {
    const d = await deploy(chain)
    const members: Registration[] = []
    const check = () => expectCommittee(d, members)
    await check() // empty
    for (let i = 0; i < 9; i++) {
      const r = registration(`tree-${i}`, BigInt(i + 1) * TOKEN)
      await register(chain, d, r)
      members.push(r)
      await check()
    }
    // Stake changes: the leaf changes, the index does not.
    await fund(chain, d, members[3]!.operator, 5n * TOKEN)
    const added = await write(d.registry.write.addStake([5n * TOKEN], { account: members[3]!.operator, chain: null }))
    expect(events(added, 'StakeChanged')[0]?.args).toEqual({
      operator: members[3]!.operator.address,
      index: 3,
      stake: 9n * TOKEN,
    })
    members[3] = { ...members[3]!, stake: 9n * TOKEN }
    await check()
    await write(d.registry.write.unstake([TOKEN], { account: members[6]!.operator, chain: null }))
    members[6] = { ...members[6]!, stake: 6n * TOKEN }
    await check()
    // Departures: the last member moves into the leaver's index (swap and pop), and the depth shrinks.
    const leave = async (index: number) => {
      const r = members[index]!
      const receipt = await write(d.registry.write.unstake([r.stake], { account: r.operator, chain: null }))
      const last = members.length - 1
      expect(events(receipt, 'MemberLeft')[0]?.args).toEqual({ operator: r.operator.address, index, movedFrom: last })
      members[index] = members[last]!
      members.pop()
      expect(await d.registry.read.memberOf([r.operator.address])).toEqual([false, 0, 0n])
      await check()
    }
    await leave(2)
    await leave(7) // the last member itself: nothing moves
    await leave(0)
    while (members.length > 0) await leave(Math.floor(members.length / 2))
    expect(await d.registry.read.membersRoot()).toBe(treeRoot([]))
    // And the tree grows again over the stale nodes the departures left.
    for (let i = 0; i < 5; i++) {
      const r = registration(`tree-again-${i}`, 3n * TOKEN)
      await register(chain, d, r)
      members.push(r)
      await check()
    }
  })
})

describe('committee records', () => {
  it('take effect from the next epoch and archive on the first change of each later epoch', async () => {
    const d = await deploy(chain, { epochBlocks: 50n })
    const { registry } = d
    const at = (epoch: bigint) => mineToEpoch(chain, d, epoch)
    const recordFor = async (epoch: bigint) => {
      try {
        return await registry.read.committeeFor([epoch])
      } catch {
        return 'unknown'
      }
    }
    const members: Registration[] = []
    const join = async (label: string, stake: bigint) => {
      const r = registration(label, stake)
      const receipt = await register(chain, d, r)
      members.push(r)
      return receipt
    }

    // Epoch 0: the first members; the empty committee is not archived.
    await join('rec-a', 10n * TOKEN)
    await join('rec-b', 20n * TOKEN)
    const h1 = await expectCommittee(d, members)
    expect(await registry.read.committeeRecordCount()).toBe(0n)
    expect(await registry.read.committeeRecord([0n])).toEqual([h1, 1n, U64_MAX])
    expect(await registry.read.recordAt([0n])).toEqual([h1, 1n, U64_MAX])
    expect(await recordFor(0n)).toBe('unknown')
    expect(await recordFor(1n)).toBe('unknown') // in the future
    expect(await revertName(registry.read.committeeRecord([1n]))).toBe('UnknownRecord')

    await at(1n)
    expect(await recordFor(0n)).toBe('unknown')
    expect(await recordFor(1n)).toEqual([0n, h1])

    // Epoch 2: a join archives record 0 as epochs 1..2; a stake change in the same epoch archives nothing.
    await at(2n)
    const joined = await join('rec-c', 30n * TOKEN)
    expect(events(joined, 'CommitteeArchived')[0]?.args).toEqual({ record: 0, summary: h1, fromEpoch: 1n, toEpoch: 2n })
    await fund(chain, d, members[0]!.operator, TOKEN)
    const topUp = await write(registry.write.addStake([TOKEN], { account: members[0]!.operator, chain: null }))
    expect(events(topUp, 'CommitteeArchived')).toEqual([])
    members[0] = { ...members[0]!, stake: 11n * TOKEN }
    const h2 = await expectCommittee(d, members)
    expect(await registry.read.committeeRecordCount()).toBe(1n)
    expect(await registry.read.committeeRecord([0n])).toEqual([h1, 1n, 2n])
    expect(await registry.read.committeeRecord([1n])).toEqual([h2, 3n, U64_MAX])
    expect(await recordFor(2n)).toEqual([0n, h1])

    await at(3n)
    expect(await recordFor(1n)).toEqual([0n, h1])
    expect(await recordFor(3n)).toEqual([1n, h2])

    // Epoch 5: b leaves (c moves to index 1); epochs 3..5 had committee h2.
    await at(5n)
    const left = await write(
      registry.write.unstake([members[1]!.stake], { account: members[1]!.operator, chain: null }),
    )
    expect(events(left, 'CommitteeArchived')[0]?.args).toEqual({ record: 1, summary: h2, fromEpoch: 3n, toEpoch: 5n })
    members[1] = members[2]!
    members.pop()
    const h3 = await expectCommittee(d, members)

    // Epoch 7: a threshold change is a committee change too.
    await at(7n)
    const changed = await write(
      registry.write.setThresholds([3n, 4n, 1n, 4n], { account: chain.deployer, chain: null }),
    )
    expect(events(changed, 'CommitteeArchived')[0]?.args).toEqual({
      record: 2,
      summary: h3,
      fromEpoch: 6n,
      toEpoch: 7n,
    })
    const h4 = await expectCommittee(d, members, [3n, 4n], [1n, 4n])

    // Epoch 9: everyone leaves; the empty committee holds no epoch and is not archived later.
    await at(9n)
    for (const r of [...members]) {
      await write(registry.write.unstake([r.stake], { account: r.operator, chain: null }))
    }
    members.length = 0
    expect(await registry.read.committeeRecordCount()).toBe(4n)
    expect(await registry.read.committeeRecord([3n])).toEqual([h4, 8n, 9n])
    expect((await registry.read.recordAt([4n]))[2]).toBe(0n)

    await at(12n)
    await join('rec-d', 5n * TOKEN)
    expect(await registry.read.committeeRecordCount()).toBe(4n)
    const h5 = await expectCommittee(d, members, [3n, 4n], [1n, 4n])
    expect(await registry.read.committeeRecord([4n])).toEqual([h5, 13n, U64_MAX])

    await at(13n)
    const expected: [bigint, unknown][] = [
      [0n, 'unknown'],
      [1n, [0n, h1]],
      [2n, [0n, h1]],
      [3n, [1n, h2]],
      [5n, [1n, h2]],
      [6n, [2n, h3]],
      [7n, [2n, h3]],
      [8n, [3n, h4]],
      [9n, [3n, h4]],
      [10n, 'unknown'],
      [12n, 'unknown'],
      [13n, [4n, h5]],
      [14n, 'unknown'],
    ]
    for (const [epoch, record] of expected) expect(await recordFor(epoch), `epoch ${epoch}`).toEqual(record)
    expect(await revertName(registry.read.committeeFor([10n]))).toBe('UnknownEpoch')
  })
})

describe('gas', () => {
  it('reports a registration and a stake change with and without archiving a record', async () => {
    const d = await deploy(chain)
    const members = Array.from({ length: 8 }, (_, i) => registration(`gas-${i}`, 10n * TOKEN))
    const receipts = []
    for (const r of members) receipts.push(await register(chain, d, r))
    console.log(`gas: register, 8th member ${receipts.at(-1)!.gasUsed}`)
    await mineToEpoch(chain, d, 1n)
    await fund(chain, d, members[2]!.operator, 2n * TOKEN)
    const op = { account: members[2]!.operator, chain: null, gas: 1_000_000n }
    const archiving = await write(d.registry.write.addStake([TOKEN], op))
    expect(events(archiving, 'CommitteeArchived')).toHaveLength(1)
    const plain = await write(d.registry.write.addStake([TOKEN], op))
    expect(events(plain, 'CommitteeArchived')).toHaveLength(0)
    console.log(`gas: addStake archiving a record ${archiving.gasUsed}, addStake in the same epoch ${plain.gasUsed}`)
  })
})
