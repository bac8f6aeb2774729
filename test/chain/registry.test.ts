/**
 * DacnetRegistry on a real anvil: registration checks (key, proof of possession, peer id, multiaddrs), the member
 * tree, aggregate key and summary against an independent computation, committee records across epochs,
 * unbonding, governance and events (PROTOCOL §4.1–4.3).
 */
import * as blst from '@chainsafe/blst'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { type Hex, keccak256, type LocalAccount, numberToBytes, parseEventLogs, type TransactionReceipt } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dacnetRegistryAbi } from '../../src/chain/artifacts/DacnetRegistry.ts'
import {
  account,
  type Chain,
  type Deployed,
  deploy,
  encodeSummary,
  fund,
  hex,
  keysFromSecret,
  type MemberKeys,
  memberKeys,
  mined,
  mineToEpoch,
  P,
  R,
  type Registration,
  register,
  registerArgs,
  registration,
  revertName,
  startChain,
  summaryOf,
  TOKEN,
  treeRoot,
  U64_MAX,
} from './helpers.ts'

let chain: Chain

beforeAll(async () => {
  chain = await startChain()
})

afterAll(async () => {
  await chain?.anvil.stop()
})

function events(receipt: TransactionReceipt, eventName: string) {
  return parseEventLogs({ abi: dacnetRegistryAbi, logs: receipt.logs }).filter((e) => e.eventName === eventName)
}

/** register() as a call, for its revert reason (the operator is funded so that only the checks can fail). */
async function registerRevert(d: Deployed, r: Registration, overrides: Partial<Record<string, unknown>> = {}) {
  const [publicKey, publicKeyY, proof, proofY, peerId, multiaddrs, stake] = registerArgs(r)
  const args = [
    (overrides['publicKey'] as Hex) ?? publicKey,
    (overrides['publicKeyY'] as Hex) ?? publicKeyY,
    (overrides['proof'] as Hex) ?? proof,
    (overrides['proofY'] as Hex) ?? proofY,
    (overrides['peerId'] as Hex) ?? peerId,
    (overrides['multiaddrs'] as string[]) ?? multiaddrs,
    (overrides['stake'] as bigint) ?? stake,
  ] as const
  return revertName(d.registry.simulate.register(args, { account: r.operator }))
}

function bytes48(value: bigint): Uint8Array {
  return numberToBytes(value, { size: 48 })
}

function withFlags(x: Uint8Array, flags: number): Uint8Array {
  const out = x.slice()
  out[0] = (out[0]! & 0x1f) | flags
  return out
}

/** The registry's live state against the spec computed from the members the test knows of. */
async function expectCommittee(
  d: Deployed,
  members: readonly Registration[],
  q: readonly [bigint, bigint] = [2n, 3n],
  f: readonly [bigint, bigint] = [1n, 3n],
) {
  const summary = summaryOf(
    members.map((r) => ({ x: r.keys.x, y: r.keys.y, stake: r.stake, publicKey: r.keys.publicKey })),
    q,
    f,
  )
  expect(await d.registry.read.memberCount()).toBe(members.length)
  expect(await d.registry.read.membersRoot()).toBe(summary.root)
  expect(await d.registry.read.totalStake()).toBe(summary.totalStake)
  expect(await d.registry.read.aggregateKey()).toBe(hex(summary.aggregate))
  const encoded = encodeSummary(summary)
  expect(await d.registry.read.committeeSummary()).toBe(hex(encoded))
  const count = await d.registry.read.committeeRecordCount()
  const [liveHash] = await d.registry.read.committeeRecord([count])
  expect(liveHash).toBe(keccak256(encoded))
  for (const [i, r] of members.entries()) {
    const [operator, publicKey, publicKeyY, stake, peerId] = await d.registry.read.memberAt([BigInt(i)])
    expect(operator).toBe(r.operator.address)
    expect(publicKey).toBe(hex(r.keys.publicKey))
    expect(publicKeyY).toBe(hex(r.keys.y))
    expect(stake).toBe(r.stake)
    expect(peerId).toBe(hex(r.peerId))
  }
  return keccak256(encoded)
}

async function write(promise: Promise<Hex>) {
  return mined(chain, await promise)
}

describe('registration', () => {
  let d: Deployed
  let first: Registration

  beforeAll(async () => {
    d = await deploy(chain)
    first = registration('reg-0', 10n * TOKEN)
    await register(chain, d, first)
  })

  it('emits MemberRegistered with the documented fields and records the member', async () => {
    const r = registration('reg-1', 12n * TOKEN)
    const receipt = await register(chain, d, r)
    const [event] = events(receipt, 'MemberRegistered')
    expect(event?.args).toEqual({
      operator: r.operator.address,
      index: 1,
      publicKey: hex(r.keys.publicKey),
      proofOfPossession: hex(r.keys.proof),
      peerId: hex(r.peerId),
      multiaddrs: r.multiaddrs,
      stake: r.stake,
    })
    expect(await d.registry.read.memberOf([r.operator.address])).toEqual([true, 1, r.stake])
    expect(await d.token.read.balanceOf([d.deployment.registry])).toBe(first.stake + r.stake)
    console.log(`gas: register (second member) ${receipt.gasUsed}`)
  })

  it('refuses a proof of possession that does not verify or is malformed', async () => {
    const r = registration('reg-pop', 10n * TOKEN)
    await fund(chain, d, r.operator, r.stake)
    const other = memberKeys('reg-pop-other')
    // A valid G2 point, but the proof of another key.
    expect(await registerRevert(d, r, { proof: hex(other.proof), proofY: hex(other.proofY) })).toBe(
      'InvalidProofOfPossession',
    )
    const flip = (bytes: Uint8Array, mask: number) => {
      const out = bytes.slice()
      out[0]! ^= mask
      return hex(out)
    }
    expect(await registerRevert(d, r, { proof: flip(r.keys.proof, 0x80) })).toBe('InvalidProofOfPossession')
    expect(await registerRevert(d, r, { proof: flip(r.keys.proof, 0x40) })).toBe('InvalidProofOfPossession')
    expect(await registerRevert(d, r, { proof: flip(r.keys.proof, 0x20) })).toBe('InvalidProofOfPossession')
    // y.c0 + 1: in range, off the curve; the precompile refuses the proof, not the key.
    const offCurve = r.keys.proofY.slice()
    offCurve[95]! ^= 1
    expect(await registerRevert(d, r, { proofY: hex(offCurve) })).toBe('InvalidProofOfPossession')
    expect(await registerRevert(d, r, { proof: hex(r.keys.proof.subarray(0, 95)) })).toBe('InvalidProofOfPossession')
    expect(await registerRevert(d, r, { proofY: hex(new Uint8Array(97)) })).toBe('InvalidProofOfPossession')
    expect(await registerRevert(d, r)).toBeUndefined()
  })

  it('refuses malformed keys: flags, x or y out of range, wrong sign, infinity, off the curve, outside G1', async () => {
    const r = registration('reg-key', 10n * TOKEN)
    await fund(chain, d, r.operator, r.stake)
    const { x, y, publicKey } = r.keys
    const sign = publicKey[0]! & 0x20
    const cases: Record<string, Partial<Record<string, Hex>>> = {
      'compression flag clear': { publicKey: hex(withFlags(x, sign)) },
      'infinity flag': { publicKey: hex(withFlags(new Uint8Array(48), 0xc0)), publicKeyY: hex(new Uint8Array(48)) },
      'infinity flag on a point': { publicKey: hex(withFlags(x, 0xc0 | sign)) },
      'x = p': { publicKey: hex(withFlags(bytes48(P), 0x80 | sign)) },
      'y = p': { publicKeyY: hex(bytes48(P)) },
      'wrong y sign': { publicKey: hex(withFlags(x, 0x80 | (sign ^ 0x20))) },
      'y of the negation': { publicKeyY: hex(bytes48(P - BigInt(hex(y)))) },
      'y off the curve': { publicKeyY: hex(bytes48(BigInt(hex(y)) ^ 2n)) },
      'short key': { publicKey: hex(publicKey.subarray(0, 47)) },
      'long y': { publicKeyY: hex(new Uint8Array([0, ...y])) },
    }
    for (const [what, override] of Object.entries(cases)) {
      expect(await registerRevert(d, r, override), what).toBe('InvalidKey')
    }
    // A point on the curve outside the order-r subgroup: only the pairing precompile can tell.
    const { Fp } = bls12_381.fields
    let outside: { x: bigint; y: bigint } | undefined
    for (let cx = 1n; outside === undefined; cx++) {
      const rhs = Fp.add(Fp.mul(Fp.mul(cx, cx), cx), 4n)
      let cy: bigint
      try {
        cy = Fp.sqrt(rhs)
      } catch {
        continue
      }
      if (!bls12_381.G1.Point.fromAffine({ x: cx, y: cy }).isTorsionFree()) outside = { x: cx, y: cy }
    }
    const large = outside.y > (P - 1n) / 2n ? 0x20 : 0
    expect(
      await registerRevert(d, r, {
        publicKey: hex(withFlags(bytes48(outside.x), 0x80 | large)),
        publicKeyY: hex(bytes48(outside.y)),
      }),
    ).toBe('InvalidKey')
  })

  it('refuses a key whose x was registered: the same key and its negation', async () => {
    const again = { ...registration('reg-again', 10n * TOKEN), keys: first.keys }
    await fund(chain, d, again.operator, again.stake)
    expect(await registerRevert(d, again)).toBe('KeyAlreadyUsed')
    // −pk has the secret r − sk, so it comes with a valid proof of possession.
    const sk = BigInt(hex(first.keys.secretKey.toBytes()))
    const negated: MemberKeys = keysFromSecret(blst.SecretKey.fromBytes(numberToBytes(R - sk, { size: 32 })))
    expect(hex(negated.x)).toBe(hex(first.keys.x))
    expect(negated.publicKey[0]! & 0x20).not.toBe(first.keys.publicKey[0]! & 0x20)
    expect(await registerRevert(d, { ...again, keys: negated })).toBe('KeyAlreadyUsed')
    // A key stays used after its member leaves.
    const leaver = registration('reg-leaver', 10n * TOKEN)
    await register(chain, d, leaver)
    await write(d.registry.write.unstake([leaver.stake], { account: leaver.operator, chain: null }))
    const reuse = { ...registration('reg-reuse', 10n * TOKEN), keys: leaver.keys }
    await fund(chain, d, reuse.operator, reuse.stake)
    expect(await registerRevert(d, reuse)).toBe('KeyAlreadyUsed')
    // Its peer id, on the other hand, is free again.
    expect(
      await registerRevert(d, {
        ...registration('reg-peer', 10n * TOKEN),
        operator: reuse.operator,
        peerId: leaver.peerId,
      }),
    ).toBeUndefined()
  })

  it('refuses a peer id in use and malformed peer ids', async () => {
    const r = registration('reg-peerid', 10n * TOKEN)
    await fund(chain, d, r.operator, r.stake)
    expect(await registerRevert(d, r, { peerId: hex(first.peerId) })).toBe('PeerIdAlreadyUsed')
    const bad: Record<string, number[]> = {
      empty: [],
      'code only': [0x00],
      'identity of length 0': [0x00, 0x00],
      'identity shorter than its length': [0x00, 0x05, 1, 2, 3, 4],
      'identity longer than its length': [0x00, 0x02, 1, 2, 3],
      'identity of 43 bytes': [0x00, 43, ...Array(43).fill(7)],
      'sha2-256 of 31 bytes': [0x12, 0x20, ...Array(31).fill(7)],
      'sha2-256 of 33 bytes': [0x12, 0x20, ...Array(33).fill(7)],
      'sha2-256 with length 0x21': [0x12, 0x21, ...Array(33).fill(7)],
      'another hash code': [0x13, 0x20, ...Array(32).fill(7)],
    }
    for (const [what, bytes] of Object.entries(bad)) {
      expect(await registerRevert(d, r, { peerId: hex(new Uint8Array(bytes)) }), what).toBe('InvalidPeerId')
    }
    for (const good of [
      [0x00, 42, ...Array(42).fill(7)],
      [0x00, 1, 7],
      [0x12, 0x20, ...Array(32).fill(7)],
    ]) {
      expect(await registerRevert(d, r, { peerId: hex(new Uint8Array(good)) })).toBeUndefined()
    }
  })

  it('refuses malformed multiaddrs, at registration and in setMultiaddrs', async () => {
    const r = registration('reg-addr', 10n * TOKEN)
    await fund(chain, d, r.operator, r.stake)
    const bad: Record<string, string[]> = {
      empty: ['/ip4/1.2.3.4/tcp/1', ''],
      'no leading slash': ['ip4/1.2.3.4/tcp/1'],
      space: ['/ip4/1.2.3.4 /tcp/1'],
      'control character': ['/ip4/1.2.3.4/tcp/1\n'],
      DEL: ['/ip4/1.2.3.4/tcp/1\x7f'],
      'non-ASCII': ['/dns4/bücher.example/tcp/1'],
      '1025 bytes': [`/${'a'.repeat(1024)}`],
    }
    for (const [what, multiaddrs] of Object.entries(bad)) {
      expect(await registerRevert(d, r, { multiaddrs }), what).toBe('InvalidMultiaddr')
      expect(await revertName(d.registry.simulate.setMultiaddrs([multiaddrs], { account: first.operator })), what).toBe(
        'InvalidMultiaddr',
      )
    }
    const many = Array.from({ length: 33 }, (_, i) => `/ip4/10.0.0.${i}/tcp/4001`)
    expect(await registerRevert(d, r, { multiaddrs: many })).toBe('TooManyMultiaddrs')
    expect(await registerRevert(d, r, { multiaddrs: many.slice(0, 32) })).toBeUndefined()
    expect(await registerRevert(d, r, { multiaddrs: [`/${'a'.repeat(1023)}`] })).toBeUndefined()
    expect(await registerRevert(d, r, { multiaddrs: [] })).toBeUndefined()

    const receipt = await write(
      d.registry.write.setMultiaddrs([['/ip6/::1/tcp/4001/ws']], { account: first.operator, chain: null }),
    )
    expect(events(receipt, 'MultiaddrsChanged')[0]?.args).toEqual({
      operator: first.operator.address,
      multiaddrs: ['/ip6/::1/tcp/4001/ws'],
    })
  })

  it('refuses what only a non-member, a new member or a larger committee could do', async () => {
    const outsider = account('reg-outsider')
    await fund(chain, d, outsider, 0n)
    for (const call of [
      d.registry.simulate.addStake([1n], { account: outsider }),
      d.registry.simulate.unstake([1n], { account: outsider }),
      d.registry.simulate.setMultiaddrs([[]], { account: outsider }),
    ]) {
      expect(await revertName(call)).toBe('NotAMember')
    }
    expect(await registerRevert(d, { ...registration('reg-twice', TOKEN), operator: first.operator })).toBe(
      'AlreadyRegistered',
    )
    const r = registration('reg-small', TOKEN - 1n)
    await fund(chain, d, r.operator, TOKEN)
    expect(await registerRevert(d, r)).toBe('StakeBelowMinimum')
    expect(await registerRevert(d, r, { stake: 0n })).toBe('StakeBelowMinimum')
    expect(await revertName(d.registry.simulate.addStake([0n], { account: first.operator }))).toBe('ZeroAmount')
    expect(await revertName(d.registry.simulate.unstake([0n], { account: first.operator }))).toBe('ZeroAmount')
    expect(await revertName(d.registry.simulate.unstake([first.stake + 1n], { account: first.operator }))).toBe(
      'AmountAboveStake',
    )
    // What remains must be 0 or at least minStake (1 token).
    expect(await revertName(d.registry.simulate.unstake([first.stake - 1n], { account: first.operator }))).toBe(
      'StakeBelowMinimum',
    )

    const small = await deploy(chain, { maxMembers: 2 })
    await register(chain, small, registration('full-0', TOKEN))
    await register(chain, small, registration('full-1', TOKEN))
    const third = registration('full-2', TOKEN)
    await fund(chain, small, third.operator, TOKEN)
    expect(await registerRevert(small, third)).toBe('CommitteeFull')
  })
})

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
