import { beforeAll, describe, expect, it } from 'vitest'
import { committeeOf } from '../../src/committee/source.ts'
import type { MemberFailure } from '../../src/node/dispersal-options.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { StakeLedger } from '../../src/node/stake-ledger.ts'
import { memberIdentity, registryOf } from './harness.ts'

/**
 * The stake ledger a dispersal keeps (src/node/stake-ledger.ts): the stake failed and silent, and whether q is
 * still in reach, over a committee of four (total 100). No network here.
 */

const NETWORK = 7373

describe('the stake ledger', () => {
  const stakes = [30n, 30n, 20n, 20n]
  const failure = (member: number, code: string = NodeErrorCode.SILENT): MemberFailure => ({
    member,
    peerId: `member-${member}`,
    stake: stakes[member]!,
    code,
    message: '',
  })
  let ledger: StakeLedger

  beforeAll(async () => {
    const identities = await Promise.all(stakes.map((s) => memberIdentity(s)))
    const registry = registryOf(NETWORK, [
      { epoch: 0, members: identities.map((identity) => ({ identity })), sequencers: [] },
    ])
    ledger = new StakeLedger(committeeOf(registry, 0))
  })

  it('q is out of reach once failed plus silent stake passes a third, and back in reach when a silent one resumes', () => {
    ledger.silence(failure(2))
    expect(ledger.reachable).toBe(true)
    ledger.resume(2)
    ledger.silence(failure(3))
    expect(ledger.reachable).toBe(true)
    ledger.silence(failure(2))
    expect(ledger.lostStake).toBe(40n)
    expect(ledger.reachable).toBe(false)
    ledger.resume(3)
    expect(ledger.reachable).toBe(true)
  })

  it('a failure is final: resuming does not undo it, and a later silence does not replace its code', () => {
    ledger.resume(2)
    ledger.fail(failure(2, 'P2P_DIAL_FAILED'))
    ledger.resume(2)
    ledger.silence(failure(2))
    expect(ledger.lost().map((f) => [f.member, f.code])).toEqual([[2, 'P2P_DIAL_FAILED']])
    ledger.silence(failure(3))
    expect(ledger.reachable).toBe(false)
    expect(ledger.silent().map((f) => f.member)).toEqual([3])
  })
})
