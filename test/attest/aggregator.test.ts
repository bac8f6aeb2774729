import { describe, expect, it } from 'vitest'
import { Aggregator, type Receipt, type Rejection } from '../../src/attest/aggregator.ts'
import { type Attestation, signAttestation } from '../../src/attest/attestation.ts'
import { AttestErrorCode } from '../../src/attest/errors.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { kMax } from '../../src/committee/params.ts'
import { headerFor, memberSecretKey, realCommittee } from './helpers.ts'

const committee = realCommittee(Array.from({ length: 10 }, () => 10n))
const header = headerFor(committee)
const context = attestationContextOf(header)
const keys = committee.members.map((_, i) => memberSecretKey(i))
const attestationOf = (i: number) => signAttestation(keys[i]!, context)

function collect(aggregator: Aggregator) {
  const receipts: Receipt[] = []
  const rejections: Rejection[] = []
  aggregator.on('receipt', (r) => receipts.push(r))
  aggregator.on('rejection', (r) => rejections.push(r))
  return { receipts, rejections }
}

describe('Aggregator', () => {
  it('reports progress one attestation at a time and resolves at the threshold', async () => {
    const aggregator = new Aggregator({ committee, header })
    const { receipts } = collect(aggregator)
    let certified = 0
    aggregator.on('threshold', () => certified++)
    for (let i = 0; i < 6; i++) {
      const outcome = await aggregator.add(attestationOf(i))
      expect(outcome).toEqual({
        accepted: true,
        receipt: expect.objectContaining({ member: i, signedStake: BigInt(10 * (i + 1)) }),
      })
    }
    expect(aggregator.thresholdReached).toBe(false) // 60 of 100 is below 2/3
    expect(() => aggregator.certificate()).toThrow(
      expect.objectContaining({ code: AttestErrorCode.INSUFFICIENT_STAKE }),
    )
    await aggregator.add(attestationOf(6))
    const certificate = await aggregator.wait()
    expect(certificate.signedStake).toBe(70n)
    expect(verifyCertificate(certificate, committee).signers).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(receipts.map((r) => r.thresholdReached)).toEqual([false, false, false, false, false, false, true])
    // Later attestations still join the (current) certificate; the threshold event fired once.
    await aggregator.add(attestationOf(9))
    expect(verifyCertificate(aggregator.certificate(), committee).signedStake).toBe(80n)
    expect(certified).toBe(1)
  })

  it('verifies a burst in one batch and resolves exactly at the threshold', async () => {
    const exact = realCommittee([1n, 1n, 1n])
    const h = headerFor(exact, 'exact')
    const aggregator = new Aggregator({ committee: exact, header: h })
    const ctx = attestationContextOf(h)
    await Promise.all([0, 1].map((i) => aggregator.add(signAttestation(memberSecretKey(i), ctx))))
    const certificate = await aggregator.wait()
    expect(certificate.signedStake).toBe(2n) // exactly 2/3
    expect(verifyCertificate(certificate, exact).signers).toEqual([0, 1])
  })

  it('holds attestations for a shared check until they could complete the threshold', async () => {
    // A linger far beyond the test: only the threshold rule can release the first six.
    const aggregator = new Aggregator({ committee, header }, { lingerMs: 60_000 })
    const { receipts } = collect(aggregator)
    const early = [0, 1, 2, 3, 4, 5].map((i) => aggregator.add(attestationOf(i)))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(receipts).toHaveLength(0) // 60 of 100: waiting for company
    const started = performance.now()
    await aggregator.add(attestationOf(6)) // 70 could reach 2/3: all seven are checked at once
    expect(performance.now() - started).toBeLessThan(5_000)
    expect((await Promise.all(early)).every((o) => o.accepted)).toBe(true)
    expect(receipts.map((r) => r.member)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(verifyCertificate(await aggregator.wait(), committee).signedStake).toBe(70n)
    // After the threshold nothing lingers: a straggler is checked as it comes.
    const straggler = performance.now()
    expect((await aggregator.add(attestationOf(7))).accepted).toBe(true)
    expect(performance.now() - straggler).toBeLessThan(5_000)
    expect(aggregator.signedStake).toBe(80n)
  })

  it('checks a lone attestation once it has lingered, and at once with no linger', async () => {
    const lingering = new Aggregator({ committee, header }, { lingerMs: 150 })
    let started = performance.now()
    expect((await lingering.add(attestationOf(0))).accepted).toBe(true)
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    const eager = new Aggregator({ committee, header }, { lingerMs: 0 })
    started = performance.now()
    expect((await eager.add(attestationOf(0))).accepted).toBe(true)
    expect(performance.now() - started).toBeLessThan(140)
    expect(() => new Aggregator({ committee, header }, { lingerMs: -1 })).toThrow(
      expect.objectContaining({ code: AttestErrorCode.INVALID_OPTIONS }),
    )
  })

  it('counts each member once', async () => {
    const aggregator = new Aggregator({ committee, header })
    const { rejections } = collect(aggregator)
    // Same tick (both queued) and after acceptance.
    const outcomes = await Promise.all([aggregator.add(attestationOf(0)), aggregator.add(attestationOf(0))])
    expect(outcomes.map((o) => o.accepted)).toEqual([true, false])
    expect((await aggregator.add(attestationOf(0))).accepted).toBe(false)
    expect(aggregator.signedStake).toBe(10n)
    expect(aggregator.signerCount).toBe(1)
    expect(rejections.map((r) => [r.member, r.code])).toEqual([
      [0, AttestErrorCode.DUPLICATE_SIGNER],
      [0, AttestErrorCode.DUPLICATE_SIGNER],
    ])
  })

  it('refuses attestations for another network, epoch or blob, and from non-members', async () => {
    const aggregator = new Aggregator({ committee, header })
    const other = headerFor(committee, 'other blob')
    const cases: [Attestation, string][] = [
      [signAttestation(keys[0]!, { ...context, networkId: 2 }), AttestErrorCode.WRONG_NETWORK],
      [signAttestation(keys[0]!, { ...context, epoch: 1 }), AttestErrorCode.WRONG_EPOCH],
      [signAttestation(keys[0]!, attestationContextOf(other)), AttestErrorCode.WRONG_BLOB],
      [signAttestation(memberSecretKey('outsider'), context), AttestErrorCode.UNKNOWN_SIGNER],
      [{ ...attestationOf(0), signature: new Uint8Array(10) }, AttestErrorCode.MALFORMED_ATTESTATION],
    ]
    for (const [attestation, expected] of cases) {
      const outcome = await aggregator.add(attestation)
      expect(outcome).toEqual({ accepted: false, rejection: expect.objectContaining({ code: expected }) })
    }
    // Signed for another network/epoch/blob but claiming this one: the message is rebuilt, so it fails.
    for (const ctx of [{ ...context, networkId: 2 }, { ...context, epoch: 1 }, attestationContextOf(other)]) {
      const lying = {
        ...signAttestation(keys[1]!, ctx),
        networkId: context.networkId,
        epoch: context.epoch,
        blobId: context.blobId,
      }
      const outcome = await aggregator.add(lying)
      expect(outcome).toEqual({
        accepted: false,
        rejection: expect.objectContaining({ member: 1, code: AttestErrorCode.INVALID_SIGNATURE }),
      })
    }
    expect(aggregator.signedStake).toBe(0n)
    expect(aggregator.rejections).toHaveLength(8)
    // A member whose attestation failed may still send a good one.
    expect((await aggregator.add(attestationOf(1))).accepted).toBe(true)
  })

  it('falls back to single checks when a batch fails, and names the bad ones', async () => {
    const aggregator = new Aggregator({ committee, header }, { maxBatchSize: 8 })
    const batch = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(attestationOf)
    batch[3] = { ...batch[3]!, signature: batch[4]!.signature } // valid point, wrong signer
    const infinity = new Uint8Array(96)
    infinity[0] = 0xc0
    batch[8] = { ...batch[8]!, signature: infinity }
    const outcomes = await Promise.all(batch.map((a) => aggregator.add(a)))
    expect(outcomes.flatMap((o, i) => (o.accepted ? [] : [[i, o.rejection.code]]))).toEqual([
      [3, AttestErrorCode.INVALID_SIGNATURE],
      [8, AttestErrorCode.MALFORMED_SIGNATURE],
    ])
    expect(aggregator.signerCount).toBe(8)
    expect(verifyCertificate(aggregator.certificate(), committee).signedStake).toBe(80n)
  })

  it('certifies a blob of any safe (k, n), not only the default shape', async () => {
    const n = 1000
    const k = kMax(committee, n) // 333 - 9 = 324 for ten members at q - f = 1/3
    expect(k).toBe(324)
    const h = headerFor({ ...committee, encoding: { k, n } }, 'safe')
    const aggregator = new Aggregator({ committee, header: h })
    const ctx = attestationContextOf(h)
    await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => aggregator.add(signAttestation(keys[i]!, ctx))))
    const certificate = await aggregator.wait()
    expect(certificate.header).toMatchObject({ k, n })
    expect(verifyCertificate(certificate, committee).signedStake).toBe(70n)
  })

  it('refuses a blob of another network, epoch or encoding, and stops waiting on abort', async () => {
    for (const [patch, expected] of [
      [{ networkId: 9 }, AttestErrorCode.WRONG_NETWORK],
      [{ epoch: 4 }, AttestErrorCode.WRONG_EPOCH],
      [{ k: kMax(committee, header.n) + 1 }, AttestErrorCode.ENCODING_MISMATCH],
      [{ k: 20000, n: 65536 }, AttestErrorCode.ENCODING_MISMATCH], // k <= kMax(65536), not a shape of the code
    ] as const) {
      expect(() => new Aggregator({ committee, header: { ...header, ...patch } })).toThrow(
        expect.objectContaining({ code: expected }),
      )
    }
    expect(() => new Aggregator({ committee, header }, { maxBatchSize: 0 })).toThrow(
      expect.objectContaining({ code: AttestErrorCode.INVALID_OPTIONS }),
    )
    const aggregator = new Aggregator({ committee, header })
    const controller = new AbortController()
    const waiting = aggregator.wait(controller.signal)
    controller.abort()
    await expect(waiting).rejects.toThrow(expect.objectContaining({ code: AttestErrorCode.ABORTED }))
    await expect(aggregator.wait(AbortSignal.abort())).rejects.toThrow(
      expect.objectContaining({ code: AttestErrorCode.ABORTED }),
    )
  })
})
