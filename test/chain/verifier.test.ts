/**
 * DacnetCertificateVerifier on a real anvil, with certificates made by dacnet's own attest code for committees
 * registered on-chain, and the witness assembled here from PROTOCOL §4.5 (test/chain/helpers.ts): valid
 * certificates verify against live and archived records, everything else is refused with its reason code, every
 * single-bit flip of a valid on-chain form is refused, and the gas a caller pays is reported.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { getContract, toBytes } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signAttestation } from '../../src/attest/attestation.ts'
import { aggregateSignatures, decodeSignature, SIGNATURE_DST, signatureBytes } from '../../src/attest/bls.ts'
import { encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { attestationContextOf, attestationMessage } from '../../src/attest/message.ts'
import { bitmapFromSigners } from '../../src/attest/signer-bitmap.ts'
import { bls12381HarnessAbi, bls12381HarnessBytecode } from '../../src/chain/artifacts/Bls12381Harness.ts'
import { dacnetGasProbeAbi, dacnetGasProbeBytecode } from '../../src/chain/artifacts/DacnetGasProbe.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { headerFor } from '../attest/helpers.ts'
import {
  type Chain,
  type Deployed,
  deploy,
  fund,
  fundAll,
  hex,
  isSupportedShape,
  kMax,
  mined,
  mineToEpoch,
  nextPow2,
  onchainForm,
  type Registration,
  registerFunded,
  registration,
  type SummaryFields,
  startChain,
  summaryOf,
  TOKEN,
} from './helpers.ts'

const NETWORK_ID = 7
const Reason = {
  VALID: 0,
  MALFORMED: 1,
  WRONG_NETWORK: 2,
  UNKNOWN_EPOCH: 3,
  SUMMARY_MISMATCH: 4,
  MEMBER_COUNT_OR_ENCODING: 5,
  MEMBERS_ROOT: 6,
  STAKE: 7,
  SIGNATURE: 8,
} as const

let chain: Chain

beforeAll(async () => {
  chain = await startChain()
})

afterAll(async () => {
  await chain?.anvil.stop()
})

type Fraction = readonly [bigint, bigint]

/** A committee registered on-chain, as the test tracks it. */
interface Committee {
  readonly d: Deployed
  members: Registration[]
  q: Fraction
  f: Fraction
}

/** Deploys and registers `stakes` (all in epoch 0, several operators at once), then moves to epoch 1. */
async function committeeOf(label: string, stakes: readonly bigint[], minStake = TOKEN): Promise<Committee> {
  // Epochs long enough for all registrations (3 blocks each) to land in epoch 0.
  const d = await deploy(chain, { networkId: NETWORK_ID, minStake, epochBlocks: 400n })
  const members = stakes.map((stake, i) => registration(`${label}-${i}`, stake))
  await fundAll(chain, d, members)
  // One after the other: the registration order is the member order.
  for (const r of members) await registerFunded(chain, d, r)
  expect(await d.registry.read.committeeRecord([0n])).toEqual([expect.any(String), 1n, 2n ** 64n - 1n])
  await mineToEpoch(chain, d, 1n)
  return { d, members, q: [2n, 3n], f: [1n, 3n] }
}

function summary(c: Committee): SummaryFields {
  return summaryOf(
    c.members.map((r) => ({ x: r.keys.x, y: r.keys.y, stake: r.stake, publicKey: r.keys.publicKey })),
    c.q,
    c.f,
  )
}

/** The default shape of §2.3: n the smallest power of two >= max(16, 32m), k = kMax(n) stepped to a supported shape. */
function shapeFor(c: Committee): { k: number; n: number } {
  const m = c.members.length
  const n = Math.min(65536, nextPow2(Math.max(16, 32 * m)))
  let k = kMax(n, m, c.q, c.f)
  while (k >= 1 && !isSupportedShape(k, n - k)) k--
  return { k, n }
}

interface CertOptions {
  readonly epoch: bigint
  readonly record: number
  /** Members whose signatures are aggregated; the bitmap's signers unless `claimed` is given. */
  readonly signers: readonly number[]
  readonly claimed?: readonly number[]
  /** Signatures are made over this header's context (default: the certificate's own header). */
  readonly signedHeader?: BlobHeader
  readonly header?: Partial<BlobHeader>
  readonly signedStake?: bigint
  readonly memberCount?: number
  readonly seed?: string
}

/** A certificate made with dacnet's attest code, and its on-chain form with the witness of §4.5. */
function certify(c: Committee, options: CertOptions) {
  const epoch = Number(options.epoch)
  const header: BlobHeader = {
    ...headerFor({ networkId: NETWORK_ID, epoch, encoding: shapeFor(c) }, options.seed ?? 'blob'),
    ...options.header,
  }
  const context = attestationContextOf(options.signedHeader ?? header)
  const signature = signatureBytes(
    aggregateSignatures(
      options.signers.map((i) => decodeSignature(signAttestation(c.members[i]!.keys.secretKey, context).signature)),
    ),
  )
  const claimed = new Set(options.claimed ?? options.signers)
  const m = options.memberCount ?? c.members.length
  const certificate = encodeCertificate({
    version: 1,
    epoch,
    header,
    memberCount: m,
    signers: bitmapFromSigners(m, claimed),
    signature,
    signedStake: options.signedStake ?? c.members.reduce((sum, r, i) => (claimed.has(i) ? sum + r.stake : sum), 0n),
  })
  const members = c.members.map((r) => ({ x: r.keys.x, y: r.keys.y, stake: r.stake }))
  return { certificate, header, onchain: onchainForm(certificate, options.record, members, summary(c), claimed) }
}

async function check(c: Committee, onchain: Uint8Array): Promise<number> {
  return c.d.verifier.read.checkCertificate([hex(onchain)])
}

async function expectValid(c: Committee, onchain: Uint8Array): Promise<void> {
  expect(await check(c, onchain)).toBe(Reason.VALID)
  expect(await c.d.verifier.read.verifyCertificate([hex(onchain)])).toBe(true)
}

async function probe(c: Committee) {
  const hash = await chain.walletClient.deployContract({
    abi: dacnetGasProbeAbi,
    bytecode: dacnetGasProbeBytecode,
    args: [c.d.deployment.verifier],
    account: chain.deployer,
    chain: null,
  })
  const address = (await mined(chain, hash)).contractAddress!
  return getContract({ address, abi: dacnetGasProbeAbi, client: chain.publicClient })
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('a committee of 16', () => {
  let c: Committee

  beforeAll(async () => {
    c = await committeeOf(
      'v16',
      range(16).map(() => 32n * TOKEN),
    )
  })

  it('verifies a certificate all members signed, and one with non-signers, against the live record', async () => {
    await expectValid(c, certify(c, { epoch: 1n, record: 0, signers: range(16) }).onchain)
    // 11 of 16 equal stakes: 11/16 >= 2/3.
    const some = range(16).filter((i) => ![0, 5, 6, 11, 15].includes(i))
    await expectValid(c, certify(c, { epoch: 1n, record: 0, signers: some }).onchain)
    // 10 of 16 are below 2/3.
    const few = range(10).map((i) => i + 3)
    expect(await check(c, certify(c, { epoch: 1n, record: 0, signers: few }).onchain)).toBe(Reason.STAKE)
  })

  it('reports the gas a caller pays for 16 members all signing', async () => {
    const gasProbe = await probe(c)
    const [ok, gas] = await gasProbe.read.measure([
      hex(certify(c, { epoch: 1n, record: 0, signers: range(16) }).onchain),
    ])
    expect(ok).toBe(true)
    console.log(`gas: verifyCertificate, 16 members all signing: ${gas}`)
  })

  it('matches @noble/curves for the hash to G2 of a certificate that verifies', async () => {
    const { header, onchain } = certify(c, { epoch: 1n, record: 0, signers: range(16), seed: 'noble' })
    await expectValid(c, onchain)
    const hash = await chain.walletClient.deployContract({
      abi: bls12381HarnessAbi,
      bytecode: bls12381HarnessBytecode,
      account: chain.deployer,
      chain: null,
    })
    const harness = getContract({
      address: (await mined(chain, hash)).contractAddress!,
      abi: bls12381HarnessAbi,
      client: chain.publicClient,
    })
    const fp = (v: bigint) => v.toString(16).padStart(128, '0')
    for (const message of [
      attestationMessage(attestationContextOf(header)),
      new Uint8Array(32),
      toBytes(`0x${'ff'.repeat(32)}`),
    ]) {
      const point = bls12_381.G2.hashToCurve(message, { DST: SIGNATURE_DST }).toAffine()
      expect(await harness.read.hashToG2([hex(message)])).toBe(
        `0x${fp(point.x.c0)}${fp(point.x.c1)}${fp(point.y.c0)}${fp(point.y.c1)}`,
      )
    }
  })

  it('refuses a wrong signer set, a wrong signed stake, no signers, and a member count that is not the committee', async () => {
    // Signed by 0..11, claimed by 1..12: the stakes add up, the pairing does not.
    const swapped = certify(c, { epoch: 1n, record: 0, signers: range(12), claimed: range(12).map((i) => i + 1) })
    expect(await check(c, swapped.onchain)).toBe(Reason.SIGNATURE)
    const short = certify(c, { epoch: 1n, record: 0, signers: range(16), signedStake: 16n * 32n * TOKEN - 1n })
    expect(await check(c, short.onchain)).toBe(Reason.STAKE)
    const over = certify(c, { epoch: 1n, record: 0, signers: range(16), signedStake: 16n * 32n * TOKEN + 1n })
    expect(await check(c, over.onchain)).toBe(Reason.STAKE)
    const nobody = certify(c, { epoch: 1n, record: 0, signers: [0], claimed: [] })
    expect(await check(c, nobody.onchain)).toBe(Reason.STAKE)
    // A bitmap over 17 members (the 17th not signing) with a well-formed witness for it: the summary says 16.
    const wider = certify(c, { epoch: 1n, record: 0, signers: range(16), memberCount: 17 })
    const extra = { x: c.members[0]!.keys.x, y: c.members[0]!.keys.y, stake: 1n }
    const members = [...c.members.map((r) => ({ x: r.keys.x, y: r.keys.y, stake: r.stake })), extra]
    const widerForm = onchainForm(wider.certificate, 0, members, summary(c), new Set(range(16)))
    expect(await check(c, widerForm)).toBe(Reason.MEMBER_COUNT_OR_ENCODING)
    expect(await check(c, wider.onchain)).toBe(Reason.MALFORMED)
  })

  it('refuses another network, another epoch, an epoch to come and a record that does not hold the epoch', async () => {
    const other = certify(c, { epoch: 1n, record: 0, signers: range(16), header: { networkId: NETWORK_ID + 1 } })
    expect(await check(c, other.onchain)).toBe(Reason.WRONG_NETWORK)
    // Signed for epoch 1, presented as epoch 0 (no committee) and as epoch 1 of another blob.
    const signedHeader = certify(c, { epoch: 1n, record: 0, signers: range(16) }).header
    expect(await check(c, certify(c, { epoch: 0n, record: 0, signers: range(16), signedHeader }).onchain)).toBe(
      Reason.UNKNOWN_EPOCH,
    )
    const otherBlob = certify(c, { epoch: 1n, record: 0, signers: range(16), signedHeader, seed: 'other' })
    expect(await check(c, otherBlob.onchain)).toBe(Reason.SIGNATURE)
    expect(await check(c, certify(c, { epoch: 2n, record: 0, signers: range(16) }).onchain)).toBe(Reason.UNKNOWN_EPOCH)
    expect(await check(c, certify(c, { epoch: 1n, record: 1, signers: range(16) }).onchain)).toBe(Reason.UNKNOWN_EPOCH)
    expect(await check(c, certify(c, { epoch: 1n, record: 2 ** 32 - 1, signers: range(16) }).onchain)).toBe(
      Reason.UNKNOWN_EPOCH,
    )
  })

  it('refuses (k, n) that are not safe for the committee or not a supported shape', async () => {
    const { k, n } = shapeFor(c)
    const unsafe = certify(c, { epoch: 1n, record: 0, signers: range(16), header: { k: k + 1, shardSize: 64 } })
    expect(await check(c, unsafe.onchain)).toBe(Reason.MEMBER_COUNT_OR_ENCODING)
    const smaller = certify(c, {
      epoch: 1n,
      record: 0,
      signers: range(16),
      header: { k: 1, n: n / 2, shardSize: 1024 },
    })
    await expectValid(c, smaller.onchain)
    // (3, 65533): k is far below kMax(65536), but m(3) + 65533 > 65536.
    const shape = certify(c, { epoch: 1n, record: 0, signers: range(16), header: { k: 3, n: 65536, shardSize: 384 } })
    expect(await check(c, shape.onchain)).toBe(Reason.MEMBER_COUNT_OR_ENCODING)
    const supported = certify(c, {
      epoch: 1n,
      record: 0,
      signers: range(16),
      header: { k: 4, n: 65536, shardSize: 256 },
    })
    await expectValid(c, supported.onchain)
  })

  it('refuses truncated and padded forms, and a witness that does not match the registry', async () => {
    const { onchain } = certify(c, { epoch: 1n, record: 0, signers: range(15) })
    await expectValid(c, onchain)
    expect(await check(c, onchain.subarray(0, onchain.length - 1))).toBe(Reason.MALFORMED)
    expect(await check(c, onchain.subarray(0, onchain.length - 32))).toBe(Reason.MEMBERS_ROOT)
    expect(await check(c, new Uint8Array([...onchain, 0]))).toBe(Reason.MALFORMED)
    expect(await check(c, new Uint8Array([...onchain, ...new Uint8Array(32)]))).toBe(Reason.MEMBERS_ROOT)
    const all = certify(c, { epoch: 1n, record: 0, signers: range(16) }).onchain
    expect(await check(c, new Uint8Array([...all, ...new Uint8Array(32)]))).toBe(Reason.MALFORMED)
    for (const garbage of [new Uint8Array(0), new Uint8Array(206), new Uint8Array(5000).fill(0xff)]) {
      expect(await check(c, garbage)).toBe(Reason.MALFORMED)
    }
    // A summary with other thresholds (q.num's last byte changed): its hash is not the record's.
    const summaryAt = 206 + 2 + 101
    const tampered = all.slice()
    tampered[summaryAt + 164 + 7]! ^= 1
    expect(await check(c, tampered)).toBe(Reason.SUMMARY_MISMATCH)
  })

  it('counts non-signers across whole bitmap words, and refuses a bitmap its witness cannot pay for', async () => {
    const valid = certify(c, { epoch: 1n, record: 0, signers: range(16) }).certificate
    // A certificate over m members with this bitmap, then a witness of `nonSigners` entries (zeros): the
    // summary is not the record's (4) when the lengths agree with the bitmap, malformed (1) when they do not.
    const form = (m: number, bitmap: Uint8Array, nonSigners: number) => {
      const head = valid.slice(0, 206)
      new DataView(head.buffer).setUint32(202, m)
      const witness = new Uint8Array(297 + 128 * nonSigners)
      witness[0] = 1
      return new Uint8Array([...head, ...bitmap, ...witness])
    }
    const full = new Uint8Array(64).fill(0xff)
    expect(await check(c, form(512, full, 0))).toBe(Reason.SUMMARY_MISMATCH)
    const one = full.slice()
    one[32] = 0xfe // member 256, the first of the second word
    expect(await check(c, form(512, one, 1))).toBe(Reason.SUMMARY_MISMATCH)
    expect(await check(c, form(512, one, 0))).toBe(Reason.MALFORMED)
    const eight = full.slice()
    eight[3] = 0
    eight[63] = 0x7f
    expect(await check(c, form(512, eight, 9))).toBe(Reason.SUMMARY_MISMATCH)
    expect(await check(c, form(512, eight, 8))).toBe(Reason.MALFORMED)
    // 65536 non-signers and a witness for one: refused without reading the rest of the bitmap into memory.
    expect(await check(c, form(65536, new Uint8Array(8192), 1))).toBe(Reason.MALFORMED)
  })

  it('keeps verifying certificates of a record after it is archived, and verifies the next record', async () => {
    const before = certify(c, { epoch: 1n, record: 0, signers: range(16) }).onchain
    await mineToEpoch(chain, c.d, 2n)
    const staker = c.members[3]!
    await fund(chain, c.d, staker.operator, TOKEN)
    await mined(chain, await c.d.registry.write.addStake([TOKEN], { account: staker.operator, chain: null }))
    expect(await c.d.registry.read.committeeRecord([0n])).toEqual([expect.any(String), 1n, 2n])
    await expectValid(c, before)
    const second = certify(c, { epoch: 2n, record: 0, signers: range(16) })
    await expectValid(c, second.onchain)
    // Signed for epoch 2, presented for epoch 1 of the same committee: the message differs.
    const signedHeader = second.header
    const relabelled = certify(c, { epoch: 1n, record: 0, signers: range(16), signedHeader })
    expect(await check(c, relabelled.onchain)).toBe(Reason.SIGNATURE)
    c.members[3] = { ...staker, stake: staker.stake + TOKEN }
    // Epoch 3 is the new committee's (record 1); record 0 does not hold it.
    await mineToEpoch(chain, c.d, 3n)
    await expectValid(c, certify(c, { epoch: 3n, record: 1, signers: range(16) }).onchain)
    expect(await check(c, certify(c, { epoch: 3n, record: 0, signers: range(16) }).onchain)).toBe(Reason.UNKNOWN_EPOCH)
  })
})

describe('the threshold', () => {
  it('accepts signed stake exactly at q and refuses it one unit short', async () => {
    // Small integer stakes so that q can be set to exactly the signers' share: S = 100.
    const c = await committeeOf('vq', [10n, 20n, 30n, 40n], 1n)
    await mined(
      chain,
      await c.d.registry.write.setThresholds([9n, 10n, 1n, 3n], { account: chain.deployer, chain: null }),
    )
    // The thresholds take effect from the next epoch: epoch 1 still has 2/3.
    await mineToEpoch(chain, c.d, 2n)
    c.q = [9n, 10n]
    const signers = [1, 2, 3] // 90 of 100
    await expectValid(c, certify(c, { epoch: 2n, record: 1, signers }).onchain)
    await mined(
      chain,
      await c.d.registry.write.setThresholds([91n, 100n, 1n, 3n], { account: chain.deployer, chain: null }),
    )
    await mineToEpoch(chain, c.d, 3n)
    c.q = [91n, 100n]
    expect(await check(c, certify(c, { epoch: 3n, record: 2, signers }).onchain)).toBe(Reason.STAKE)
    await expectValid(c, certify(c, { epoch: 3n, record: 2, signers: [0, 1, 2, 3] }).onchain)
  })
})

describe('bit flips', () => {
  it('refuses every single-bit flip of a valid on-chain form', async () => {
    const c = await committeeOf('vflip', [3n * TOKEN, 2n * TOKEN, 4n * TOKEN])
    // Member 1 does not sign: the form has a non-signer and a proof hash.
    const { onchain } = certify(c, { epoch: 1n, record: 0, signers: [0, 2] })
    await expectValid(c, onchain)
    const codes: number[] = []
    // A hundred calls at a time, which the client sends as one JSON-RPC batch.
    for (let start = 0; start < onchain.length * 8; start += 100) {
      const bits = range(Math.min(100, onchain.length * 8 - start)).map((i) => start + i)
      codes.push(
        ...(await Promise.all(
          bits.map((bit) => {
            const flipped = onchain.slice()
            flipped[bit >> 3]! ^= 1 << (bit & 7)
            return check(c, flipped)
          }),
        )),
      )
    }
    expect(codes.length).toBe(onchain.length * 8)
    const accepted = codes.flatMap((code, bit) => (code === Reason.VALID ? [bit] : []))
    expect(accepted).toEqual([])
  })
})

describe('a committee of 100', () => {
  it('verifies a certificate with 30 non-signers and reports its gas', async () => {
    const c = await committeeOf(
      'v100',
      range(100).map((i) => BigInt(10 + (i % 7)) * TOKEN),
    )
    // Absent: every third member up to 90, which leaves well above 2/3 of the stake.
    const absent = new Set(range(30).map((i) => 3 * i))
    const signers = range(100).filter((i) => !absent.has(i))
    const { onchain } = certify(c, { epoch: 1n, record: 0, signers })
    await expectValid(c, onchain)
    const [ok, gas] = await (await probe(c)).read.measure([hex(onchain)])
    expect(ok).toBe(true)
    console.log(`gas: verifyCertificate, 100 members, 30 non-signers: ${gas} (${onchain.length} bytes)`)
    const all = certify(c, { epoch: 1n, record: 0, signers: range(100) }).onchain
    const [allOk, allGas] = await (await probe(c)).read.measure([hex(all)])
    expect(allOk).toBe(true)
    console.log(`gas: verifyCertificate, 100 members all signing: ${allGas}`)
  })
})
