import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import { DacnetError } from '../../src/errors.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import {
  HEDGE_FLOOR_MS,
  HEDGE_MEMORY,
  HEDGE_MULTIPLIER,
  HEDGE_NEW_CONNECTION_FACTOR,
  Hedge,
  hedgeDelayFor,
  RecentSlowest,
  type SilenceReport,
  silenceIn,
} from '../../src/node/hedge.ts'

/**
 * The hedge rule a light client draws past silent holders by (src/node/hedge.ts), on its own: the delay it
 * follows, what it reads as silence, and the watch that reports a request silent. No network here.
 */

describe('the hedge rule', () => {
  it('waits for a first answer, then follows the slowest answer of the same kind, never below the floor', () => {
    expect(hedgeDelayFor({}, true)).toBeUndefined()
    expect(hedgeDelayFor({}, false)).toBeUndefined()
    // A remembered cold answer alone does not start the clock: each call's first answers set its scale.
    expect(hedgeDelayFor({ coldBefore: 400 }, true)).toBeUndefined()
    expect(hedgeDelayFor({ cold: 20 }, true)).toBe(HEDGE_FLOOR_MS)
    expect(hedgeDelayFor({ cold: 200 }, true)).toBe(HEDGE_MULTIPLIER * 200)
    expect(hedgeDelayFor({ cold: 200, warm: 30 }, false)).toBe(HEDGE_FLOOR_MS)
    expect(hedgeDelayFor({ cold: 200, warm: 100 }, false)).toBe(HEDGE_MULTIPLIER * 100)
    // A warm request with only cold answers: a cold answer bounds a warm one from above.
    expect(hedgeDelayFor({ cold: 200 }, false)).toBe(HEDGE_MULTIPLIER * 200)
    // A cold request with only warm answers: scaled up for the handshakes, and never below a remembered cold one.
    expect(hedgeDelayFor({ warm: 50 }, true)).toBe(HEDGE_MULTIPLIER * HEDGE_NEW_CONNECTION_FACTOR * 50)
    expect(hedgeDelayFor({ warm: 50, coldBefore: 900 }, true)).toBe(HEDGE_MULTIPLIER * 900)
    expect(hedgeDelayFor({ warm: 50, cold: 120, coldBefore: 900 }, true)).toBe(HEDGE_MULTIPLIER * 120)
  })

  it('takes an explicit delay as given, and 0 or Infinity as no hedge', () => {
    expect(hedgeDelayFor({}, true, 300)).toBe(300)
    expect(hedgeDelayFor({ cold: 2_000 }, true, 300)).toBe(300)
    expect(hedgeDelayFor({ cold: 20 }, false, 0)).toBeUndefined()
    expect(hedgeDelayFor({ cold: 20 }, false, Number.POSITIVE_INFINITY)).toBeUndefined()
  })

  it("reads a timeout or a stalled dial as silence, and keeps a refusal, a drop or a holder's ERROR as they are", () => {
    const dial = (message: string) => new DacnetError('P2P_DIAL_FAILED', `dialling x: ${message}`)
    // What libp2p throws when a noise handshake stalls past its own 6 s address timeout.
    expect(silenceIn(dial('The operation was aborted due to timeout'), 6_012, 10_000)).toMatchObject({
      code: NodeErrorCode.SILENT,
      message: expect.stringContaining('silent for 6012 ms: the dial never completed'),
    })
    expect(silenceIn(new DacnetError('P2P_TIMEOUT', 'sample: timed out'), 5_000, 5_000)).toMatchObject({
      code: NodeErrorCode.SILENT,
      message: 'silent for 5000 ms: no answer within the request timeout',
    })
    expect(silenceIn(dial('connect ECONNREFUSED 127.0.0.1:4001'), 2, 5_000)).toBeUndefined()
    expect(silenceIn(new DacnetError('P2P_STREAM_ENDED', 'sample: reset'), 40, 5_000)).toBeUndefined()
    expect(
      silenceIn(new DacnetError('P2P_TIMEOUT', 'x refused: timed out', { remote: true }), 40, 5_000),
    ).toBeUndefined()
    expect(silenceIn(new Error('timeout'), 40, 5_000)).toBeUndefined()
  })

  it('looks once more before reporting silence when this process was too busy to watch on time', async () => {
    const hedge = new Hedge(300)
    const cut: SilenceReport[] = []
    const started = performance.now()
    hedge.watch(started, true, (r) => cut.push(r))
    while (performance.now() - started < 600) {} // busy: the 300 ms timer fires about 300 ms late
    await sleep(50)
    expect(cut).toEqual([]) // it looks again 300 ms after waking
    await expect.poll(() => cut.length, { timeout: 2_000, interval: 10 }).toBe(1)
    expect(cut[0]!.waitedMs).toBeGreaterThanOrEqual(850)
  })

  it('remembers the slowest of the last HEDGE_MEMORY times', () => {
    const recent = new RecentSlowest()
    expect(recent.ms).toBeUndefined()
    recent.record(500)
    for (let i = 0; i < HEDGE_MEMORY - 1; i++) recent.record(10)
    expect(recent.ms).toBe(500)
    recent.record(10)
    expect(recent.ms).toBe(10)
  })

  it('reports a request silent once it outlives the delay, re-reading the delay as answers come; a disarmed watch never fires', async () => {
    // The clock and timers are fake; setImmediate is real: a cut runs once the turn's I/O has had its chance.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const tick = async (ms: number) => {
      vi.advanceTimersByTime(ms)
      await new Promise((resolve) => setImmediate(resolve))
    }
    try {
      const hedge = new Hedge()
      const cut: SilenceReport[] = []
      hedge.watch(performance.now(), true, (r) => cut.push(r))
      hedge.watch(performance.now(), true, () => {
        throw new Error('a disarmed watch fired')
      })()
      await tick(10_000)
      expect(cut).toEqual([]) // no answer yet: nothing to tell silence by
      hedge.watch(performance.now(), true, (r) => cut.push(r))
      hedge.answered(100, true) // cold requests now wait 200 ms: the first one has waited longer already
      expect(cut).toEqual([]) // cut after this turn's I/O, which might still bring its answer
      await tick(0)
      expect(cut).toMatchObject([{ waitedMs: 10_000, delayMs: 200, cold: true, basis: { ms: 100, cold: true } }])
      await tick(150)
      hedge.answered(150, true) // now 300 ms: the second one, 150 ms in, gets more time
      await tick(149)
      expect(cut).toHaveLength(1)
      await tick(1)
      expect(cut).toHaveLength(2)
      expect(cut[1]).toMatchObject({ waitedMs: 300, delayMs: 300, basis: { ms: 150 } })
      // A warm request follows warm answers once there are some, never below the floor.
      hedge.watch(performance.now(), false, (r) => cut.push(r))
      hedge.answered(5, false)
      await tick(HEDGE_FLOOR_MS - 1)
      expect(cut).toHaveLength(2)
      await tick(1)
      expect(cut[2]).toMatchObject({ delayMs: HEDGE_FLOOR_MS, cold: false, basis: { ms: 5, cold: false } })
      // A fixed delay needs no answer; every timer is gone once the watches fired or were disarmed.
      const fixed = new Hedge(30)
      fixed.watch(performance.now(), true, (r) => cut.push(r))
      await tick(30)
      expect(cut[3]).toMatchObject({ delayMs: 30, basis: undefined })
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })
})
