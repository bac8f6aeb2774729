/**
 * DacnetRegistry on a real anvil: registration checks (key, proof of possession, peer id, multiaddrs), who may
 * register, stake and unstake, and the events of registration (PROTOCOL §4.2).
 */
import * as blst from '@chainsafe/blst'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { type Hex, numberToBytes } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  account,
  type Deployed,
  deploy,
  fund,
  hex,
  keysFromSecret,
  type MemberKeys,
  memberKeys,
  P,
  R,
  type Registration,
  register,
  registration,
  revertName,
  TOKEN,
} from './helpers.ts'
import { bytes48, chain, events, registerRevert, useChain, withFlags, write } from './registry-helpers.ts'

useChain()

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
