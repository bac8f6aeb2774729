import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { describe, expect, it } from 'vitest'
import { Committee, type CommitteeInput, DEFAULT_RETENTION_SECONDS } from '../../src/committee/committee.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { parseFraction } from '../../src/committee/fraction.ts'
import type { MemberKeyVerifier } from '../../src/committee/member.ts'
import { normalizePeerId } from '../../src/committee/peer-id.ts'
import { MAX_TOTAL_STAKE } from '../../src/committee/validate.ts'
import { acceptAllKeys, fakeCommittee, fakeMember, peerIdFor } from './helpers.ts'

function build(change: (input: CommitteeInput) => void, verifier: MemberKeyVerifier = acceptAllKeys): Committee {
  const input: CommitteeInput = { networkId: 7, epoch: 3, members: [1n, 2n, 3n].map((s, i) => fakeMember(i, s)) }
  change(input)
  return new Committee(input, { verifier })
}

const code = (c: string) => expect.objectContaining({ code: c })

describe('Committee validation', () => {
  it('fills in the documented defaults and freezes', () => {
    const c = fakeCommittee([1n, 2n, 3n])
    expect(c.threshold).toEqual({ num: 2n, den: 3n })
    expect(c.adversary).toEqual({ num: 1n, den: 3n })
    expect(c.retentionSeconds).toBe(DEFAULT_RETENTION_SECONDS)
    expect(c.totalStake).toBe(6n)
    expect(c.size).toBe(3)
    expect(c.totalShards).toBeUndefined()
    // n per blob (§2.3): the smallest blob gets n = 16, kMax(16) = 5 - 3 + 1; a 1 MiB one 4 KiB shards at most.
    expect(c.shapeFor(0)).toEqual({ n: 16, k: 3 })
    expect(c.shapeFor(1 << 20)).toEqual({ n: 1024, k: 339 }) // 1 MiB / 339 = 3,094 bytes: shards of 3,136
    expect(Object.isFrozen(c)).toBe(true)
    expect(Object.isFrozen(c.members[0])).toBe(true)
  })

  it('refuses duplicate peer ids, also when written in another form', () => {
    expect(() =>
      build((i) => (i.members = [fakeMember(0, 1n), { ...fakeMember(1, 1n), peerId: peerIdFor('0') }])),
    ).toThrow(code(CommitteeErrorCode.DUPLICATE_PEER_ID))
    const multihash = base58btc.baseDecode(peerIdFor('0'))
    const asCid = CID.createV1(0x72, Digest.decode(multihash)).toString()
    expect(normalizePeerId(asCid)).toBe(peerIdFor('0'))
    expect(() => build((i) => (i.members = [fakeMember(0, 1n), { ...fakeMember(1, 1n), peerId: asCid }]))).toThrow(
      code(CommitteeErrorCode.DUPLICATE_PEER_ID),
    )
  })

  it('refuses duplicate public keys', () => {
    expect(() =>
      build((i) => (i.members = [fakeMember(0, 1n), { ...fakeMember(1, 1n), publicKey: fakeMember(0, 1n).publicKey }])),
    ).toThrow(code(CommitteeErrorCode.DUPLICATE_PUBLIC_KEY))
  })

  it('refuses a key whose negation (same x, sign bit 0x20 flipped) is listed, in either order', () => {
    const key = fakeMember(0, 1n).publicKey.slice()
    key[0] = 0x80 | (key[0]! & 0x1f) // a compressed, finite encoding with y's sign clear
    const negated = key.slice()
    negated[0]! ^= 0x20
    for (const [a, b] of [
      [key, negated],
      [negated, key],
    ] as const) {
      expect(() =>
        build(
          (i) =>
            (i.members = [
              { ...fakeMember(0, 1n), publicKey: a },
              fakeMember(1, 1n),
              { ...fakeMember(2, 1n), publicKey: b },
            ]),
        ),
      ).toThrow(
        expect.objectContaining({
          code: CommitteeErrorCode.NEGATED_PUBLIC_KEY,
          meta: { epoch: 3, member: 2, other: 0 },
        }),
      )
    }
    // Flags that do not encode a finite compressed point are left to the key checks (MALFORMED_KEY there).
    const infinityFlag = key.slice()
    infinityFlag[0]! |= 0x40
    const flipped = infinityFlag.slice()
    flipped[0]! ^= 0x20
    const lax = build(
      (i) =>
        (i.members = [
          { ...fakeMember(0, 1n), publicKey: infinityFlag },
          { ...fakeMember(1, 1n), publicKey: flipped },
        ]),
    )
    expect(lax.size).toBe(2)
  })

  it('refuses zero, negative and oversized stakes', () => {
    for (const stake of [0n, -5n]) {
      expect(() => build((i) => (i.members = [fakeMember(0, 1n), fakeMember(1, stake)]))).toThrow(
        code(CommitteeErrorCode.INVALID_STAKE),
      )
    }
    expect(() => build((i) => (i.members = [fakeMember(0, MAX_TOTAL_STAKE), fakeMember(1, 1n)]))).toThrow(
      code(CommitteeErrorCode.INVALID_STAKE),
    )
    expect(() => build((i) => (i.members = [{ ...fakeMember(0, 1n), stake: 1 as unknown as bigint }]))).toThrow(
      code(CommitteeErrorCode.INVALID_STAKE),
    )
  })

  it('refuses q <= f and thresholds outside [0, 1]', () => {
    expect(() => build((i) => (i.threshold = parseFraction('1/3')))).toThrow(
      code(CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY),
    )
    expect(() =>
      build((i) => {
        i.threshold = parseFraction('0.4')
        i.adversary = parseFraction('0.5')
      }),
    ).toThrow(code(CommitteeErrorCode.THRESHOLD_NOT_ABOVE_ADVERSARY))
    expect(() => build((i) => (i.threshold = parseFraction('4/3')))).toThrow(code(CommitteeErrorCode.INVALID_THRESHOLD))
    expect(() => build((i) => (i.threshold = { num: 1n, den: 0n }))).toThrow(code(CommitteeErrorCode.INVALID_THRESHOLD))
    expect(() => parseFraction('two thirds')).toThrow(code(CommitteeErrorCode.INVALID_THRESHOLD))
    expect(() => parseFraction('-1/3')).toThrow(code(CommitteeErrorCode.INVALID_THRESHOLD))
    expect(parseFraction('0.6667')).toEqual({ num: 6667n, den: 10000n })
    expect(parseFraction(' 4 / 6 ')).toEqual({ num: 2n, den: 3n })
  })

  it('refuses malformed keys, and what the key verifier refuses', () => {
    expect(() => build((i) => (i.members = [{ ...fakeMember(0, 1n), publicKey: new Uint8Array(47) }]))).toThrow(
      code(CommitteeErrorCode.MALFORMED_KEY),
    )
    expect(() => build((i) => (i.members = [{ ...fakeMember(0, 1n), proofOfPossession: new Uint8Array(95) }]))).toThrow(
      code(CommitteeErrorCode.INVALID_POP),
    )
    const refuse = (kind: 'malformed-key' | 'invalid-pop'): MemberKeyVerifier => ({
      checkKeys: (entries) => entries.map((_, i) => (i === 1 ? { kind, detail: 'no' } : undefined)),
    })
    expect(() => build(() => {}, refuse('malformed-key'))).toThrow(
      expect.objectContaining({ code: CommitteeErrorCode.MALFORMED_KEY, meta: { epoch: 3, member: 1 } }),
    )
    expect(() => build(() => {}, refuse('invalid-pop'))).toThrow(code(CommitteeErrorCode.INVALID_POP))
  })

  it('refuses bad peer ids, multiaddrs, member counts, network ids, epochs and retention', () => {
    expect(() => build((i) => (i.members = [{ ...fakeMember(0, 1n), peerId: 'not-a-peer' }]))).toThrow(
      code(CommitteeErrorCode.INVALID_PEER_ID),
    )
    expect(() => build((i) => (i.members = [{ ...fakeMember(0, 1n), peerId: 'QmXyz' }]))).toThrow(
      code(CommitteeErrorCode.INVALID_PEER_ID),
    )
    expect(() => build((i) => (i.members = [{ ...fakeMember(0, 1n), multiaddrs: ['ip4/1.2.3.4'] }]))).toThrow(
      code(CommitteeErrorCode.INVALID_MULTIADDR),
    )
    expect(() => build((i) => (i.members = []))).toThrow(code(CommitteeErrorCode.INVALID_MEMBER_COUNT))
    expect(() => build((i) => (i.networkId = 2 ** 32))).toThrow(code(CommitteeErrorCode.INVALID_NETWORK_ID))
    expect(() => build((i) => (i.epoch = -1))).toThrow(code(CommitteeErrorCode.INVALID_EPOCH))
    expect(() => build((i) => (i.retentionSeconds = 0))).toThrow(code(CommitteeErrorCode.INVALID_RETENTION))
  })

  it('checks sequencers', () => {
    expect(() => build((i) => (i.sequencers = [{}]))).toThrow(code(CommitteeErrorCode.INVALID_SEQUENCER))
    expect(() => build((i) => (i.sequencers = [{ peerId: peerIdFor('s') }, { peerId: peerIdFor('s') }]))).toThrow(
      code(CommitteeErrorCode.DUPLICATE_PEER_ID),
    )
    expect(() => build((i) => (i.sequencers = [{ publicKey: new Uint8Array(3) }]))).toThrow(
      code(CommitteeErrorCode.MALFORMED_KEY),
    )
    const c = build((i) => (i.sequencers = [{ peerId: peerIdFor('s') }, { publicKey: fakeMember(9, 1n).publicKey }]))
    expect(c.isSequencer({ peerId: peerIdFor('s') })).toBe(true)
    expect(c.isSequencer({ publicKey: fakeMember(9, 1n).publicKey })).toBe(true)
    expect(c.isSequencer({ peerId: peerIdFor('x'), publicKey: fakeMember(8, 1n).publicKey })).toBe(false)
  })

  it('looks members up and compares stake to q exactly', () => {
    const c = fakeCommittee([1n, 1n, 1n])
    expect(c.memberByPeerId(peerIdFor('1'))?.index).toBe(1)
    expect(c.memberByPublicKey(fakeMember(2, 1n).publicKey)?.index).toBe(2)
    expect(c.memberByPublicKey(new Uint8Array(48))).toBeUndefined()
    expect(c.reachesThreshold(2n)).toBe(true) // exactly 2/3
    expect(c.reachesThreshold(1n)).toBe(false)
    const big = fakeCommittee([10n ** 30n, 10n ** 30n, 10n ** 30n + 1n])
    // 2/3 of 3e30 + 1 is 2e30 + 2/3: 2e30 is just below it, 2e30 + 1 just above.
    expect(big.reachesThreshold(2n * 10n ** 30n)).toBe(false)
    expect(big.reachesThreshold(2n * 10n ** 30n + 1n)).toBe(true)
  })
})
