import type { Account, Address, PublicClient, WalletClient } from 'viem'
import { dacnetRegistryAbi } from '../../chain/artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi } from '../../chain/artifacts/DacnetToken.ts'
import { ChainErrorCode, chainError } from '../../chain/errors.ts'
import { chainClients, type RegistryWriter } from '../../chain/registry-client.ts'
import { CliErrorCode, cliError, usageError } from '../errors.ts'
import { pathExists } from '../files.ts'
import type { CliIo } from '../io.ts'
import { formatAmount } from './amount.ts'
import { type ChainFile, readChainFile } from './chain-file.ts'
import { CHAIN_ENV, type ChainOptions, chainFilePath } from './options.ts'

/** A deployment named by chain.json, and the RPC to reach it (--rpc, else the file's). */
export interface ChainTarget {
  readonly path: string
  readonly file: ChainFile
  readonly rpcUrl: string
}

/** Reads the chain.json that --chain or $DACNET_CHAIN names; a command that needs one and has none is misused. */
export async function chainTarget(io: CliIo, opts: ChainOptions): Promise<ChainTarget> {
  const path = chainFilePath(io, opts.chain)
  if (path === undefined) throw usageError(`no chain file: pass --chain FILE or set ${CHAIN_ENV}`)
  return chainTargetAt(path, opts.rpc)
}

export async function chainTargetAt(path: string, rpc: string | undefined): Promise<ChainTarget> {
  if (!(await pathExists(path))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `chain file ${path} does not exist`, {
      path,
      hint: `pass --chain FILE or set ${CHAIN_ENV} (\`dacnet chain deploy --out FILE\` writes one)`,
    })
  }
  const file = await readChainFile(path)
  return { path, file, rpcUrl: rpc ?? file.rpcUrl }
}

/** The staking token as amounts are typed and printed. */
export interface TokenInfo {
  readonly address: Address
  readonly decimals: number
  readonly symbol: string
}

/** The registry's constants (§4.1): epoch e begins at block genesisBlock + e·epochBlocks. */
export interface RegistryConstants {
  readonly networkId: number
  readonly genesisBlock: bigint
  readonly epochBlocks: bigint
}

/** What a chain command works with: the clients, the registry, its constants and its token. */
export interface ChainSession {
  readonly rpcUrl: string
  readonly registry: Address
  readonly publicClient: PublicClient
  readonly walletClient: WalletClient
  readonly constants: RegistryConstants
  readonly token: TokenInfo
}

/**
 * Connects to a deployment and checks that the RPC serves it: the chain id chain.json names (when there is a
 * file), a registry at the address with chain.json's network id and token. Reads the token's decimals and symbol.
 */
export async function openSession(
  target: { rpcUrl: string; registry: Address; file?: ChainFile | undefined },
  account?: Account,
): Promise<ChainSession> {
  const { publicClient, walletClient } = chainClients(target.rpcUrl, account)
  const read = <T>(what: string, call: () => Promise<T>): Promise<T> =>
    call().catch((err: unknown) => {
      throw chainError(
        ChainErrorCode.UNAVAILABLE,
        `cannot read ${what} through ${target.rpcUrl}: ${shortMessage(err)}`,
        { rpcUrl: target.rpcUrl },
        { cause: err },
      )
    })
  const registryRead = <F extends 'networkId' | 'token' | 'genesisBlock' | 'epochBlocks'>(functionName: F) =>
    read(`the registry at ${target.registry}`, () =>
      publicClient.readContract({ address: target.registry, abi: dacnetRegistryAbi, functionName }),
    )
  const [chainId, networkId, token, genesisBlock, epochBlocks] = await Promise.all([
    read('the chain id', () => publicClient.getChainId()),
    registryRead('networkId'),
    registryRead('token'),
    registryRead('genesisBlock'),
    registryRead('epochBlocks'),
  ])
  const file = target.file
  if (file) {
    const mismatch = (what: string, named: unknown, found: unknown) =>
      cliError(
        CliErrorCode.CHAIN_MISMATCH,
        `chain.json names ${what} ${String(named)}, but ${target.rpcUrl} has ${String(found)}`,
        { rpcUrl: target.rpcUrl },
      )
    if (chainId !== file.chainId) throw mismatch('chain id', file.chainId, chainId)
    if (Number(networkId) !== file.networkId) throw mismatch('network id', file.networkId, networkId)
    if (token.toLowerCase() !== file.token.toLowerCase()) throw mismatch('token', file.token, token)
  }
  const tokenRead = <F extends 'decimals' | 'symbol'>(functionName: F) =>
    read(`the token at ${token}`, () =>
      publicClient.readContract({ address: token, abi: dacnetTokenAbi, functionName }),
    )
  const [decimals, symbol] = await Promise.all([tokenRead('decimals'), tokenRead('symbol')])
  return {
    rpcUrl: target.rpcUrl,
    registry: target.registry,
    publicClient,
    walletClient,
    constants: { networkId: Number(networkId), genesisBlock, epochBlocks },
    token: { address: token, decimals: Number(decimals), symbol },
  }
}

/** The epoch of a block (§4.1). */
export function epochOfBlock(constants: RegistryConstants, block: bigint): bigint {
  return (block - constants.genesisBlock) / constants.epochBlocks
}

/** The first block of an epoch. */
export function epochStartBlock(constants: RegistryConstants, epoch: bigint): bigint {
  return constants.genesisBlock + epoch * constants.epochBlocks
}

/**
 * Refuses before any transaction: an account without ether for gas, or with fewer staking tokens than `tokens`
 * (an approval of stake the account does not hold would be left behind by the failed transfer).
 */
export async function checkFunds(session: ChainSession, account: Address, tokens: bigint): Promise<void> {
  const [ether, balance] = await Promise.all([
    session.publicClient.getBalance({ address: account }),
    tokens > 0n
      ? session.publicClient.readContract({
          address: session.token.address,
          abi: dacnetTokenAbi,
          functionName: 'balanceOf',
          args: [account],
        })
      : Promise.resolve(0n),
  ])
  if (ether === 0n) {
    throw cliError(CliErrorCode.INSUFFICIENT_FUNDS, `account ${account} has no ether to pay for gas`, {
      account,
      hint: 'send the account some ether for gas first',
    })
  }
  if (balance < tokens) {
    throw cliError(
      CliErrorCode.INSUFFICIENT_FUNDS,
      `account ${account} holds ${formatAmount(balance, session.token.decimals, session.token.symbol)}, less than the ${formatAmount(tokens, session.token.decimals, session.token.symbol)} this moves`,
      { account },
    )
  }
}

/** Token units as people read them: `32 DACS`. */
export function tokens(session: ChainSession, units: bigint): string {
  return formatAmount(units, session.token.decimals, session.token.symbol)
}

/** A session with the account that signs: the registry client's writer. */
export function writerOf(session: ChainSession, account: Account): RegistryWriter {
  return {
    publicClient: session.publicClient,
    walletClient: session.walletClient,
    account,
    registry: session.registry,
  }
}

export function shortMessage(err: unknown): string {
  const message = (err as { shortMessage?: string; message?: string })?.shortMessage ?? (err as Error)?.message
  return String(message ?? err)
    .split('\n')[0]!
    .slice(0, 200)
}
