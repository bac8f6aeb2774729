import type { PrivateKeyAccount } from 'viem'
import { addStake, type OperatorStatus, operatorStatus, unstake, withdrawStake } from '../../chain/registry-client.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError, usageError } from '../errors.ts'
import { toJson } from '../files.ts'
import { type Amount, toUnits } from './amount.ts'
import { chainTarget, checkFunds, epochOfBlock, openSession, tokens, writerOf } from './connect.ts'
import { loadEthAccount } from './eth-key.ts'
import type { ChainOptions } from './options.ts'
import { withRevertHint } from './reverts.ts'
import { describeUnbonding, unbondingView } from './unbonding.ts'

export interface AccountCommandOptions {
  chain: ChainOptions
  ethKeyFile?: string | undefined
  json: boolean
}

/** The signing account (first: a key misplaced on the command line is refused before anything else), the session. */
async function open(ctx: CommandContext, opts: AccountCommandOptions) {
  const account = await loadEthAccount(ctx.io, opts.ethKeyFile)
  const target = await chainTarget(ctx.io, opts.chain)
  const session = await openSession(
    { rpcUrl: target.rpcUrl, registry: target.file.registry, file: target.file },
    account,
  )
  const status = await operatorStatus(session.publicClient, session.registry, account.address)
  return { account, session, status }
}

function requireMember(account: PrivateKeyAccount, status: OperatorStatus): void {
  if (!status.registered) {
    throw cliError(CliErrorCode.NOT_A_MEMBER, `account ${account.address} is not a member of the registry`, {
      account: account.address,
    })
  }
}

/** `dacnet stake AMOUNT`: approve and add stake; the committee counts it from the next epoch. */
export async function stakeMore(ctx: CommandContext, opts: AccountCommandOptions & { amount: Amount }): Promise<void> {
  const { account, session, status } = await open(ctx, opts)
  requireMember(account, status)
  const amount = toUnits(opts.amount, session.token.decimals)
  if (amount === 0n) throw usageError('the amount must be above 0')
  await checkFunds(session, account.address, amount)
  const { hash, block } = await addStake(writerOf(session, account), amount).catch((err: unknown) => {
    throw withRevertHint(err)
  })
  const after = await operatorStatus(session.publicClient, session.registry, account.address)
  const from = epochOfBlock(session.constants, block) + 1n
  if (opts.json) {
    ctx.io.out(
      `${toJson({ operator: account.address, index: after.index, added: amount, stake: after.stake, fromEpoch: from, transaction: hash, block })}\n`,
    )
  } else {
    ctx.io.out(
      `member ${after.index} (${account.address}) now stakes ${tokens(session, after.stake)} (+${tokens(session, amount)}), counted from epoch ${from}\n`,
    )
  }
}

/** `dacnet unstake AMOUNT|--all`: lower the stake (all of it: leave); the amount unbonds. */
export async function unstakeSome(
  ctx: CommandContext,
  opts: AccountCommandOptions & { amount: Amount | 'all' },
): Promise<void> {
  const { account, session, status } = await open(ctx, opts)
  requireMember(account, status)
  const amount = opts.amount === 'all' ? status.stake : toUnits(opts.amount, session.token.decimals)
  if (amount === 0n) throw usageError('the amount must be above 0')
  if (amount > status.stake) {
    throw usageError(
      `member ${status.index} stakes ${tokens(session, status.stake)}, less than the ${tokens(session, amount)} to unstake`,
      'unstake at most the stake, or everything with --all',
    )
  }
  const { hash, block } = await unstake(writerOf(session, account), amount).catch((err: unknown) => {
    throw withRevertHint(err)
  })
  const after = await operatorStatus(session.publicClient, session.registry, account.address)
  const unbonding = await unbondingView(session, after.unbonding)
  const from = epochOfBlock(session.constants, block) + 1n
  if (opts.json) {
    ctx.io.out(
      `${toJson({ operator: account.address, removed: amount, stake: after.stake, left: !after.registered, fromEpoch: from, unbonding, transaction: hash, block })}\n`,
    )
    return
  }
  const standing = after.registered
    ? `member ${after.index} (${account.address}) now stakes ${tokens(session, after.stake)} (-${tokens(session, amount)}), from epoch ${from}`
    : `${account.address} leaves the committee from epoch ${from}`
  ctx.io.out(`${standing}; ${describeUnbonding(session, unbonding)}\n`)
}

/**
 * `dacnet withdraw`: pays out unbonded stake whose lock has ended. While it is locked nothing is sent, except
 * the one withdraw() that fixes the release time (§4.2); the release time is printed.
 */
export async function withdrawUnbonded(ctx: CommandContext, opts: AccountCommandOptions): Promise<void> {
  const { account, session, status } = await open(ctx, opts)
  let view = await unbondingView(session, status.unbonding)
  let paid = 0n
  let transaction: string | null = null
  // Nothing to pay, or a fixed lock still running: a transaction would only cost gas. The next block's time is
  // at least the wall clock's, which may be past the latest block's on a chain that mines only on demand.
  const wallClock = BigInt(Math.floor(Date.now() / 1000))
  const due = view.state === 'withdrawable' || (view.state === 'locked' && view.releaseAt <= wallClock)
  if (view.state === 'unfixed' || due) {
    await checkFunds(session, account.address, 0n)
    const sent = await withdrawStake(writerOf(session, account)).catch((err: unknown) => {
      throw withRevertHint(err)
    })
    paid = sent.paid
    transaction = sent.hash
    view = await unbondingView(
      session,
      (await operatorStatus(session.publicClient, session.registry, account.address)).unbonding,
    )
  }
  if (opts.json) {
    ctx.io.out(`${toJson({ operator: account.address, paid, transaction, unbonding: view })}\n`)
    return
  }
  if (paid > 0n) ctx.io.out(`withdrew ${tokens(session, paid)} to ${account.address}\n`)
  else if (view.state === 'none') ctx.io.out(`nothing to withdraw: ${account.address} has no stake unbonding\n`)
  else ctx.io.out(`nothing paid yet: ${describeUnbonding(session, view)}\n`)
}
