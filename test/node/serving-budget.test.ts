import { describe, expect, it } from 'vitest'
import { NOT_ADMITTED, SERVING_BURST_SECONDS, ServingBudget } from '../../src/node/serving-budget.ts'

/** The node-wide serving budget on its own: who is admitted at once, who waits, and in which order. */

const KiB = 1024

/** Admits one read of `requester`'s at once and charges it `bytes`; fails the test if it was not admitted. */
function serve(budget: ServingBudget, requester: string, bytes: number): void {
  const reserved = budget.admitNow(requester)
  expect(reserved, `${requester} admitted`).not.toBe(NOT_ADMITTED)
  budget.charge(requester, bytes, reserved)
}

describe('a node-wide serving budget', () => {
  it('admits anyone while it has room, and charges each read what it served', () => {
    const budget = new ServingBudget(1024 * KiB)
    // A quarter of a second's bytes go through at once, from anyone.
    for (let i = 0; i < 4; i++) serve(budget, `r${i}`, (1024 * KiB * SERVING_BURST_SECONDS) / 4 - 1)
    expect(budget.activeRequesters).toBe(4)
    expect(budget.usageOf('r0')).toBeGreaterThan(60 * KiB)
    expect(budget.usageOf('nobody')).toBe(0)
  })

  it('once spent, holds back requesters past their fair share and admits those within it at once', () => {
    let now = 0
    const budget = new ServingBudget(100 * KiB, { now: () => now })
    serve(budget, 'heavy', 200 * KiB) // a newcomer: admitted, and now far past any share
    serve(budget, 'light', 1 * KiB)
    // Spent: two requesters share 100 KiB/s, 50 KiB each.
    expect(budget.fairShare).toBe(50 * KiB)
    expect(budget.admitNow('heavy')).toBe(NOT_ADMITTED)
    expect(budget.admitNow('light')).not.toBe(NOT_ADMITTED)
    expect(budget.admitNow('newcomer')).not.toBe(NOT_ADMITTED)
    // Use is forgotten over about a second: three seconds on, the heavy requester is within its share again.
    now += 3_000
    expect(budget.usageOf('heavy')).toBeLessThan(budget.fairShare)
    expect(budget.admitNow('heavy')).not.toBe(NOT_ADMITTED)
  })

  it('lets waiters in least served first as it refills, and refuses a wait that runs out', async () => {
    const budget = new ServingBudget(1024 * KiB)
    serve(budget, 'most', 2048 * KiB)
    serve(budget, 'less', 1024 * KiB)
    serve(budget, 'least', 512 * KiB)
    // All three are past their share (a third of 1 MiB/s each) and the budget is spent, for about a second.
    expect(budget.admitNow('least')).toBe(NOT_ADMITTED)
    expect(await budget.admit('least', 50)).toBe(NOT_ADMITTED)
    const order: string[] = []
    const waits = ['most', 'less', 'least'].map((who) =>
      budget.admit(who, 10_000).then((reserved) => {
        order.push(who)
        budget.charge(who, 64 * KiB, reserved)
      }),
    )
    expect(budget.waiting).toBe(3)
    await Promise.all(waits)
    expect(order).toEqual(['least', 'less', 'most'])
    expect(budget.waiting).toBe(0)
  })
})
