import { BaseError, bytesToHex, ContractFunctionRevertedError, type Hex } from 'viem'
import { Committee } from '../committee/committee.ts'
import type { MemberKeyVerifier } from '../committee/member.ts'
import { DacnetError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { CommitteeRange } from './epoch-ranges.ts'
import { ChainErrorCode, chainError } from './errors.ts'
import type { RegistryReader } from './registry-reader.ts'
import { committeeInputOf } from './registry-replay.ts'
import { committeeSummary, summaryHash } from './summary.ts'

/**
 * The check of the committees a chain source rebuilt from the registry's events against the summary hashes the
 * registry holds for them (PROTOCOL.md §4.3): what a sync runs before it puts a new state in service.
 */

/** What the checks read with: the registry, the off-chain key checks, and where problems are logged. */
export interface RangeCheckContext {
  readonly chain: RegistryReader
  readonly keyChecks: MemberKeyVerifier
  readonly logger: Logger
}

/**
 * Every committee in force so far must have the summary hash the registry holds for its epochs: checked at the
 * first and the last of its epochs in force, and the live committee again at each new epoch in force (an event
 * the RPC left out changes the registry's committee from the next epoch on, which the replay never learns). A
 * committee the off-chain checks refuse, or whose hash differs, is marked with that problem (its epochs then
 * throw it) while the others stay in service; only an RPC failure fails the sync. With `strict.ranges`, a mismatch
 * or a record the registry does not have is thrown instead (CHAIN_COMMITTEE_MISMATCH), and with `strict.coverage`,
 * a committee of the registry for the epoch in force that the events read do not give at all: the caller reads the
 * registry again before concluding anything.
 */
export async function checkRanges(
  ctx: RangeCheckContext,
  ranges: CommitteeRange[],
  inForce: number,
  safe: bigint,
  strict: { ranges: boolean; coverage: boolean },
): Promise<void> {
  const { networkId } = await ctx.chain.constants()
  for (const range of ranges) {
    if (range.problem || range.from > inForce) continue
    const last = range.to === undefined ? inForce : Math.min(range.to, inForce)
    if (range.checked && range.checkedTo !== undefined && range.checkedTo >= last) continue
    if (range.summaryHash === undefined) {
      let committee: Committee
      try {
        committee = new Committee(committeeInputOf(range.snapshot, networkId, range.from), {
          verifier: ctx.keyChecks,
        })
      } catch (err) {
        if (!(err instanceof DacnetError)) throw err
        range.problem = err
        ctx.logger.error('the registry holds a committee that fails the off-chain checks', {
          epoch: range.from,
          error: err,
        })
        continue
      }
      range.summaryHash = bytesToHex(summaryHash(committeeSummary(committee)))
    }
    const epochs = range.checked || last === range.from ? [last] : [range.from, last]
    for (const epoch of epochs) {
      const problem = await recordMismatch(ctx, range, epoch, safe)
      if (problem === undefined) continue
      if (strict.ranges) throw problem
      range.problem = problem
      ctx.logger.error('committee does not match the registry record', { epoch, error: problem })
      break
    }
    if (range.problem) continue
    range.checked = true
    range.checkedTo = last
  }
  // No committee for the epoch in force from the events read (an answer with no logs at all), while the registry
  // has one: the read is incomplete, whatever else checked out.
  const covered = ranges.some((r) => r.from <= inForce && (r.to === undefined || inForce <= r.to))
  if (!covered && strict.coverage && (await registryHasCommittee(ctx, inForce, safe))) {
    throw chainError(
      ChainErrorCode.COMMITTEE_MISMATCH,
      `the registry has a committee for epoch ${inForce}, but the events read give none`,
      { epoch: inForce },
    )
  }
}

/** Whether the registry holds a committee record for `epoch` (committeeFor does not revert). */
async function registryHasCommittee(ctx: RangeCheckContext, epoch: number, safe: bigint): Promise<boolean> {
  try {
    await ctx.chain.record(epoch, safe)
    return true
  } catch (err) {
    if (isRevert(err)) return false
    throw err
  }
}

/** Why the registry's record for `epoch` is not `range`'s committee, or undefined when it is. */
async function recordMismatch(
  ctx: RangeCheckContext,
  range: CommitteeRange,
  epoch: number,
  safe: bigint,
): Promise<DacnetError | undefined> {
  let record: { recordIndex: number; summaryHash: Hex }
  try {
    record = await ctx.chain.record(epoch, safe)
  } catch (err) {
    // The registry refusing `committeeFor` (no record for that epoch) is an answer about the state, not an outage.
    if (!isRevert(err)) throw err
    return chainError(
      ChainErrorCode.COMMITTEE_MISMATCH,
      `the registry has no committee record for epoch ${epoch}, though its events replayed give one`,
      { epoch },
    )
  }
  if (record.summaryHash.toLowerCase() === range.summaryHash) return undefined
  return chainError(
    ChainErrorCode.COMMITTEE_MISMATCH,
    `the committee rebuilt from the registry's events for epoch ${epoch} does not match its record ${record.recordIndex}`,
    { epoch, recordIndex: record.recordIndex },
  )
}

/** Whether a contract read failed because the contract reverted (viem's ContractFunctionRevertedError, anywhere in the cause chain). */
function isRevert(err: unknown): boolean {
  return err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError) !== null
}
