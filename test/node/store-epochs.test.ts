import { describe, expect, it } from 'vitest'
import type { Committee } from '../../src/committee/committee.ts'
import { CommitteeErrorCode, committeeError } from '../../src/committee/errors.ts'
import type { CommitteeSource } from '../../src/committee/source.ts'
import { StoreEpochs } from '../../src/node/epochs.ts'
import { fakeCommittee } from '../committee/helpers.ts'

/** A source whose epoch in force the test moves, the way a chain source's moves with the head. */
class MovingSource implements CommitteeSource {
  inForce = 0
  /** Epochs with no committee (a source listing epochs with gaps): getCommittee refuses them. */
  missing = new Set<number>()
  /** What a refresh moves the epoch to (the chain had news the last poll missed). */
  onRefresh: number | undefined
  refreshes = 0
  /** How long a refresh takes (a chain poll's round trip). */
  refreshMs = 0
  readonly #committees = new Map<number, Committee>()

  async getCommittee(epoch: number): Promise<Committee> {
    if (this.missing.has(epoch)) {
      throw committeeError(CommitteeErrorCode.UNKNOWN_EPOCH, `no committee is registered for epoch ${epoch}`)
    }
    let committee = this.#committees.get(epoch)
    if (!committee) {
      committee = fakeCommittee([10n, 20n], { epoch })
      this.#committees.set(epoch, committee)
    }
    return committee
  }
  async epochs(): Promise<number[]> {
    return [0]
  }
  async currentEpoch(): Promise<number> {
    return this.inForce
  }
  async refresh(): Promise<void> {
    this.refreshes++
    if (this.refreshMs > 0) await new Promise((resolve) => setTimeout(resolve, this.refreshMs))
    if (this.onRefresh !== undefined) this.inForce = this.onRefresh
  }
}

const staleEpoch = expect.objectContaining({ code: 'NODE_STALE_EPOCH' })

describe('StoreEpochs', () => {
  it('takes the epoch in force, and the one before it only within the grace after the change', async () => {
    const source = new MovingSource()
    let now = 1_000
    const epochs = new StoreEpochs(source, { previousEpochGraceMs: 30_000, now: () => now })
    expect((await epochs.committeeFor(0)).epoch).toBe(0)

    source.inForce = 1
    expect((await epochs.committeeFor(1)).epoch).toBe(1)
    now += 29_000
    expect((await epochs.committeeFor(0)).epoch).toBe(0)
    now += 2_000
    await expect(epochs.committeeFor(0)).rejects.toThrow(staleEpoch)
    await expect(epochs.committeeFor(2)).rejects.toThrow(staleEpoch)
  })

  it('gives the grace to the epoch in force before, not to older ones', async () => {
    const source = new MovingSource()
    const epochs = new StoreEpochs(source, { now: () => 0 })
    await epochs.committeeFor(0)
    source.inForce = 1
    await epochs.committeeFor(1)
    source.inForce = 2
    await expect(epochs.committeeFor(0)).rejects.toThrow(staleEpoch)
    expect((await epochs.committeeFor(1)).epoch).toBe(1)
  })

  it('gives it to the epoch just before the one in force even when the member last saw an older one', async () => {
    // No store reached this member during epoch 3: it saw 2, then 4. A sequencer a poll behind still sends for 3.
    const source = new MovingSource()
    let now = 0
    const epochs = new StoreEpochs(source, { previousEpochGraceMs: 30_000, now: () => now })
    source.inForce = 2
    await epochs.committeeFor(2)
    source.inForce = 4
    expect((await epochs.committeeFor(3)).epoch).toBe(3)
    expect((await epochs.committeeFor(2)).epoch).toBe(2)
    now += 31_000
    await expect(epochs.committeeFor(3)).rejects.toThrow(staleEpoch)
  })

  it('gives the grace to the epoch before the one in force at its first store (none came before the change)', async () => {
    // A member that took no store yet when epoch 4 began; a sequencer a poll behind sends for 3.
    const source = new MovingSource()
    let now = 1_000_000
    const epochs = new StoreEpochs(source, { previousEpochGraceMs: 30_000, now: () => now })
    source.inForce = 4
    expect((await epochs.committeeFor(3)).epoch).toBe(3)
    await expect(epochs.committeeFor(2)).rejects.toThrow(staleEpoch)
    now += 31_000
    await expect(epochs.committeeFor(3)).rejects.toThrow(staleEpoch)
    expect((await epochs.committeeFor(4)).epoch).toBe(4)
  })

  it('refuses the epoch before the one in force as stale, within its grace, when it has no committee', async () => {
    // A committee registered first for epoch 1: a header naming epoch 0 is stale, not a question about the registry.
    const source = new MovingSource()
    source.inForce = 1
    source.missing.add(0)
    const epochs = new StoreEpochs(source, { previousEpochGraceMs: 30_000, now: () => 0 })
    await expect(epochs.committeeFor(0)).rejects.toThrow(staleEpoch)
    expect((await epochs.committeeFor(1)).epoch).toBe(1)
    // The epoch in force without a committee is the source's fault, and says so.
    source.missing.add(1)
    await expect(epochs.committeeFor(1)).rejects.toThrow(expect.objectContaining({ code: 'COMMITTEE_UNKNOWN_EPOCH' }))
  })

  it('asks the source for news when a store names a later epoch, at most every 2 s', async () => {
    const source = new MovingSource()
    let now = 0
    const epochs = new StoreEpochs(source, { now: () => now })
    source.onRefresh = 1
    expect((await epochs.committeeFor(1)).epoch).toBe(1)
    expect(source.refreshes).toBe(1)
    source.onRefresh = undefined
    now += 2_000
    await expect(epochs.committeeFor(5)).rejects.toThrow(staleEpoch)
    expect(source.refreshes).toBe(2)
    // A sequencer naming a far epoch store after store cannot make the member poll its chain for each.
    for (let i = 0; i < 20; i++) await expect(epochs.committeeFor(6 + i)).rejects.toThrow(staleEpoch)
    expect(source.refreshes).toBe(2)
    now += 2_000
    source.onRefresh = 7
    expect((await epochs.committeeFor(7)).epoch).toBe(7)
    expect(source.refreshes).toBe(3)
  })

  it('stores for a new epoch arriving together all wait for the one refresh they set off', async () => {
    const source = new MovingSource()
    source.onRefresh = 1
    source.refreshMs = 50
    const epochs = new StoreEpochs(source)
    const outcomes = await Promise.all([epochs.committeeFor(1), epochs.committeeFor(1), epochs.committeeFor(1)])
    expect(outcomes.map((c) => c.epoch)).toEqual([1, 1, 1])
    expect(source.refreshes).toBe(1)
  })

  it('a source that goes back (a reloaded file, a deep reorg) leaves no grace behind', async () => {
    const source = new MovingSource()
    const epochs = new StoreEpochs(source, { now: () => 0 })
    source.inForce = 3
    await epochs.committeeFor(3)
    source.inForce = 4
    await epochs.committeeFor(4)
    source.inForce = 2
    await expect(epochs.committeeFor(3)).rejects.toThrow(staleEpoch)
    expect((await epochs.committeeFor(2)).epoch).toBe(2)
  })

  it('refuses a negative grace', () => {
    expect(() => new StoreEpochs(new MovingSource(), { previousEpochGraceMs: -1 })).toThrow(
      expect.objectContaining({ code: 'NODE_INVALID_OPTIONS' }),
    )
  })

  it('anyAccepted tries the epoch in force and the one in its grace, then asks the source for news at most every 2 s', async () => {
    const source = new MovingSource()
    let now = 0
    const epochs = new StoreEpochs(source, { previousEpochGraceMs: 30_000, now: () => now })
    const seen: number[] = []
    const only = (epoch: number) => (committee: Committee) => {
      seen.push(committee.epoch)
      return committee.epoch === epoch
    }
    expect(await epochs.anyAccepted(only(0))).toBe(true)
    await epochs.committeeFor(0)
    source.inForce = 1
    expect(await epochs.anyAccepted(only(0))).toBe(true) // the epoch before, in its grace
    now += 31_000
    seen.length = 0
    // A sender nobody knows: the source is asked once, then not again within the interval however often it tries.
    expect(await epochs.anyAccepted(() => false)).toBe(false)
    expect(source.refreshes).toBe(1)
    for (let i = 0; i < 20; i++) expect(await epochs.anyAccepted(() => false)).toBe(false)
    expect(source.refreshes).toBe(1)
    now += 2_000
    // A sequencer of an epoch the source only learns of on refresh is accepted.
    source.onRefresh = 2
    expect(await epochs.anyAccepted(only(2))).toBe(true)
    expect(source.refreshes).toBe(2)
  })
})
