/**
 * Deploys dacnet's contracts (docs/PROTOCOL.md §4): the staking token (unless one is given), the registry and
 * the certificate verifier, each waited for before the next.
 */
import {
  type Account,
  type Address,
  createPublicClient,
  createWalletClient,
  type Hash,
  http,
  type PublicClient,
  type WalletClient,
} from 'viem'
import { MAX_MEMBERS } from '../committee/validate.ts'
import {
  dacnetCertificateVerifierAbi,
  dacnetCertificateVerifierBytecode,
} from './artifacts/DacnetCertificateVerifier.ts'
import { dacnetRegistryAbi, dacnetRegistryBytecode } from './artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi, dacnetTokenBytecode } from './artifacts/DacnetToken.ts'
import { ChainErrorCode, chainError, rpcFailure } from './errors.ts'

/** Supply of a freshly deployed stand-in token: 10^9 whole tokens of 18 decimals, all to the deployer. */
export const DEFAULT_TOKEN_SUPPLY = 10n ** 27n
const U64_MAX = 2n ** 64n - 1n

export interface DacnetClients {
  readonly publicClient: PublicClient
  readonly walletClient: WalletClient
}

interface DeployParameters {
  /** The deployer: a local account, or the address of an account the node signs for (anvil's dev accounts). */
  readonly account: Account | Address
  /** u32; the network id of every blob header and attestation. */
  readonly networkId: number
  /** Blocks per epoch (>= 1). */
  readonly epochBlocks: number | bigint
  /** Least stake a member may hold, in token units. */
  readonly minStake: bigint
  /** Most members at once, 1..65536. */
  readonly maxMembers: number
  /** How long members keep shards; also the unbonding lock after the last served epoch. */
  readonly retentionSeconds: number | bigint
  /** An existing staking token; when absent a DacnetToken is deployed with `tokenSupply` for the deployer. */
  readonly token?: Address | undefined
  readonly tokenSupply?: bigint | undefined
}

export type DeployDacnetOptions = DeployParameters &
  (
    | { readonly rpcUrl: string; readonly clients?: undefined }
    | { readonly clients: DacnetClients; readonly rpcUrl?: undefined }
  )

export interface DacnetDeployment {
  readonly token: Address
  readonly registry: Address
  readonly verifier: Address
  /** The registry's genesis block: epoch e begins at deploymentBlock + e·epochBlocks. */
  readonly deploymentBlock: bigint
  readonly epochBlocks: bigint
  readonly networkId: number
}

export async function deployDacnet(options: DeployDacnetOptions): Promise<DacnetDeployment> {
  const epochBlocks = BigInt(options.epochBlocks)
  const retentionSeconds = BigInt(options.retentionSeconds)
  checkOptions(options, epochBlocks, retentionSeconds)
  const { publicClient, walletClient } =
    options.clients ??
    (() => {
      const transport = http(options.rpcUrl)
      return { publicClient: createPublicClient({ transport }), walletClient: createWalletClient({ transport }) }
    })()
  const account = options.account
  const deployerAddress = typeof account === 'string' ? account : account.address

  /** Sends one deployment and waits for it; any failure (refused, reverted, no receipt) is CHAIN_DEPLOY_FAILED. */
  const deploy = async (what: string, send: () => Promise<Hash>) => {
    let hash: Hash | undefined
    try {
      hash = await send()
      const receipt = await publicClient.waitForTransactionReceipt({ hash })
      if (receipt.status === 'success' && receipt.contractAddress) {
        return { address: receipt.contractAddress, block: receipt.blockNumber }
      }
    } catch (err) {
      throw chainError(
        ChainErrorCode.DEPLOY_FAILED,
        `deploying ${what} failed: ${rpcFailure(err)}`,
        { what, hash: hash ?? null },
        { cause: err },
      )
    }
    throw chainError(ChainErrorCode.DEPLOY_FAILED, `deploying ${what} failed`, { what, hash })
  }

  let token = options.token
  if (token === undefined) {
    const supply = options.tokenSupply ?? DEFAULT_TOKEN_SUPPLY
    const deployedToken = await deploy('DacnetToken', () =>
      walletClient.deployContract({
        abi: dacnetTokenAbi,
        bytecode: dacnetTokenBytecode,
        args: [deployerAddress, supply],
        account,
        chain: null,
      }),
    )
    token = deployedToken.address
  }
  const registryToken = token
  const registry = await deploy('DacnetRegistry', () =>
    walletClient.deployContract({
      abi: dacnetRegistryAbi,
      bytecode: dacnetRegistryBytecode,
      args: [registryToken, options.networkId, epochBlocks, options.minStake, options.maxMembers, retentionSeconds],
      account,
      chain: null,
    }),
  )
  const verifier = await deploy('DacnetCertificateVerifier', () =>
    walletClient.deployContract({
      abi: dacnetCertificateVerifierAbi,
      bytecode: dacnetCertificateVerifierBytecode,
      args: [registry.address],
      account,
      chain: null,
    }),
  )
  return {
    token,
    registry: registry.address,
    verifier: verifier.address,
    deploymentBlock: registry.block,
    epochBlocks,
    networkId: options.networkId,
  }
}

function checkOptions(options: DeployDacnetOptions, epochBlocks: bigint, retentionSeconds: bigint): void {
  const bad = (field: string, why: string) => chainError(ChainErrorCode.INVALID_OPTIONS, `${field} ${why}`, { field })
  if ((options.rpcUrl === undefined) === (options.clients === undefined)) {
    throw bad('rpcUrl', 'or clients: give exactly one')
  }
  if (!Number.isInteger(options.networkId) || options.networkId < 0 || options.networkId > 0xffff_ffff) {
    throw bad('networkId', 'must be a u32')
  }
  if (epochBlocks < 1n || epochBlocks > U64_MAX) throw bad('epochBlocks', 'must be in 1..2^64-1')
  if (retentionSeconds < 0n || retentionSeconds > U64_MAX) throw bad('retentionSeconds', 'must be a u64')
  if (options.minStake < 0n) throw bad('minStake', 'must not be negative')
  if (!Number.isInteger(options.maxMembers) || options.maxMembers < 1 || options.maxMembers > MAX_MEMBERS) {
    throw bad('maxMembers', `must be in 1..${MAX_MEMBERS}`)
  }
  if (options.tokenSupply !== undefined && options.token !== undefined) throw bad('tokenSupply', 'needs no token')
}
