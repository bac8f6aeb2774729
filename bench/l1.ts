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
import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  getContract,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  maxUint256,
  type PublicClient,
  toBytes,
  toHex,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { signAttestation } from '../src/attest/attestation.ts'
import { aggregateSignatures, decodeSignature, type SecretKey, secretKeyFromIkm } from '../src/attest/bls.ts'
import type { Certificate } from '../src/attest/certificate.ts'
import { attestationContextOf } from '../src/attest/message.ts'
import { blsKeyVerifier } from '../src/attest/pop.ts'
import { bitmapFromSigners } from '../src/attest/signer-bitmap.ts'
import { verifyCertificate } from '../src/attest/verify-certificate.ts'
import { startAnvil } from '../src/chain/anvil.ts'
import { dacnetCertificateVerifierAbi } from '../src/chain/artifacts/DacnetCertificateVerifier.ts'
import { dacnetGasProbeAbi, dacnetGasProbeBytecode } from '../src/chain/artifacts/DacnetGasProbe.ts'
import { dacnetRegistryAbi } from '../src/chain/artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi } from '../src/chain/artifacts/DacnetToken.ts'
import { ChainCommitteeSource } from '../src/chain/committee-source.ts'
import { type DacnetDeployment, deployDacnet } from '../src/chain/deploy.ts'
import { encodeOnchainCertificate } from '../src/chain/onchain-certificate.ts'
import { REGISTRY_GAS_LIMIT, registerArguments, verifyOnchain } from '../src/chain/registry-client.ts'
import type { Committee } from '../src/committee/committee.ts'
import type { BlobHeader } from '../src/erasure/header.ts'
import { shardSizeFor } from '../src/erasure/layout.ts'
import { type BenchRow, type BenchSuite, median, quantile } from './lib.ts'

const SUITE = 'l1'
/** 128: as many as EigenDA's mainnet operators when it measured its worst case (BENCHMARKS.md). */
const SIZES = [16, 100, 128, 1000] as const
/** The goals, in gas. */
const GOAL_16_ALL = 175_000
const GOAL_100_30 = 300_000
const TOKEN = 10n ** 18n
const STAKE = 32n * TOKEN
const NETWORK_ID = 1
/** Enough blocks for 1,000 registrations (up to 20 in a block at the registry's gas limit) to land in epoch 0. */
const EPOCH_BLOCKS = 100n
const FEES = { maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 1n }

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const log = (text: string) => process.stderr.write(`l1: ${text}\n`)
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** Calldata gas of bytes as a transaction pays it: 16 per non-zero byte, 4 per zero byte. */
export function calldataGas(bytes: Uint8Array): number {
  let gas = 0
  for (const b of bytes) gas += b === 0 ? 4 : 16
  return gas
}

interface Member {
  readonly secretKey: SecretKey
  readonly operator: LocalAccount
  readonly peerId: string
}

function memberOf(size: number, i: number): Member {
  return {
    secretKey: secretKeyFromIkm(sha256(`dacnet l1 bench ${size} member ${i}`)),
    operator: privateKeyToAccount(keccak256(toBytes(`dacnet l1 bench ${size} operator ${i}`))),
    peerId: base58btc.baseEncode(
      new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...sha256(`dacnet l1 bench ${size} peer ${i}`)]),
    ),
  }
}

interface Chain {
  readonly rpcUrl: string
  readonly publicClient: PublicClient
  readonly walletClient: WalletClient
  readonly testClient: ReturnType<typeof createTestClient>
  readonly deployer: LocalAccount
}

/** Mines blocks until every transaction is in one; returns their receipts' gas, in the order given. */
async function mineAll(chain: Chain, hashes: readonly Hex[]): Promise<bigint[]> {
  const gas = new Map<Hex, bigint>()
  let pending = [...hashes]
  for (let blocks = 0; pending.length > 0; blocks++) {
    if (blocks > Number(EPOCH_BLOCKS)) throw new Error(`${pending.length} transactions not mined`)
    await chain.testClient.mine({ blocks: 1 })
    const receipts = await Promise.all(
      pending.map((hash) => chain.publicClient.getTransactionReceipt({ hash }).catch(() => undefined)),
    )
    for (const receipt of receipts) {
      if (!receipt) continue
      if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`)
      gas.set(receipt.transactionHash, receipt.gasUsed)
    }
    pending = pending.filter((_, i) => receipts[i] === undefined)
  }
  return hashes.map((hash) => gas.get(hash)!)
}

async function waitFor(chain: Chain, hash: Hex): Promise<bigint> {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 })
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
  return receipt.gasUsed
}

async function mineToEpoch(chain: Chain, deployment: DacnetDeployment, epoch: bigint): Promise<void> {
  const first = deployment.deploymentBlock + epoch * deployment.epochBlocks
  const latest = await chain.publicClient.getBlockNumber({ cacheTime: 0 })
  if (first > latest) await chain.testClient.mine({ blocks: Number(first - latest) })
}

/**
 * Deploys a registry and registers `size` members: the first alone (automine), then the rest with automine off —
 * the deployer's transfers in nonce order, mined together, then every operator's approval and registration (its
 * nonces 0 and 1), as many to a block as the block's gas limit takes. Returns each registration's gas.
 */
async function registerCommittee(chain: Chain, size: number, members: readonly Member[]) {
  const deployment = await deployDacnet({
    clients: { publicClient: chain.publicClient, walletClient: chain.walletClient },
    account: chain.deployer,
    networkId: NETWORK_ID,
    epochBlocks: EPOCH_BLOCKS,
    minStake: TOKEN,
    maxMembers: 1024,
    retentionSeconds: 3600n,
  })
  const token = getContract({
    address: deployment.token,
    abi: dacnetTokenAbi,
    client: { public: chain.publicClient, wallet: chain.walletClient },
  })
  const registry = getContract({
    address: deployment.registry,
    abi: dacnetRegistryAbi,
    client: { public: chain.publicClient, wallet: chain.walletClient },
  })
  await Promise.all(members.map((m) => chain.testClient.setBalance({ address: m.operator.address, value: 10n ** 22n })))
  const args = members.map((m) =>
    registerArguments({
      secretKey: m.secretKey,
      peerId: m.peerId,
      multiaddrs: [`/dns4/member.example.org/tcp/4001`],
      stake: STAKE,
    }),
  )
  // Each operator gets stake for its registration and for the committee changes measured later.
  const fund = async (from: number, to: number) => {
    let nonce = await chain.publicClient.getTransactionCount({ address: chain.deployer.address, blockTag: 'pending' })
    const hashes: Hex[] = []
    for (const m of members.slice(from, to)) {
      hashes.push(
        await token.write.transfer([m.operator.address, 2n * STAKE], {
          account: chain.deployer,
          chain: null,
          nonce: nonce++,
          gas: 100_000n,
          ...FEES,
        }),
      )
    }
    return hashes
  }
  const register = async (i: number) => {
    const options = { account: members[i]!.operator, chain: null, ...FEES }
    const approval = await token.write.approve([deployment.registry, maxUint256], {
      ...options,
      nonce: 0,
      gas: 100_000n,
    })
    const registration = await registry.write.register(args[i]!, { ...options, nonce: 1, gas: REGISTRY_GAS_LIMIT })
    return { approval, registration }
  }

  // The first member, into an empty registry.
  const started = performance.now()
  await waitFor(chain, (await fund(0, 1))[0]!)
  const first = await register(0)
  await waitFor(chain, first.approval)
  const firstGas = await waitFor(chain, first.registration)

  await chain.testClient.setAutomine(false)
  let laterGas: bigint[]
  try {
    await mineAll(chain, await fund(1, size))
    const sent: { approval: Hex; registration: Hex }[] = []
    for (let i = 1; i < size; i++) sent.push(await register(i))
    const gas = await mineAll(
      chain,
      sent.flatMap((s) => [s.approval, s.registration]),
    )
    laterGas = gas.filter((_, j) => j % 2 === 1)
  } finally {
    await chain.testClient.setAutomine(true)
  }
  const count = await registry.read.memberCount()
  if (count !== size) throw new Error(`registered ${count} members, not ${size}`)
  const block = await chain.publicClient.getBlockNumber({ cacheTime: 0 })
  if (block >= deployment.deploymentBlock + EPOCH_BLOCKS) throw new Error('registrations ran past epoch 0')
  log(`${size} members registered in ${seconds(performance.now() - started)}`)
  return { deployment, registry, firstGas, laterGas }
}

/**
 * The verifier's verdict and the gas a calling contract pays, measured with `verifyOnchain` (a DacnetGasProbe whose
 * code is put in place for one eth_call), and checked against the same probe deployed for real: the two must agree.
 */
async function measure(
  chain: Chain,
  deployment: DacnetDeployment,
  onchain: Uint8Array,
): Promise<{ verified: boolean; reason: number; gas: bigint; measuredWith: string }> {
  const [deployed, verdict] = await Promise.all([
    measureDeployed(chain, deployment, onchain),
    verifyOnchain(chain.publicClient, deployment.verifier, onchain),
  ])
  if (verdict.gas !== deployed.gas || verdict.verified !== deployed.verified || verdict.reason !== deployed.reason) {
    throw new Error(`verifyOnchain says ${verdict.gas} gas, a deployed probe ${deployed.gas}`)
  }
  return { ...verdict, measuredWith: 'verifyOnchain, checked against a deployed probe' }
}

/** The verdict and gas from a DacnetGasProbe deployed next to the verifier. */
async function measureDeployed(
  chain: Chain,
  deployment: DacnetDeployment,
  onchain: Uint8Array,
): Promise<{ verified: boolean; reason: number; gas: bigint }> {
  const probe = await deployedProbe(chain, deployment)
  const bytes = toHex(onchain)
  const [reason, [verified, gas]] = await Promise.all([
    chain.publicClient.readContract({
      address: deployment.verifier,
      abi: dacnetCertificateVerifierAbi,
      functionName: 'checkCertificate',
      args: [bytes],
    }),
    probe.read.measure([bytes]),
  ])
  return { verified, reason: Number(reason), gas }
}

const probes = new Map<string, ReturnType<typeof probeAt>>()

function probeAt(chain: Chain, address: Hex) {
  return getContract({ address, abi: dacnetGasProbeAbi, client: chain.publicClient })
}

async function deployedProbe(chain: Chain, deployment: DacnetDeployment) {
  let probe = probes.get(deployment.verifier)
  if (!probe) {
    const hash = await chain.walletClient.deployContract({
      abi: dacnetGasProbeAbi,
      bytecode: dacnetGasProbeBytecode,
      args: [deployment.verifier],
      account: chain.deployer,
      chain: null,
    })
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 })
    probe = probeAt(chain, receipt.contractAddress!)
    probes.set(deployment.verifier, probe)
  }
  return probe
}

/** Non-signers spread evenly over the member order: round(share·m) of them. */
function spreadAbsent(size: number, share: number): Set<number> {
  const count = Math.round(share * size)
  return new Set(Array.from({ length: count }, (_, j) => Math.floor((j * size) / count)))
}

function certificateOf(
  committee: Committee,
  header: BlobHeader,
  signatures: readonly Uint8Array[],
  absent: ReadonlySet<number>,
): Certificate {
  const signers = committee.members.map((m) => m.index).filter((i) => !absent.has(i))
  // With no signer the bitmap is empty; the signature is then member 0's (the form needs a valid point).
  const signing = signers.length > 0 ? signers : [0]
  return {
    version: 1,
    epoch: committee.epoch,
    header,
    memberCount: committee.size,
    signers: bitmapFromSigners(committee.size, signers),
    signature: aggregateSignatures(signing.map((i) => decodeSignature(signatures[i]!))).toBytes(true),
    signedStake: signers.reduce((sum, i) => sum + committee.members[i]!.stake, 0n),
  }
}

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
