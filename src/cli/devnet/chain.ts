import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Address, createTestClient, http, type LocalAccount, type PublicClient, type WalletClient } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { decryptKeystore } from '../../attest/keystore.ts'
import { type Anvil, startAnvil } from '../../chain/anvil.ts'
import { dacnetTokenAbi } from '../../chain/artifacts/DacnetToken.ts'
import { deployDacnet } from '../../chain/deploy.ts'
import {
  addSequencer,
  chainClients,
  type RegistryWriter,
  registerMember,
  unstake,
} from '../../chain/registry-client.ts'
import { DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS, KEYSTORE_FILE } from '../config/types.ts'
import { toJson, writeFileAtomic } from '../files.ts'

/** One whole staking token: devnet stakes are whole tokens (18 decimals, as the stand-in ERC-20 has). */
export const DEVNET_TOKEN = 10n ** 18n
/** Devnet blocks come every second once the committee is in place: epochs then pass in epochBlocks seconds. */
export const DEVNET_BLOCK_SECONDS = 1
/** Devnet nodes and roles trust a block one below the head: a local chain does not reorganise. */
export const DEVNET_CONFIRMATIONS = 1
/**
 * How often devnet nodes read the chain: once a block. Every node polls, and the devnet's processes share one
 * machine, so a shorter interval mostly costs CPU; a member that gets a store for an epoch it has not seen yet
 * asks the chain at once (StoreEpochs), so an epoch change never waits for the next poll.
 */
export const DEVNET_POLL_SECONDS = 1
/** How devnet nodes follow a chain whose RPC and registry are `file`'s (their config's `chain` section). */
export function devnetChainConfig(file: { rpcUrl: string; registry: string }) {
  return {
    rpcUrl: file.rpcUrl,
    registry: file.registry,
    confirmations: DEVNET_CONFIRMATIONS,
    pollIntervalSeconds: DEVNET_POLL_SECONDS,
    maxHeadStallSeconds: DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS,
  }
}
/** Default epoch length of the devnet: ten minutes of one-second blocks, so a short run stays in one epoch. */
export const DEFAULT_DEVNET_EPOCH_BLOCKS = 600
/** Devnet retention: an hour, so that `dacnet withdraw` after an unstake can be tried the same day. */
const DEVNET_RETENTION_SECONDS = 3600
/** ETH given to each devnet account for gas (anvil's ETH is free). */
const DEVNET_GAS_MONEY = 10n ** 21n

/** What the devnet writes to DIR/chain.json: how a client reaches the devnet's chain and contracts. */
export interface ChainFile {
  rpcUrl: string
  chainId: number
  registry: Address
  certificateVerifier: Address
  token: Address
  deploymentBlock: number
  epochBlocks: number
  networkId: number
}

/**
 * The devnet's chain: anvil from npm (Prague, for the EIP-2537 precompiles), the token, registry and verifier
 * deployed by a throwaway deployer that also owns the registry (it adds the sequencers) and holds the tokens.
 */
export class DevnetChain {
  readonly file: ChainFile
  readonly publicClient: PublicClient
  readonly walletClient: WalletClient
  readonly deployer: LocalAccount
  readonly #anvil: Anvil
  readonly #test: ReturnType<typeof anvilClient>

  private constructor(init: {
    file: ChainFile
    anvil: Anvil
    deployer: LocalAccount
    clients: { publicClient: PublicClient; walletClient: WalletClient }
  }) {
    this.file = init.file
    this.#anvil = init.anvil
    this.deployer = init.deployer
    this.publicClient = init.clients.publicClient
    this.walletClient = init.clients.walletClient
    this.#test = anvilClient(init.file.rpcUrl)
  }

  /** Starts anvil (mining at once while the devnet sets up) and deploys the contracts. */
  static async start(opts: { networkId: number; epochBlocks: number }): Promise<DevnetChain> {
    const anvil = await startAnvil()
    try {
      const clients = chainClients(anvil.rpcUrl)
      const deployer = privateKeyToAccount(generatePrivateKey())
      const test = anvilClient(anvil.rpcUrl)
      await test.setBalance({ address: deployer.address, value: DEVNET_GAS_MONEY })
      const deployment = await deployDacnet({
        clients,
        account: deployer,
        networkId: opts.networkId,
        epochBlocks: opts.epochBlocks,
        minStake: DEVNET_TOKEN,
        maxMembers: 1024,
        retentionSeconds: DEVNET_RETENTION_SECONDS,
      })
      const file: ChainFile = {
        rpcUrl: anvil.rpcUrl,
        chainId: anvil.chainId,
        registry: deployment.registry,
        certificateVerifier: deployment.verifier,
        token: deployment.token,
        deploymentBlock: Number(deployment.deploymentBlock),
        epochBlocks: Number(deployment.epochBlocks),
        networkId: deployment.networkId,
      }
      return new DevnetChain({ file, anvil, deployer, clients })
    } catch (err) {
      await anvil.stop()
      throw err
    }
  }

  async stop(): Promise<void> {
    await this.#anvil.stop()
  }

  async writeFile(path: string): Promise<void> {
    await writeFileAtomic(path, `${toJson(this.file)}\n`)
  }

  /**
   * A fresh Ethereum account for a node operator, funded with gas money and `stake` tokens, its key written to
   * `keyPath` (mode 0600) so the operator commands (`dacnet stake --eth-key-file …`) work against the devnet.
   */
  async operator(keyPath: string, stake: bigint): Promise<LocalAccount> {
    const key = generatePrivateKey()
    await writeFileAtomic(keyPath, `${key}\n`, { mode: 0o600 })
    const account = privateKeyToAccount(key)
    await this.#test.setBalance({ address: account.address, value: DEVNET_GAS_MONEY })
    const hash = await this.walletClient.writeContract({
      address: this.file.token,
      abi: dacnetTokenAbi,
      functionName: 'transfer',
      args: [account.address, stake],
      account: this.deployer,
      chain: null,
    })
    await this.publicClient.waitForTransactionReceipt({ hash })
    return account
  }

  writer(account: LocalAccount): RegistryWriter {
    return {
      publicClient: this.publicClient,
      walletClient: this.walletClient,
      account,
      registry: this.file.registry,
    }
  }

  /** Registers a node directory's member: its BLS key from the keystore, its peer id and addresses from its card. */
  async register(
    node: { dir: string; peerId: string; multiaddr: string; multiaddrs?: string[] | undefined },
    account: LocalAccount,
    stake: bigint,
  ) {
    const password = (await readFile(join(node.dir, 'password.txt'), 'utf8')).trim()
    const keystore = JSON.parse(await readFile(join(node.dir, KEYSTORE_FILE), 'utf8'))
    const secretKey = await decryptKeystore(keystore, password)
    return registerMember(this.writer(account), {
      secretKey,
      peerId: node.peerId,
      // A devnet.json of an earlier version lists one address only.
      multiaddrs: node.multiaddrs ?? [node.multiaddr],
      stake,
    })
  }

  async leave(account: LocalAccount, stake: bigint) {
    return unstake(this.writer(account), stake)
  }

  async addSequencers(peerIds: readonly string[]): Promise<void> {
    for (const peerId of peerIds) await addSequencer(this.writer(this.deployer), peerId)
  }

  async epochOf(block: bigint): Promise<number> {
    return Number((block - BigInt(this.file.deploymentBlock)) / BigInt(this.file.epochBlocks))
  }

  /**
   * Mines at once to where the epoch after the latest block's is in force for a party `confirmations` blocks behind
   * (its first block plus the confirmations), then turns to one block a second, so that epochs pass with time from
   * then on. Registry changes take effect from the epoch after the one they were made in, so every change made so
   * far is in force in that epoch, whatever number of blocks they took (short epochs may end while members
   * register). Returns that epoch.
   */
  async beginNextEpoch(confirmations: number): Promise<number> {
    const latest = await this.publicClient.getBlockNumber()
    const epoch = (await this.epochOf(latest)) + 1
    const target = BigInt(this.file.deploymentBlock + epoch * this.file.epochBlocks + confirmations)
    if (target > latest) await this.#test.mine({ blocks: Number(target - latest) })
    await this.#test.setAutomine(false)
    await this.#test.setIntervalMining({ interval: DEVNET_BLOCK_SECONDS })
    return epoch
  }
}

/** anvil's own RPC methods (balances, mining): for the devnet's chain only. */
function anvilClient(rpcUrl: string) {
  return createTestClient({ mode: 'anvil', transport: http(rpcUrl), pollingInterval: 250 })
}
