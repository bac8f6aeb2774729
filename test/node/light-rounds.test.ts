/**
 * The pieces of a light-client check that decide when its rounds are drawn, pure: where the rounds end, how the
 * error is spent over them, how long a silent holder is waited for before the next round is drawn without it,
 * and what the client remembers of holders found silent or down.
 */
import { describe, expect, it } from 'vitest'
import { binomialUpperTail, roundAllowance, roundEnds, samplesForTarget } from '../../src/node/confidence.ts'
import {
  HEDGE_FLOOR_MS,
  HEDGE_MULTIPLIER,
  hedgeDelayFor,
  SPECULATION_FLOOR_MS,
  SPECULATION_MULTIPLIER,
  speculationDelayFor,
} from '../../src/node/hedge.ts'
import { SilentHolders } from '../../src/node/silent-holders.ts'

describe('the rounds of a check', () => {
  it('end where the sequential rounds did: the first round, then half again (at least 8), up to the cap', () => {
    expect(roundEnds(13, 256)).toEqual([13, 21, 32, 48, 72, 108, 162, 243, 256])
    expect(roundEnds(3, 40)).toEqual([3, 11, 19, 29, 40])
    expect(roundEnds(300, 256)).toEqual([256])
    expect(roundEnds(1, 1)).toEqual([1])
    // The loop the rounds replaced, for many shapes: draws always end where a round does.
    for (let first = 1; first < 60; first += 3) {
      for (const max of [1, 8, 50, 256, 1000]) {
        const ends: number[] = []
        let samples = 0
        while (samples < max) {
          samples += Math.min(max - samples, samples === 0 ? first : Math.max(8, Math.ceil(samples / 2)))
          ends.push(samples)
        }
        expect(roundEnds(first, max)).toEqual(ends)
      }
    }
  })

  it('spend less than 1 - target over every round together', () => {
    for (const target of [0.9, 0.99, 1 - 1e-6]) {
      const ends = roundEnds(samplesForTarget(1 - roundAllowance(target, 1), 81, 256), 256)
      const spent = ends.reduce((sum, _, i) => sum + roundAllowance(target, i + 1), 0)
      expect(spent).toBeLessThan(1 - target)
    }
  })

  it('need no more than the first round when every sample succeeds, and pass a round on its own prefix only', () => {
    const k = 81
    const n = 256
    const p = (k - 1) / n
    const target = 1 - 1e-6
    const ends = roundEnds(samplesForTarget(1 - roundAllowance(target, 1), k, n), 256)
    expect(binomialUpperTail(ends[0]!, ends[0]!, p)).toBeLessThanOrEqual(roundAllowance(target, 1))
    // One failure among the first round's samples: that round cannot pass, whatever comes after it.
    expect(binomialUpperTail(ends[0]!, ends[0]! - 1, p)).toBeGreaterThan(roundAllowance(target, 1))
  })
})

describe('the speculation delay', () => {
  it('waits for a first answer, then follows the slowest answer of the same kind, well before the cut', () => {
    expect(speculationDelayFor({}, true)).toBeUndefined()
    expect(speculationDelayFor({}, false)).toBeUndefined()
    expect(speculationDelayFor({ warm: 5 }, false)).toBe(SPECULATION_FLOOR_MS)
    expect(speculationDelayFor({ warm: 100 }, false)).toBe(SPECULATION_MULTIPLIER * 100)
    expect(speculationDelayFor({ cold: 200, warm: 10 }, true)).toBe(SPECULATION_MULTIPLIER * 200)
    for (const answers of [{ warm: 5 }, { warm: 100 }, { cold: 200 }, { cold: 40, warm: 9, coldBefore: 300 }]) {
      for (const cold of [true, false]) {
        const hedge = hedgeDelayFor(answers, cold)!
        const speculation = speculationDelayFor(answers, cold)!
        expect(speculation).toBeLessThan(hedge)
        expect(hedge).toBeGreaterThanOrEqual(HEDGE_FLOOR_MS)
      }
    }
  })

  it('is three quarters of a fixed hedge delay, and none with hedging off', () => {
    expect(speculationDelayFor({}, true, 400)).toBe((400 * SPECULATION_MULTIPLIER) / HEDGE_MULTIPLIER)
    expect(speculationDelayFor({ warm: 10 }, false, 4_000)).toBe(3_000)
    expect(speculationDelayFor({ warm: 10 }, false, 0)).toBeUndefined()
    expect(speculationDelayFor({ warm: 10 }, false, Number.POSITIVE_INFINITY)).toBeUndefined()
  })
})

describe('what a light client remembers of holders', () => {
  it('tells a silent holder from a down one, forgets both after the memory or at their first answer', () => {
    let now = 0
    const holders = new SilentHolders(1_000, () => now)
    holders.markSilent('a')
    holders.markDown('b')
    now = 400
    expect(holders.recall('a')).toEqual({ ageMs: 400, down: false })
    expect(holders.recall('b')).toEqual({ ageMs: 400, down: true })
    expect(holders.silentFor('b')).toBe(400)
    holders.markAnswered('b')
    expect(holders.recall('b')).toBeUndefined()
    // Found silent again, it is now down: the latest finding counts.
    holders.markDown('a')
    expect(holders.recall('a')).toEqual({ ageMs: 0, down: true })
    now = 1_401
    expect(holders.recall('a')).toBeUndefined()
  })

  it('remembers nothing with a memory of 0', () => {
    const holders = new SilentHolders(0)
    holders.markSilent('a')
    holders.markDown('b')
    expect(holders.recall('a')).toBeUndefined()
    expect(holders.recall('b')).toBeUndefined()
  })

  it('probes a remembered holder once at a time; its answer clears it, a failure keeps it', async () => {
    const holders = new SilentHolders(10_000)
    holders.markDown('a')
    let release: (ok: boolean) => void = () => {}
    let asked = 0
    const ask = () => {
      asked++
      return new Promise<void>((resolve, reject) => {
        release = (ok) => (ok ? resolve() : reject(new Error('refused')))
      })
    }
    holders.probe('a', ask)
    holders.probe('a', ask)
    expect(asked).toBe(1)
    release(false)
    await expect.poll(() => holders.probing).toBe(0)
    expect(holders.recall('a')?.down).toBe(true)
    holders.probe('a', ask)
    release(true)
    await expect.poll(() => holders.probing).toBe(0)
    expect(holders.recall('a')).toBeUndefined()
  })
})
