import { type Address, getAddress } from 'viem'
import { dacnetTokenAbi } from '../../chain/artifacts/DacnetToken.ts'
import { DEFAULT_TOKEN_SUPPLY, deployDacnet } from '../../chain/deploy.ts'
import { ChainErrorCode, chainError } from '../../chain/errors.ts'
import { addSequencer, chainClients, peerIdToBytes } from '../../chain/registry-client.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError, usageError } from '../errors.ts'
import { checkOutputDir, pathExists, toJson } from '../files.ts'
import { type Amount, formatAmount, toUnits } from './amount.ts'
import { type ChainFile, writeChainFile } from './chain-file.ts'
import { shortMessage } from './connect.ts'
import { loadEthAccount } from './eth-key.ts'

/** The stand-in token is OpenZeppelin's ERC-20: 18 decimals. */
const DACNET_TOKEN_DECIMALS = 18

export interface ChainDeployOptions {
  rpc: string
  networkId: number
  epochBlocks: number
  minStake: Amount
  maxMembers: number
  retentionSeconds: number
  token?: Address | undefined
  sequencers: readonly string[]
  /** Absolute path of chain.json. */
  out: string
  force: boolean
  json: boolean
  ethKeyFile?: string | undefined
}

/**
 * `dacnet chain deploy`: the staking token (unless one is given), the registry and the verifier, from the account
 * of the Ethereum key, which becomes the registry's owner; then the sequencers; then chain.json.
 */
export async function deployChain(ctx: CommandContext, opts: ChainDeployOptions): Promise<void> {
  // Everything that can be refused offline is, before the first transaction.
  for (const peerId of opts.sequencers) peerIdToBytes(peerId)
  if (!opts.force && (await pathExists(opts.out))) {
    throw cliError(CliErrorCode.ALREADY_EXISTS, `${opts.out} already exists`, {
      path: opts.out,
      hint: 'choose another --out, or pass --force to replace it (the deployment it names stays on the chain)',
    })
  }
  await checkOutputDir(opts.out)
  const account = await loadEthAccount(ctx.io, opts.ethKeyFile)
  const { publicClient, walletClient } = chainClients(opts.rpc, account)
  const chainId = await publicClient.getChainId().catch((err: unknown) => {
    throw chainError(
      ChainErrorCode.UNAVAILABLE,
      `cannot reach ${opts.rpc}: ${shortMessage(err)}`,
      { rpcUrl: opts.rpc },
      { cause: err },
    )
  })
  const decimals =
    opts.token === undefined
      ? DACNET_TOKEN_DECIMALS
      : Number(
          await publicClient
            .readContract({ address: opts.token, abi: dacnetTokenAbi, functionName: 'decimals' })
            .catch((err: unknown) => {
              throw usageError(`--token ${opts.token} is not an ERC-20 token on chain ${chainId}: ${shortMessage(err)}`)
            }),
        )
  const minStake = toUnits(opts.minStake, decimals)
  ctx.note(
    `deploying ${opts.token === undefined ? 'the staking token, ' : ''}the registry and the verifier to chain ${chainId} from ${account.address}`,
  )
  const deployment = await deployDacnet({
    clients: { publicClient, walletClient },
    account,
    networkId: opts.networkId,
    epochBlocks: opts.epochBlocks,
    minStake,
    maxMembers: opts.maxMembers,
    retentionSeconds: opts.retentionSeconds,
    token: opts.token,
  })
  const symbol = await publicClient
    .readContract({ address: deployment.token, abi: dacnetTokenAbi, functionName: 'symbol' })
    .catch(() => 'tokens')
  const writer = { publicClient, walletClient, account, registry: deployment.registry }
  for (const peerId of opts.sequencers) await addSequencer(writer, peerId)
  const file: ChainFile = {
    rpcUrl: opts.rpc,
    chainId,
    // Receipts give addresses in lower case: chain.json carries their EIP-55 checksums.
    registry: getAddress(deployment.registry),
    certificateVerifier: getAddress(deployment.verifier),
    token: getAddress(deployment.token),
    deploymentBlock: Number(deployment.deploymentBlock),
    epochBlocks: opts.epochBlocks,
    networkId: opts.networkId,
  }
  // The addresses go out first: if chain.json cannot be written now, the deployment is not lost with it.
  if (opts.json) {
    ctx.io.out(`${toJson({ ...file, owner: account.address, minStake, sequencers: opts.sequencers })}\n`)
  } else {
    const supply = formatAmount(DEFAULT_TOKEN_SUPPLY, DACNET_TOKEN_DECIMALS, '')
    ctx.io.out(
      [
        `token                ${file.token} (${symbol}${opts.token === undefined ? `, new: ${supply} ${symbol} to ${account.address}` : ''})`,
        `registry             ${file.registry} (owner ${account.address})`,
        `certificateVerifier  ${file.certificateVerifier}`,
        `chain ${chainId}, deployment block ${file.deploymentBlock}, ${file.epochBlocks} blocks per epoch, network ${file.networkId}, min stake ${formatAmount(minStake, decimals, symbol)}, ${opts.maxMembers} members at most, retention ${opts.retentionSeconds} s, ${opts.sequencers.length} sequencer(s)`,
        '',
      ].join('\n'),
    )
  }
  await writeChainFile(opts.out, file)
  ctx.note(`wrote ${opts.out}; nodes join with \`dacnet init --chain ${opts.out}\` and \`dacnet register\``)
}
