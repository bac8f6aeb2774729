import { resolve } from 'node:path'
import type { Command } from 'commander'
import { type Amount, amountArg } from '../chain/amount.ts'
import { addChainOptions, addEthKeyOption, type ChainOptions, type EthKeyOptions } from '../chain/options.ts'
import type { CommandContext } from '../context.ts'
import { usageError } from '../errors.ts'

/** Amounts on the command line: whole tokens or exact units (`wei`), as docs/CLI.md says. */
const AMOUNT_SYNTAX = 'whole tokens (32, 0.5) or exact units (32000000000000000000wei)'

type AccountOptions = ChainOptions & EthKeyOptions & { json?: boolean }

/** A member's account on the registry: join, stake more, unstake, withdraw what has unbonded. */
export function registerStakeCommands(program: Command, ctx: CommandContext): void {
  const register = program
    .command('register')
    .summary("register a node directory's keys on the chain, with stake")
    .description(
      "register a node directory made by `dacnet init` in the registry: its BLS key (decrypted from the keystore), proof of possession, peer id and announce (else listen) addresses; the Ethereum key's account approves the stake and registers, and owns the stake. Prints the member index and the epoch from which the node serves",
    )
    .requiredOption('--config <file>', 'the node config (NODE/config.json)')
    .requiredOption('--stake <amount>', `stake to deposit: ${AMOUNT_SYNTAX}`, amountArg)
    .option('--password-file <file>', "keystore password file (overrides the config's keystore.passwordFile)")
    .option('--json', 'print the registration as JSON')
  addChainOptions(register, "the deployment (default: $DACNET_CHAIN, else the config's chain section)")
  addEthKeyOption(register, 'pays the stake and owns it')
  register.action(async (opts: AccountOptions & { config: string; stake: Amount; passwordFile?: string }) => {
    const { chainFilePath } = await import('../chain/options.ts')
    const { registerNode } = await import('../chain/register.ts')
    await registerNode(ctx, {
      config: opts.config,
      stake: opts.stake,
      chainPath: chainFilePath(ctx.io, opts.chain),
      rpc: opts.rpc,
      passwordFile: opts.passwordFile ? resolve(ctx.io.cwd, opts.passwordFile) : undefined,
      ethKeyFile: opts.ethKeyFile,
      json: opts.json === true,
    })
  })

  const stake = program
    .command('stake')
    .summary("add to a member's stake")
    .description("approve and add stake to the Ethereum key's membership; the committee counts it from the next epoch")
    .argument('<amount>', AMOUNT_SYNTAX, amountArg)
    .option('--json', 'print the result as JSON')
  accountOptions(stake)
  stake.action(async (amount: Amount, opts: AccountOptions) => {
    const { stakeMore } = await import('../chain/stake.ts')
    await stakeMore(ctx, { ...accountOptionsOf(opts), amount })
  })

  const unstake = program
    .command('unstake')
    .summary("lower a member's stake (all of it: leave); it unbonds")
    .description(
      "lower the Ethereum key's stake from the next epoch (--all: leave the committee); what remains must be 0 or at least the minimum stake. The amount unbonds: it stays locked until the retention has passed after the next epoch begins, then `dacnet withdraw` pays it",
    )
    .argument('[amount]', AMOUNT_SYNTAX, amountArg)
    .option('--all', 'unstake everything: leave the committee')
    .option('--json', 'print the result as JSON')
  accountOptions(unstake)
  unstake.action(async (amount: Amount | undefined, opts: AccountOptions & { all?: boolean }) => {
    if ((amount === undefined) === (opts.all !== true)) throw usageError('give an amount or --all (not both)')
    const { unstakeSome } = await import('../chain/stake.ts')
    await unstakeSome(ctx, { ...accountOptionsOf(opts), amount: amount ?? 'all' })
  })

  const withdraw = program
    .command('withdraw')
    .summary('withdraw unbonded stake whose lock has ended')
    .description(
      "pay the Ethereum key's unbonded stake back once its lock has ended; while it is locked, print until when (the first withdraw after the lock starts fixes the release time)",
    )
    .option('--json', 'print the result as JSON')
  accountOptions(withdraw)
  withdraw.action(async (opts: AccountOptions) => {
    const { withdrawUnbonded } = await import('../chain/stake.ts')
    await withdrawUnbonded(ctx, accountOptionsOf(opts))
  })
}

function accountOptions(command: Command): void {
  addChainOptions(command)
  addEthKeyOption(command)
}

function accountOptionsOf(opts: AccountOptions) {
  return { chain: { chain: opts.chain, rpc: opts.rpc }, ethKeyFile: opts.ethKeyFile, json: opts.json === true }
}
