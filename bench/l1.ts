/**
 * L1 gas benchmarks (docs/PROTOCOL.md §4) on anvil (Prague): what verifying a certificate costs a contract that calls
 * DacnetCertificateVerifier, for committees of 16, 100, 128 and 1,000 members registered on-chain, all signing and
 * with 30% of the members absent (goals: <= 175,000 gas at 16 all signing, <= 300,000 at 100 with 30% absent), and
 * what refusing the forms that cost the most work costs (all members but one absent, all absent); the size
 * of the on-chain form and its calldata gas; what a registration costs (the first member, and the later ones); and
 * what a committee change costs when it is the first of its epoch (it archives a record) and later in the same
 * epoch. Gas is deterministic, so each figure is one run. Setup times go to stderr.
 * Run alone with `npm exec -- node bench/l1.ts`.
 */
import { createPublicClient, createTestClient, createWalletClient, http, keccak256, toBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { signAttestation } from '../src/attest/attestation.ts'
import { attestationContextOf } from '../src/attest/message.ts'
import { blsKeyVerifier } from '../src/attest/pop.ts'
import { verifyCertificate } from '../src/attest/verify-certificate.ts'
import { startAnvil } from '../src/chain/anvil.ts'
import { ChainCommitteeSource } from '../src/chain/committee-source.ts'
import { encodeOnchainCertificate } from '../src/chain/onchain-certificate.ts'
import { REGISTRY_GAS_LIMIT } from '../src/chain/registry-client.ts'
import type { Committee } from '../src/committee/committee.ts'
import type { BlobHeader } from '../src/erasure/header.ts'
import { shardSizeFor } from '../src/erasure/layout.ts'
import {
  type Chain,
  log,
  memberOf,
  mineToEpoch,
  NETWORK_ID,
  registerCommittee,
  seconds,
  sha256,
  TOKEN,
  waitFor,
} from './l1/chain.ts'
import { calldataGas, certificateOf, measure, spreadAbsent } from './l1/measure.ts'
import { type BenchRow, type BenchSuite, median, quantile } from './lib.ts'

const SUITE = 'l1'
/** 128: as many as EigenDA's mainnet operators when it measured its worst case (BENCHMARKS.md). */
const SIZES = [16, 100, 128, 1000] as const
/** The goals, in gas. */
const GOAL_16_ALL = 175_000
const GOAL_100_30 = 300_000

export const l1Bench: BenchSuite = async () => {
  const rows: BenchRow[] = []
  const row = (name: string, gas: bigint | number, extra: Partial<BenchRow> = {}): BenchRow => ({
    suite: SUITE,
    name,
    impl: 'dacnet',
    median: Number(gas),
    unit: 'gas',
    runs: 1,
    ...extra,
  })

  const anvil = await startAnvil()
  try {
    // Forms of 1,000 members reach 50 kB: small JSON-RPC batches keep a batch's body within what anvil accepts.
    const transport = http(anvil.rpcUrl, { batch: { batchSize: 20, wait: 0 }, timeout: 120_000 })
    const chain: Chain = {
      rpcUrl: anvil.rpcUrl,
      publicClient: createPublicClient({ transport, pollingInterval: 10, cacheTime: 0 }),
      walletClient: createWalletClient({ transport, pollingInterval: 10 }),
      testClient: createTestClient({ mode: 'anvil', transport, pollingInterval: 10 }),
      deployer: privateKeyToAccount(keccak256(toBytes('dacnet l1 bench deployer'))),
    }
    await chain.testClient.setBalance({ address: chain.deployer.address, value: 10n ** 24n })

    for (const size of SIZES) {
      const setupStart = performance.now()
      const members = Array.from({ length: size }, (_, i) => memberOf(size, i))
      log(`${size} member keys and proofs of possession made in ${seconds(performance.now() - setupStart)}`)
      const { deployment, registry, firstGas, laterGas } = await registerCommittee(chain, size, members)

      // Epoch 1: the committee registered in epoch 0 is in force (the live record, index 0).
      await mineToEpoch(chain, deployment, 1n)
      const source = new ChainCommitteeSource({
        rpcUrl: anvil.rpcUrl,
        registry: deployment.registry,
        verifier: blsKeyVerifier,
        confirmations: 0,
      })
      let committee: Committee
      let recordIndex: number
      try {
        committee = await source.getCommittee(1)
        recordIndex = (await source.committeeRecord(1)).recordIndex
      } finally {
        await source.stop()
      }
      const byKey = new Map(
        members.map((m) => [Buffer.from(m.secretKey.toPublicKey().toBytes(true)).toString('hex'), m]),
      )
      const keyOf = (i: number) => byKey.get(Buffer.from(committee.members[i]!.publicKey).toString('hex'))!.secretKey
      const dataSize = 128 * 1024
      const { k, n } = committee.shapeFor(dataSize)
      const header: BlobHeader = {
        version: 1,
        networkId: NETWORK_ID,
        epoch: 1,
        dataSize,
        k,
        n,
        shardSize: shardSizeFor(dataSize, k),
        root: sha256(`dacnet l1 bench blob ${size}`),
      }
      const context = attestationContextOf(header)
      const signatures = committee.members.map((m) => signAttestation(keyOf(m.index), context).signature)
      log(`${size} members: setup done in ${seconds(performance.now() - setupStart)}`)

      const range = (count: number) => new Set(Array.from({ length: count }, (_, i) => i))
      const cases: { label: string; absent: Set<number>; valid: boolean; goal?: number }[] = [
        { label: 'all signing', absent: new Set(), valid: true, ...(size === 16 ? { goal: GOAL_16_ALL } : {}) },
        {
          label: `${Math.round(0.3 * size)} absent (30%)`,
          absent: spreadAbsent(size, 0.3),
          valid: true,
          ...(size === 100 ? { goal: GOAL_100_30 } : {}),
        },
        // Refusals that still cost work: every member but one absent (the multiproof of m − 1 leaves is checked
        // before the stake falls short), and every member absent (refused before any non-signer is hashed).
        { label: `${size - 1} absent (refused: stake below q)`, absent: range(size - 1), valid: false },
        { label: `all ${size} absent (refused: no signer)`, absent: range(size), valid: false },
      ]
      for (const c of cases) {
        const certificate = certificateOf(committee, header, signatures, c.absent)
        if (c.valid) verifyCertificate(certificate, committee)
        const onchain = encodeOnchainCertificate(certificate, committee, { recordIndex })
        const verdict = await measure(chain, deployment, onchain)
        if (verdict.verified !== c.valid || verdict.reason !== (c.valid ? 0 : 7)) {
          throw new Error(`${size} members, ${c.label}: reason ${verdict.reason}`)
        }
        const calldata = calldataGas(onchain)
        // EIP-7623 (Prague): a transaction pays at least 21,000 + 10 per calldata token (a zero byte is one token,
        // another byte four), which for a large form is more than calldata and execution at the standard rate.
        const floor = 21_000 + (10 * calldata) / 4
        rows.push(
          row(`verifyCertificate ${size} members, ${c.label}`, verdict.gas, {
            ...(c.goal === undefined ? {} : { goal: c.goal, higherIsBetter: false }),
            extra: {
              verified: verdict.verified,
              reason: verdict.reason,
              nonSigners: c.absent.size,
              calldataBytes: onchain.length,
              calldataGas: calldata,
              eip7623FloorGas: floor,
              k,
              n,
              measuredWith: verdict.measuredWith,
            },
          }),
        )
        rows.push({
          ...row(`on-chain form ${size} members, ${c.label}`, onchain.length),
          unit: 'bytes',
          extra: {
            calldataGas: calldata,
            calldataGasRule: '16 per non-zero byte, 4 per zero byte',
            eip7623FloorGas: floor,
          },
        })
      }

      rows.push(row(`register, first member (${size}-member registry)`, firstGas))
      const later = laterGas.map(Number)
      rows.push({
        ...row(`register, members 2..${size} (median)`, median(later)),
        runs: later.length,
        extra: { min: Math.min(...later), p90: quantile(later, 0.9), max: Math.max(...later), last: later.at(-1) },
      })

      // Committee changes. Epoch 1's first registry transaction is an addStake: it records the epoch's start and
      // archives record 0. A second addStake in the same epoch does neither. In epoch 2 a setMultiaddrs (no
      // committee change) records the epoch's start first, so the addStake after it pays the archiving alone.
      const writer = (i: number) => ({ account: members[i]!.operator, chain: null, gas: REGISTRY_GAS_LIMIT })
      const addStake = async (i: number) => waitFor(chain, await registry.write.addStake([TOKEN], writer(i)))
      const firstOfEpoch = await addStake(0)
      const laterInEpoch = await addStake(1)
      await mineToEpoch(chain, deployment, 2n)
      const multiaddrs = await waitFor(
        chain,
        await registry.write.setMultiaddrs([['/dns4/member.example.org/tcp/4002']], writer(2)),
      )
      const archiving = await addStake(3)
      const records = await registry.read.committeeRecordCount()
      if (records !== 2n) throw new Error(`expected 2 archived records, found ${records}`)
      rows.push(
        row(`addStake, first committee change of epoch, first transaction too (${size} members)`, firstOfEpoch, {
          extra: { archives: true, recordsEpochStart: true },
        }),
        row(`addStake, first committee change of epoch, after another transaction (${size} members)`, archiving, {
          extra: { archives: true, recordsEpochStart: false, precedingSetMultiaddrsGas: Number(multiaddrs) },
        }),
        row(`addStake, later change in the same epoch (${size} members)`, laterInEpoch, {
          extra: { archives: false, recordsEpochStart: false },
        }),
      )
      log(`${size} members done in ${seconds(performance.now() - setupStart)}`)
    }
  } finally {
    await anvil.stop()
  }
  return rows
}

if (import.meta.main) {
  for (const r of await l1Bench()) console.log(JSON.stringify(r))
}
