import { resolve } from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'
import type { Address } from 'viem'
import { MAX_MEMBERS } from '../../committee/validate.ts'
import { type Amount, amountArg } from '../chain/amount.ts'
import { addChainOptions, addEthKeyOption, type ChainOptions, type EthKeyOptions } from '../chain/options.ts'
import { MAX_RETENTION_SECONDS } from '../config/keys.ts'
import type { CommandContext } from '../context.ts'
import { usageError } from '../errors.ts'
import { collect, integer, url } from '../parsers.ts'

/** "dac" in ASCII, the devnet's network id too: a deployment for testing needs no number of its own. */
const DEFAULT_NETWORK_ID = 0x646163
/** 300 blocks: an hour of 12 s Ethereum slots, so a registration or stake change counts within the hour. */
const DEFAULT_EPOCH_BLOCKS = 300
/** One whole token: a floor against dust members; the owner raises it with setMinStake. */
const DEFAULT_MIN_STAKE = '1'
/**
 * The verifier's gas grows by about 2k per non-signer: with 1,024 members, a certificate a third of them did not
 * sign stays under a million gas.
 */
const DEFAULT_MAX_MEMBERS = 1024
/** Fourteen days, the committee file's default retention: long enough for any rollup's challenge window. */
const DEFAULT_RETENTION_SECONDS = 14 * 24 * 60 * 60

interface DeployOptions extends EthKeyOptions {
  rpc: string
  networkId: number
  epochBlocks: number
  minStake: Amount
  maxMembers: number
  retention: number
  token?: Address
  sequencer?: string[]
  out: string
  force?: boolean
  json?: boolean
}

export function registerChainCommands(program: Command, ctx: CommandContext): void {
  const chain = program
    .command('chain')
    .description('the dacnet contracts on an EVM chain: deploy them, read the committee, verify certificates')

  const deploy = chain
    .command('deploy')
    .summary('deploy the token, registry and verifier; write chain.json')
    .description(
      'deploy the staking token (unless --token names one), the DacnetRegistry and the DacnetCertificateVerifier from the account of the Ethereum key, which owns the registry; print the addresses and write chain.json',
    )
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint of the chain', url)
    .option(
      '--network-id <n>',
      'network id of every header and certificate (u32; 6578531 is "dac" in ASCII)',
      integer(0, 0xffff_ffff),
      DEFAULT_NETWORK_ID,
    )
    .option('--epoch-blocks <n>', 'blocks per epoch (300: an hour of 12 s slots)', integer(1), DEFAULT_EPOCH_BLOCKS)
    .addOption(
      new Option(
        '--min-stake <amount>',
        'least stake a member holds: whole tokens (32, 0.5) or units (32000000000000000000wei)',
      )
        .argParser(amountArg)
        .default(amountArg(DEFAULT_MIN_STAKE), DEFAULT_MIN_STAKE),
    )
    .option(
      '--max-members <n>',
      'most members at once (fixed at deployment)',
      integer(1, MAX_MEMBERS),
      DEFAULT_MAX_MEMBERS,
    )
    .option(
      '--retention <seconds>',
      'how long members keep shards, and the unbonding lock (1209600: 14 days; at most a hundred years)',
      integer(1, MAX_RETENTION_SECONDS),
      DEFAULT_RETENTION_SECONDS,
    )
    .option('--token <address>', 'an existing ERC-20 staking token instead of a new stand-in', address)
    .option(
      '--sequencer <peerId>',
      'peer id allowed to disperse, registered right after deployment (repeatable)',
      collect,
    )
    .option('--out <file>', 'where to write chain.json', 'chain.json')
    .option('--force', 'replace an existing --out file')
    .option('--json', 'print chain.json (with the owner and the minimum stake in units) as JSON')
  addEthKeyOption(deploy, 'deploys and owns the contracts')
  deploy.action(async (opts: DeployOptions) => {
    const { deployChain } = await import('../chain/deploy.ts')
    await deployChain(ctx, {
      rpc: opts.rpc,
      networkId: opts.networkId,
      epochBlocks: opts.epochBlocks,
      minStake: opts.minStake,
      maxMembers: opts.maxMembers,
      retentionSeconds: opts.retention,
      token: opts.token,
      sequencers: opts.sequencer ?? [],
      out: resolve(ctx.io.cwd, opts.out),
      force: opts.force === true,
      json: opts.json === true,
      ethKeyFile: opts.ethKeyFile,
    })
  })

  const status = chain
    .command('status')
    .summary('epochs, the committee in force, the registry, and an account')
    .description(
      "print the current epoch and the epoch in force, the committee of the epoch in force (index, peer id, stake and share, addresses), thresholds, records and sequencers; with an Ethereum key (or --address), that account's membership, balance and unbonding stake",
    )
    .option('--address <address>', 'report on this account (no key needed)', address)
    .option('--json', 'print everything as JSON (amounts in token units)')
  addChainOptions(status)
  addEthKeyOption(status, 'names the account to report on (optional)')
  status.action(async (opts: ChainOptions & EthKeyOptions & { address?: Address; json?: boolean }) => {
    const { chainTarget } = await import('../chain/connect.ts')
    const { ethKeyGiven, loadEthAccount } = await import('../chain/eth-key.ts')
    const { chainStatus } = await import('../chain/status.ts')
    if (opts.address !== undefined && ethKeyGiven(ctx.io, opts.ethKeyFile)) {
      throw usageError('pass --address or an Ethereum key, not both')
    }
    const target = await chainTarget(ctx.io, opts)
    const account = ethKeyGiven(ctx.io, opts.ethKeyFile)
      ? (await loadEthAccount(ctx.io, opts.ethKeyFile)).address
      : opts.address
    await chainStatus(ctx, { target, account, json: opts.json === true })
  })

  const verify = chain
    .command('verify')
    .summary('ask the verifier contract about a certificate')
    .description(
      'check a certificate on-chain and off-chain: its on-chain form (PROTOCOL §4.5) is built against the committee the chain gives for its epoch and passed to the verifier contract, which answers with a reason code; the gas a contract pays for the check is measured; the off-chain verdict comes from the same committee. Exit 1 (CLI_CERTIFICATE_REFUSED) when either refuses',
    )
    .argument(
      '<cert>',
      'certificate: JSON (as `dacnet disperse` writes it) or binary; or an on-chain form as 0x hex (FILE.l1.hex)',
    )
    .option('-o, --out <file>', 'also write the on-chain form here as 0x hex (e.g. cert.l1.hex)')
    .option('--json', 'print both verdicts as JSON')
  addChainOptions(verify)
  verify.action(async (cert: string, opts: ChainOptions & { out?: string; json?: boolean }) => {
    const { chainTarget } = await import('../chain/connect.ts')
    const { chainVerify } = await import('../chain/verify.ts')
    await chainVerify(ctx, {
      path: resolve(ctx.io.cwd, cert),
      target: await chainTarget(ctx.io, opts),
      out: opts.out === undefined ? undefined : resolve(ctx.io.cwd, opts.out),
      json: opts.json === true,
    })
  })
}

function address(value: string): Address {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError(`expected a 0x address, got "${value}"`)
  return value as Address
}
