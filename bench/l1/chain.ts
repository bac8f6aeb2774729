/**
 * The chain side of the L1 gas benchmark (bench/l1.ts): a registry deployed on anvil, and committees of
 * deterministic members registered on it in as few blocks as the block gas limit allows.
 */
import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import {
  type createTestClient,
  getContract,
  type Hex,
  keccak256,
  type LocalAccount,
  maxUint256,
  type PublicClient,
  toBytes,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type SecretKey, secretKeyFromIkm } from '../../src/attest/bls.ts'
import { dacnetRegistryAbi } from '../../src/chain/artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi } from '../../src/chain/artifacts/DacnetToken.ts'
import { type DacnetDeployment, deployDacnet } from '../../src/chain/deploy.ts'
import { REGISTRY_GAS_LIMIT, registerArguments } from '../../src/chain/registry-client.ts'

export const TOKEN = 10n ** 18n
const STAKE = 32n * TOKEN
export const NETWORK_ID = 1
/** Enough blocks for 1,000 registrations (up to 20 in a block at the registry's gas limit) to land in epoch 0. */
const EPOCH_BLOCKS = 100n
const FEES = { maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 1n }

export const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
export const log = (text: string) => process.stderr.write(`l1: ${text}\n`)
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

export interface Member {
  readonly secretKey: SecretKey
  readonly operator: LocalAccount
  readonly peerId: string
}

export function memberOf(size: number, i: number): Member {
  return {
    secretKey: secretKeyFromIkm(sha256(`dacnet l1 bench ${size} member ${i}`)),
    operator: privateKeyToAccount(keccak256(toBytes(`dacnet l1 bench ${size} operator ${i}`))),
    peerId: base58btc.baseEncode(
      new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...sha256(`dacnet l1 bench ${size} peer ${i}`)]),
    ),
  }
}

export interface Chain {
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

export async function waitFor(chain: Chain, hash: Hex): Promise<bigint> {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 })
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
  return receipt.gasUsed
}

export async function mineToEpoch(chain: Chain, deployment: DacnetDeployment, epoch: bigint): Promise<void> {
  const first = deployment.deploymentBlock + epoch * deployment.epochBlocks
  const latest = await chain.publicClient.getBlockNumber({ cacheTime: 0 })
  if (first > latest) await chain.testClient.mine({ blocks: Number(first - latest) })
}

/**
 * Deploys a registry and registers `size` members: the first alone (automine), then the rest with automine off —
 * the deployer's transfers in nonce order, mined together, then every operator's approval and registration (its
 * nonces 0 and 1), as many to a block as the block's gas limit takes. Returns each registration's gas.
 */
export async function registerCommittee(chain: Chain, size: number, members: readonly Member[]) {
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
