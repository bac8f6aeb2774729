/**
 * The light client's promise, counted: with holders withholding just over the threshold (k - 1 shards left), a
 * check concludes "available" with probability at most 1 - target. `npm test` runs a few hundred checks at weak
 * targets, where the bound is large enough to be measured, and a few at the default; `npm run soak -- withholding`
 * runs 10,000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWithheld, type Withheld } from './withholding.ts'

let withheld: Withheld

beforeAll(async () => {
  withheld = await startWithheld()
}, 60_000)

afterAll(async () => {
  await withheld?.stop()
})

/** Three standard deviations above the bound's mean, so a correct client fails this about once in a thousand runs. */
function ceiling(trials: number, bound: number): number {
  return trials * bound + 3 * Math.sqrt(trials * bound * (1 - bound))
}

describe('false accepts under withholding just over the threshold', () => {
  it('leaves exactly k - 1 shards served', () => {
    expect(withheld.kept).toBe(withheld.k - 1)
  })

  for (const [trials, confidence] of [
    [300, 0.9],
    [300, 0.99],
  ] as const) {
    it(`${trials} checks at target ${confidence}: at most ${Math.round((1 - confidence) * 1000) / 10}% conclude available`, async () => {
      const { falseAccepts } = await withheld.trials(trials, confidence)
      expect(falseAccepts).toBeLessThanOrEqual(ceiling(trials, 1 - confidence))
    }, 120_000)
  }

  it('20 checks at the default target: none concludes available', async () => {
    const { falseAccepts } = await withheld.trials(20, 1 - 1e-6)
    expect(falseAccepts).toBe(0)
  }, 120_000)
})
