/**
 * Differential test: the contract against the TypeScript verifier, on one anvil and one deployment.
 *
 * A committee is registered on-chain and changed in each of the next two epochs, so epochs 1 and 2 (archived
 * records, 12 and 37 members) and 3–4 (the live record, 301 members) have real, different committees; both sides
 * judge against the committees `ChainCommitteeSource` reads from the registry. A seeded corpus (corpus.ts) of well
 * over 1,000 certificates — valid ones with random signer sets and safe (k, n), and every kind of wrong one — is
 * judged by `decodeCertificate` + `verifyCertificate` (against the committee of the epoch the certificate names; a
 * refusal or an unknown epoch is false), by the contract's `verifyCertificate` and `checkCertificate` on the on-chain
 * form, and by `checkOnchainCertificate`, the TypeScript reference of the contract's check. The verdicts must be equal for every item, and the reference's
 * reason code the contract's.
 *
 * The seed is random unless DACNET_DIFF_SEED is set, and every failure message names it:
 *   DACNET_DIFF_SEED=<seed> npx vitest run test/chain/differential.test.ts
 */
import { randomInt } from 'node:crypto'
import { createPublicClient, getContract, type Hex, http, maxUint256, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SecretKey } from '../../src/attest/bls.ts'
import { certificateSigners } from '../../src/attest/certificate.ts'
import { decodeCertificate } from '../../src/attest/certificate-codec.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { dacnetCertificateVerifierAbi } from '../../src/chain/artifacts/DacnetCertificateVerifier.ts'
import { ChainCommitteeSource } from '../../src/chain/committee-source.ts'
import { checkOnchainCertificate } from '../../src/chain/onchain-certificate.ts'
import { isDacnetError } from '../../src/errors.ts'
import {
  aggregateBySigners,
  CATEGORIES,
  type Category,
  type CorpusCommittee,
  type CorpusItem,
  generateCorpus,
  PLAN,
} from './corpus.ts'
import {
  type Chain,
  type Deployed,
  deploy,
  fund,
  mined,
  mineToEpoch,
  REGISTRY_GAS,
  type Registration,
  registerArgs,
  registration,
  startChain,
  TOKEN,
} from './helpers.ts'

const SEED =
  process.env['DACNET_DIFF_SEED'] !== undefined ? Number(process.env['DACNET_DIFF_SEED']) : randomInt(2 ** 32)
const REPLAY = `seed ${SEED} (replay: DACNET_DIFF_SEED=${SEED} npx vitest run test/chain/differential.test.ts)`
const NETWORK_ID = 11
/** Enough blocks for an epoch's changes (registrations are mined many to a block) to land in it. */
const EPOCH_BLOCKS = 40n
/** Calls in flight at once; the clients send them in JSON-RPC batches. */
const CALLS_AT_ONCE = 200

/**
 * Epoch 1's committee: stakes are whole tokens except two "dust" members of 1 and TOKEN − 1 wei, and the total is a
 * multiple of 3 tokens, so some signer sets hold exactly q·S = 2/3·S and others exactly q·S − 1 (corpus.ts).
 */
const EPOCH1_STAKES = [
  5n * TOKEN,
  1n,
  8n * TOKEN,
  10n * TOKEN,
  12n * TOKEN,
  TOKEN - 1n,
  15n * TOKEN,
  20n * TOKEN,
].concat([7n, 9n, 11n, 1n].map((u) => u * TOKEN))
/** Joining in epoch 1 (in force from epoch 2), in whole tokens; the last is set so the total is a multiple of 4. */
const EPOCH2_JOINING = Array.from({ length: 25 }, (_, i) => 1n + BigInt((i * 7) % 23))
/**
 * Joining in epoch 2 (in force from epoch 3): 301 members in all, so bitmaps span whole 32-byte words (the contract
 * skips words of signers 32 bytes at a time); the last is set so the total is a multiple of 3.
 */
const EPOCH3_JOINING = Array.from({ length: 264 }, (_, i) => 1n + BigInt((i * 13) % 29))

let chain: Chain
let d: Deployed
let source: ChainCommitteeSource
const byEpoch = new Map<number, CorpusCommittee & { summaryHash: Hex }>()
let currentEpoch: number
const keys = new Map<string, SecretKey>()

/**
 * Registers members quickly: with automine off, the deployer's token transfers are sent in nonce order and mined
 * together, then every operator's approval and registration (its nonces 0 and 1), a block holding as many as its gas
 * limit allows. The epoch's blocks are then few, and anvil mines empty blocks one by one, slowly.
 */
async function join(members: readonly Registration[]): Promise<void> {
  await Promise.all(members.map((r) => chain.testClient.setBalance({ address: r.operator.address, value: 10n ** 22n })))
  const fees = { maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 1n }
  await chain.testClient.setAutomine(false)
  try {
    let nonce = await chain.publicClient.getTransactionCount({ address: chain.deployer.address, blockTag: 'pending' })
    const transfers: Hex[] = []
    for (const r of members) {
      transfers.push(
        await d.token.write.transfer([r.operator.address, r.stake], {
          account: chain.deployer,
          chain: null,
          nonce: nonce++,
          gas: 100_000n,
          ...fees,
        }),
      )
    }
    await mineAll(transfers)
    const registrations: Hex[] = []
    for (const r of members) {
      keys.set(toHex(r.keys.publicKey), r.keys.secretKey)
      const options = { account: r.operator, chain: null, ...fees }
      registrations.push(
        await d.token.write.approve([d.deployment.registry, maxUint256], { ...options, nonce: 0, gas: 100_000n }),
        await d.registry.write.register(registerArgs(r), { ...options, nonce: 1, gas: REGISTRY_GAS }),
      )
    }
    await mineAll(registrations)
  } finally {
    await chain.testClient.setAutomine(true)
  }
}

/** Mines blocks until every transaction is in one, and checks that none reverted. */
async function mineAll(hashes: readonly Hex[]): Promise<void> {
  let pending = [...hashes]
  for (let blocks = 0; pending.length > 0; blocks++) {
    if (blocks > 100) throw new Error(`${pending.length} transactions not mined`)
    await chain.testClient.mine({ blocks: 1 })
    const receipts = await Promise.all(
      pending.map((hash) => chain.publicClient.getTransactionReceipt({ hash }).catch(() => undefined)),
    )
    for (const receipt of receipts) if (receipt) expect(receipt.status).toBe('success')
    pending = pending.filter((_, i) => receipts[i] === undefined)
  }
}

/** Whole-token stakes with the last raised so that, with `base` tokens more, the total is a multiple of `of`. */
function roundedUp(units: readonly bigint[], base: bigint, of: bigint): bigint[] {
  const out = [...units]
  const total = base + out.reduce((a, u) => a + u, 0n)
  out[out.length - 1]! += (of - (total % of)) % of
  return out.map((u) => u * TOKEN)
}

beforeAll(async () => {
  chain = await startChain()
  d = await deploy(chain, { networkId: NETWORK_ID, epochBlocks: EPOCH_BLOCKS, minStake: 1n, maxMembers: 512 })
  // Whole tokens (the two dust members make one).
  const tokens = (stakes: readonly bigint[]) => stakes.reduce((a, s) => a + s, 0n) / TOKEN

  // Epoch 0: the first committee (in force from epoch 1).
  const first = EPOCH1_STAKES.map((stake, i) => registration(`diff-a-${i}`, stake))
  await join(first)

  // Epoch 1: 25 members join, member 0 stakes 3 tokens more, q and f become 3/4 and 1/4 (in force from epoch 2).
  await mineToEpoch(chain, d, 1n)
  const second = roundedUp(EPOCH2_JOINING, tokens(EPOCH1_STAKES) + 3n, 4n).map((stake, i) =>
    registration(`diff-b-${i}`, stake),
  )
  await join(second)
  await fund(chain, d, first[0]!.operator, 3n * TOKEN)
  await mined(
    chain,
    await d.registry.write.addStake([3n * TOKEN], { account: first[0]!.operator, chain: null, gas: REGISTRY_GAS }),
  )
  await mined(
    chain,
    await d.registry.write.setThresholds([3n, 4n, 1n, 4n], { account: chain.deployer, chain: null, gas: 1_000_000n }),
  )

  // Epoch 2: 264 more join, q and f become 2/3 and 1/5 (in force from epoch 3, which epoch 4 shares).
  await mineToEpoch(chain, d, 2n)
  const before = tokens(EPOCH1_STAKES) + 3n + tokens(second.map((r) => r.stake))
  await join(roundedUp(EPOCH3_JOINING, before, 3n).map((stake, i) => registration(`diff-c-${i}`, stake)))
  await mined(
    chain,
    await d.registry.write.setThresholds([2n, 3n, 1n, 5n], { account: chain.deployer, chain: null, gas: 1_000_000n }),
  )
  await mineToEpoch(chain, d, 4n)

  source = new ChainCommitteeSource({
    rpcUrl: chain.anvil.rpcUrl,
    registry: d.deployment.registry,
    verifier: blsKeyVerifier,
    confirmations: 0,
    pollIntervalMs: 50,
  })
  await source.refresh()
  currentEpoch = await source.currentEpoch()
  for (let epoch = 0; epoch <= currentEpoch + 1; epoch++) {
    try {
      const committee = await source.getCommittee(epoch)
      const { recordIndex, summaryHash } = await source.committeeRecord(epoch)
      const secretKeys = committee.members.map((m) => keys.get(toHex(m.publicKey))!)
      byEpoch.set(epoch, { committee, recordIndex, summaryHash, secretKeys })
    } catch (err) {
      if (!isDacnetError(err, 'COMMITTEE_UNKNOWN_EPOCH')) throw err
    }
  }
}, 120_000)

afterAll(async () => {
  await source?.stop()
  await chain?.anvil.stop()
})

/** decodeCertificate + verifyCertificate against the chain source's committee of the epoch the bytes name. */
function offchainVerdict(binary: Uint8Array): { ok: boolean; code: string } {
  try {
    const certificate = decodeCertificate(binary)
    const c = byEpoch.get(certificate.epoch)
    if (!c) return { ok: false, code: 'COMMITTEE_UNKNOWN_EPOCH' }
    verifyCertificate(certificate, c.committee)
    return { ok: true, code: 'VALID' }
  } catch (err) {
    if (isDacnetError(err)) return { ok: false, code: err.code }
    throw err
  }
}

/**
 * checkOnchainCertificate against what the registry holds for the epoch the form names (the committee, its record
 * and summary hash), or, for an epoch with no committee, against the first committee (its epoch and record cannot
 * match, which is the contract's unknown epoch).
 */
function referenceReason(onchain: Uint8Array): number {
  const epoch = onchain.length >= 9 ? new DataView(onchain.buffer, onchain.byteOffset).getBigUint64(1) : undefined
  const fallback = byEpoch.get(Math.min(...byEpoch.keys()))!
  const c = (epoch !== undefined && epoch <= 2n ** 53n ? byEpoch.get(Number(epoch)) : undefined) ?? fallback
  return checkOnchainCertificate(onchain, c.committee, {
    recordIndex: c.recordIndex,
    summaryHash: Buffer.from(c.summaryHash.slice(2), 'hex'),
    currentEpoch,
  })
}

interface Outcome {
  readonly item: CorpusItem
  readonly offchain: boolean
  readonly offchainCode: string
  readonly contract: boolean
  readonly reason: number
  readonly reference: number
}

describe('contract and TypeScript verifier', () => {
  it('has committees on both sides of an epoch change, read from the registry', () => {
    expect([...byEpoch.keys()]).toEqual([1, 2, 3, 4])
    expect(currentEpoch).toBe(4)
    const [one, two, three, four] = [1, 2, 3, 4].map((e) => byEpoch.get(e)!)
    expect([one, two, three, four].map((c) => c!.committee.size)).toEqual([12, 37, 301, 301])
    expect([one, two, three, four].map((c) => c!.recordIndex)).toEqual([0, 1, 2, 2])
    expect(two!.committee.threshold).toEqual({ num: 3n, den: 4n })
    expect(three!.committee.adversary).toEqual({ num: 1n, den: 5n })
    expect(three!.summaryHash).toBe(four!.summaryHash)
    expect(new Set([one, two, three].map((c) => c!.summaryHash)).size).toBe(3)
    for (const c of byEpoch.values()) expect(c.secretKeys.every((k) => k !== undefined)).toBe(true)
  })

  it('agree on every certificate of a seeded corpus, and the reference check gives the contract reason', async () => {
    const started = performance.now()
    const items = generateCorpus({ byEpoch, currentEpoch, unit: TOKEN }, SEED)
    const generated = performance.now()

    // The corpus's one-signing aggregate signatures are the aggregates of each signer's attestation.
    for (const item of items.filter((i) => i.category === 'valid').slice(0, 8)) {
      const certificate = decodeCertificate(item.binary)
      const c = byEpoch.get(certificate.epoch)!
      const long = aggregateBySigners(c, certificate.header, certificateSigners(certificate))
      expect(Buffer.from(long).equals(Buffer.from(certificate.signature)), REPLAY).toBe(true)
    }

    const offchain = items.map((item) => offchainVerdict(item.binary))
    const reference = items.map((item) => referenceReason(item.onchain))
    const judged = performance.now()

    // Forms of the 301-member committee reach tens of kilobytes: smaller JSON-RPC batches than the helpers' keep
    // a batch's body within what anvil accepts.
    const client = createPublicClient({
      transport: http(chain.anvil.rpcUrl, { batch: { batchSize: 20, wait: 0 }, timeout: 120_000 }),
    })
    const verifier = getContract({
      address: d.deployment.verifier,
      abi: dacnetCertificateVerifierAbi,
      client,
    }).read
    const onchain: { ok: boolean; reason: number }[] = []
    for (let start = 0; start < items.length; start += CALLS_AT_ONCE) {
      const chunk = items.slice(start, start + CALLS_AT_ONCE)
      onchain.push(
        ...(await Promise.all(
          chunk.map(async (item) => {
            const bytes = toHex(item.onchain)
            const [ok, reason] = await Promise.all([
              verifier.verifyCertificate([bytes]),
              verifier.checkCertificate([bytes]),
            ])
            return { ok, reason }
          }),
        )),
      )
    }
    const called = performance.now()

    const outcomes: Outcome[] = items.map((item, i) => ({
      item,
      offchain: offchain[i]!.ok,
      offchainCode: offchain[i]!.code,
      contract: onchain[i]!.ok,
      reason: onchain[i]!.reason,
      reference: reference[i]!,
    }))
    console.log(summary(outcomes))
    console.log(
      `differential: ${items.length} items, ${REPLAY}; generated in ${ms(generated - started)}, ` +
        `judged off-chain in ${ms(judged - generated)}, on-chain in ${ms(called - judged)}`,
    )

    // The corpus is what it was meant to be: every category in its planned number, both verdicts in quantity.
    for (const category of CATEGORIES) {
      expect(items.filter((i) => i.category === category).length, `${category}, ${REPLAY}`).toBeGreaterThanOrEqual(
        PLAN[category],
      )
    }
    expect(items.length).toBeGreaterThanOrEqual(1000)
    const accepted = outcomes.filter((o) => o.offchain).length
    expect(accepted, REPLAY).toBeGreaterThanOrEqual(300)
    expect(outcomes.length - accepted, REPLAY).toBeGreaterThanOrEqual(700)
    const valid = items.filter((i) => i.category === 'valid')
    for (const tag of ['k=kMax', 'k<=3', 'dataSize=0', 'dataSize=max', 'all-signed', 'policy-shape']) {
      expect(valid.filter((i) => i.tags.includes(tag)).length, `valid items tagged ${tag}, ${REPLAY}`).toBeGreaterThan(
        3,
      )
    }
    for (const tag of ['same member count', 'other member count']) {
      expect(items.filter((i) => i.category === 'other-epoch' && i.tags.includes(tag)).length).toBeGreaterThan(3)
    }
    // Every kind of contract refusal shows up.
    const reasons = new Set(outcomes.map((o) => o.reason))
    for (const reason of [0, 1, 2, 3, 5, 7, 8]) expect(reasons.has(reason), `reason ${reason}, ${REPLAY}`).toBe(true)

    const disagreements = outcomes.filter(
      (o) => o.offchain !== o.contract || o.contract !== (o.reason === 0) || o.reference !== o.reason,
    )
    expect(disagreements.map(describeOutcome).slice(0, 10), REPLAY).toEqual([])
    const unintended = outcomes.filter((o) => o.offchain !== o.item.intended)
    expect(unintended.map(describeOutcome).slice(0, 10), REPLAY).toEqual([])
  }, 240_000)
})

const ms = (t: number) => `${(t / 1000).toFixed(1)} s`

function describeOutcome(o: Outcome): string {
  const hex = Buffer.from(o.item.onchain).toString('hex')
  return (
    `#${o.item.index} ${o.item.category}: ${o.item.note}; off-chain ${o.offchain} (${o.offchainCode}), ` +
    `contract ${o.contract} (reason ${o.reason}), reference reason ${o.reference}, intended ${o.item.intended}; ` +
    `on-chain form 0x${hex.length > 4000 ? `${hex.slice(0, 4000)}…` : hex}`
  )
}

/** Per category: items, verdicts, and the contract's reasons (reason:count). */
function summary(outcomes: readonly Outcome[]): string {
  const lines = [
    `${'category'.padEnd(20)} ${'items'.padStart(5)} ${'true'.padStart(5)} ${'false'.padStart(5)}  reasons`,
  ]
  for (const category of CATEGORIES) {
    const of = outcomes.filter((o) => o.item.category === (category as Category))
    const reasons = new Map<number, number>()
    for (const o of of) reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1)
    const list = [...reasons.entries()]
      .sort(([a], [b]) => a - b)
      .map(([r, n]) => `${r}:${n}`)
      .join(' ')
    const yes = of.filter((o) => o.contract).length
    lines.push(
      `${category.padEnd(20)} ${String(of.length).padStart(5)} ${String(yes).padStart(5)} ${String(of.length - yes).padStart(5)}  ${list}`,
    )
  }
  const yes = outcomes.filter((o) => o.contract).length
  lines.push(
    `${'total'.padEnd(20)} ${String(outcomes.length).padStart(5)} ${String(yes).padStart(5)} ${String(outcomes.length - yes).padStart(5)}`,
  )
  return lines.join('\n')
}
