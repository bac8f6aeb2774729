import { base58btc } from 'multiformats/bases/base58'
import type { Address, Hex, ReadContractReturnType } from 'viem'
import { dacnetRegistryAbi } from '../../chain/artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi } from '../../chain/artifacts/DacnetToken.ts'
import { type ChainCommitteeSource, DEFAULT_CONFIRMATIONS } from '../../chain/committee-source.ts'
import { operatorStatus } from '../../chain/registry-client.ts'
import type { Committee } from '../../committee/committee.ts'
import { CommitteeErrorCode } from '../../committee/errors.ts'
import { isDacnetError } from '../../errors.ts'
import type { CommandContext } from '../context.ts'
import { toJson } from '../files.ts'
import { formatShapeRange, shapeRange, table } from '../format.ts'
import { type ChainSession, type ChainTarget, epochOfBlock, epochStartBlock, openSession, tokens } from './connect.ts'
import { chainCommitteeSource } from './source.ts'
import { describeUnbonding, type UnbondingView, unbondingView } from './unbonding.ts'

export interface ChainStatusOptions {
  target: ChainTarget
  /** The account to report on (from the Ethereum key, or --address); none: no account section. */
  account?: Address | undefined
  json: boolean
}

/** `dacnet chain status`: the deployment, its epochs, the committee in force, the registry now, and an account. */
export async function chainStatus(ctx: CommandContext, opts: ChainStatusOptions): Promise<void> {
  const { target } = opts
  const session = await openSession({ rpcUrl: target.rpcUrl, registry: target.file.registry, file: target.file })
  const source = chainCommitteeSource(target)
  try {
    const report = await gather(session, source, target, opts.account)
    ctx.io.out(opts.json ? `${toJson(report)}\n` : render(session, report))
  } finally {
    await source.stop()
  }
}

type Report = Awaited<ReturnType<typeof gather>>

async function gather(session: ChainSession, source: ChainCommitteeSource, target: ChainTarget, account?: Address) {
  const { publicClient, registry } = session
  // One generic reader for the views without arguments; viem cannot infer a result through the generic name.
  const read = <F extends RegistryView>(functionName: F) =>
    publicClient.readContract({ address: registry, abi: dacnetRegistryAbi, functionName }) as Promise<
      ReadContractReturnType<RegistryAbi, F>
    >
  const [block, records, liveMembers, liveStake, minStake, maxMembers, retention, owner, pending] = await Promise.all([
    publicClient.getBlockNumber(),
    read('committeeRecordCount'),
    read('memberCount'),
    read('totalStake'),
    read('minStake'),
    read('maxMembers'),
    read('retentionSeconds'),
    read('owner'),
    read('sequencers'),
  ])
  // Right after the deployment no block is confirmations deep yet: no epoch is in force for anyone.
  const confirmed = block - BigInt(DEFAULT_CONFIRMATIONS) >= session.constants.genesisBlock
  const inForce = confirmed ? await source.currentEpoch() : null
  const committee = inForce === null ? null : await committeeInForce(source, inForce)
  const current = epochOfBlock(session.constants, block)
  return {
    chainId: target.file.chainId,
    rpcUrl: session.rpcUrl,
    registry,
    certificateVerifier: target.file.certificateVerifier,
    token: session.token,
    networkId: session.constants.networkId,
    block,
    epochs: {
      current,
      inForce,
      confirmations: DEFAULT_CONFIRMATIONS,
      epochBlocks: session.constants.epochBlocks,
      genesisBlock: session.constants.genesisBlock,
      nextEpochBlock: epochStartBlock(session.constants, current + 1n),
    },
    committee: committee && {
      epoch: committee.committee.epoch,
      recordIndex: committee.recordIndex,
      members: committee.committee.members.map((m) => ({
        index: m.index,
        peerId: m.peerId,
        stake: m.stake,
        share: Number((m.stake * 1_000_000n) / committee.committee.totalStake) / 1_000_000,
        multiaddrs: m.multiaddrs,
      })),
      totalStake: committee.committee.totalStake,
      threshold: fraction(committee.committee.threshold),
      adversary: fraction(committee.committee.adversary),
      shapes: shapeRange(committee.committee),
      retentionSeconds: committee.committee.retentionSeconds,
      sequencers: committee.committee.sequencers.map((s) => s.peerId ?? null),
    },
    live: {
      archivedRecords: records,
      members: liveMembers,
      totalStake: liveStake,
      minStake,
      maxMembers,
      retentionSeconds: retention,
      owner,
      sequencers: pending.map((p: Hex) => base58btc.baseEncode(Buffer.from(p.slice(2), 'hex'))),
      countsFromEpoch: current + 1n,
    },
    account: account === undefined ? undefined : await accountReport(session, account),
  }
}

type RegistryView =
  | 'committeeRecordCount'
  | 'memberCount'
  | 'totalStake'
  | 'minStake'
  | 'maxMembers'
  | 'retentionSeconds'
  | 'owner'
  | 'sequencers'
type RegistryAbi = typeof dacnetRegistryAbi

/** The committee of the epoch in force and its record, or null while the registry has had no member. */
async function committeeInForce(
  source: ChainCommitteeSource,
  epoch: number,
): Promise<{ committee: Committee; recordIndex: number } | null> {
  try {
    const committee = await source.getCommittee(epoch)
    return { committee, recordIndex: (await source.committeeRecord(epoch)).recordIndex }
  } catch (err) {
    if (isDacnetError(err) && err.code === CommitteeErrorCode.UNKNOWN_EPOCH) return null
    throw err
  }
}

async function accountReport(session: ChainSession, address: Address) {
  const [status, balance, ether] = await Promise.all([
    operatorStatus(session.publicClient, session.registry, address),
    session.publicClient.readContract({
      address: session.token.address,
      abi: dacnetTokenAbi,
      functionName: 'balanceOf',
      args: [address],
    }),
    session.publicClient.getBalance({ address }),
  ])
  return {
    address,
    registered: status.registered,
    index: status.registered ? status.index : null,
    stake: status.stake,
    balance,
    ether,
    unbonding: await unbondingView(session, status.unbonding),
  }
}

function render(session: ChainSession, r: Report): string {
  const t = (units: bigint) => tokens(session, units)
  const lines = [
    `chain        ${r.chainId} via ${r.rpcUrl}; network ${r.networkId}; block ${r.block}`,
    `contracts    registry ${r.registry}, verifier ${r.certificateVerifier}, token ${r.token.address} (${r.token.symbol})`,
    `epochs       current ${r.epochs.current}, in force ${r.epochs.inForce ?? 'none yet'} (${r.epochs.confirmations} confirmations); ${r.epochs.epochBlocks} blocks each, the next begins at block ${r.epochs.nextEpochBlock}`,
  ]
  if (r.epochs.inForce === null) {
    lines.push(`committee    none: no block is ${r.epochs.confirmations} confirmations past the deployment yet`)
  } else if (r.committee === null) {
    lines.push(`committee    none in force in epoch ${r.epochs.inForce}: no member registered before it began`)
  } else {
    const c = r.committee
    lines.push(
      `committee    epoch ${c.epoch} (record ${c.recordIndex}): ${plural(c.members.length, 'member')}, total stake ${t(c.totalStake)}, threshold ${c.threshold}, adversary ${c.adversary}, ${formatShapeRange(c.shapes)}, retention ${c.retentionSeconds} s`,
      indent(
        table([
          ['index', 'peer id', 'stake', 'share', 'addresses'],
          ...c.members.map((m) => [
            String(m.index),
            m.peerId,
            t(m.stake),
            `${(m.share * 100).toFixed(1)}%`,
            m.multiaddrs.join(' ') || '(none: found through the DHT)',
          ]),
        ]),
      ),
      `sequencers   ${c.sequencers.length === 0 ? 'none (nobody can disperse in this epoch)' : c.sequencers.join(', ')}`,
    )
  }
  const l = r.live
  lines.push(
    `registry     now ${plural(l.members, 'member')}, total stake ${t(l.totalStake)} (a change made now counts from epoch ${l.countsFromEpoch}); ${plural(Number(l.archivedRecords), 'archived record')}; min stake ${t(l.minStake)}, ${l.maxMembers} members at most, retention ${l.retentionSeconds} s, owner ${l.owner}`,
  )
  // Sequencers added or removed in this epoch: in force from the next.
  const inForce = r.committee?.sequencers.join(', ') ?? ''
  if (l.sequencers.join(', ') !== inForce) {
    lines.push(`             sequencers now: ${l.sequencers.length === 0 ? 'none' : l.sequencers.join(', ')}`)
  }
  const a = r.account
  if (a) {
    lines.push(
      `account      ${a.address}: ${a.registered ? `member ${a.index} with ${t(a.stake)}` : 'not a member'}; holds ${t(a.balance)} and ${formatEther(a.ether)} ether`,
      `             ${describeUnbonding(session, a.unbonding as UnbondingView)}`,
    )
  }
  return `${lines.join('\n')}\n`
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function fraction(f: { num: bigint; den: bigint }): string {
  return `${f.num}/${f.den}`
}

function formatEther(wei: bigint): string {
  const whole = wei / 10n ** 18n
  const milli = (wei % 10n ** 18n) / 10n ** 15n
  return `${whole}.${String(milli).padStart(3, '0')}`
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}
