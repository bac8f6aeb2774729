import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  HEDGE_BLIND_MS,
  HEDGE_FACTOR,
  HEDGE_MIN_MS,
  type Holder,
  OriginalsHedge,
  originalsFirst,
  wholeShares,
} from '../../src/node/retrieve-asks.ts'

const PEERS = [
  '12D3KooWEyYBZe6uwVSsYnsLA4c66NZkFufEfWG6i3MoKT7LdXse',
  '12D3KooWDgyBA6Fo7FX2MCvAgkrUWjsBRejDVNLjHy1h6a8Aawm6',
  '12D3KooWS3kteQD8biy6D72cpJsQKdnystbvDdjuWcHFmz2j6pn4',
]

function holder(i: number, originals: number, parity: number): Holder {
  return { peer: peerIdFromString(PEERS[i]!), originals, parity, provider: false }
}

describe('what a retrieval asks of whom', () => {
  it('with the header known: every holder of originals for those alone, then parity, the largest part first', () => {
    const holders = [holder(0, 5, 2), holder(1, 0, 9), holder(2, 3, 4)]
    const asks = originalsFirst(holders, 8)
    expect(asks.map((a) => [a.holder.peer.toString(), a.range, a.parity ?? false])).toEqual([
      [PEERS[0], { from: 0, to: 8 }, false],
      [PEERS[2], { from: 0, to: 8 }, false],
      [PEERS[1], { from: 8 }, true],
      [PEERS[2], { from: 8 }, true],
      [PEERS[0], { from: 8 }, true],
    ])
  })

  it('without it: each holder for its whole share, in the order given', () => {
    const asks = wholeShares([holder(1, 0, 0), holder(0, 0, 0)])
    expect(asks.map((a) => [a.holder.peer.toString(), a.range])).toEqual([
      [PEERS[1], undefined],
      [PEERS[0], undefined],
    ])
  })
})

describe('when parity shards are asked for', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  /** A hedge on the fake clock, and whether it has opened. */
  function hedgeOf(counts: Record<string, number>) {
    const hedge = new OriginalsHedge(new Map(Object.entries(counts)), () => Date.now())
    let opened = false
    void hedge.opened.then(() => {
      opened = true
    })
    const settle = async () => {
      await Promise.resolve()
      return opened
    }
    return { hedge, opened: settle }
  }

  it('at once when there is no originals stream, and when the last one ends', async () => {
    expect(new OriginalsHedge(new Map()).isOpen).toBe(true)
    const { hedge, opened } = hedgeOf({ a: 10, b: 10 })
    hedge.ended('a', false)
    expect(await opened()).toBe(false)
    hedge.ended('b', true)
    expect(await opened()).toBe(true)
  })

  it('HEDGE_BLIND_MS after the start while no stream has ended complete (a failed one gives no rate)', async () => {
    const { hedge, opened } = hedgeOf({ a: 10, b: 10, c: 10 })
    vi.advanceTimersByTime(5)
    hedge.ended('a', false)
    vi.advanceTimersByTime(HEDGE_BLIND_MS - 6)
    expect(await opened()).toBe(false)
    vi.advanceTimersByTime(1)
    expect(await opened()).toBe(true)
  })

  it('once a stream still open runs HEDGE_FACTOR times what its part should take at the rate of those ended', async () => {
    // `a` sends its 100 originals in 40 ms: 2.5 a ms. `c` has 200, so should take 80 ms; `b` 400, 160 ms. The
    // hedge opens when `c`, the first due, has run HEDGE_FACTOR × 80 ms.
    const { hedge, opened } = hedgeOf({ a: 100, b: 400, c: 200 })
    vi.advanceTimersByTime(40)
    hedge.ended('a', true)
    vi.advanceTimersByTime(HEDGE_FACTOR * 80 - 40 - 1)
    expect(await opened()).toBe(false)
    vi.advanceTimersByTime(1)
    expect(await opened()).toBe(true)
    expect(hedge.isOpen).toBe(true)
  })

  it('never before HEDGE_MIN_MS, and not at all once closed', async () => {
    const fast = hedgeOf({ a: 100, b: 1 })
    vi.advanceTimersByTime(1)
    fast.hedge.ended('a', true) // b, 1 shard at 100 a ms, is due at once
    vi.advanceTimersByTime(HEDGE_MIN_MS - 2)
    expect(await fast.opened()).toBe(false)
    vi.advanceTimersByTime(1)
    expect(await fast.opened()).toBe(true)

    const closed = hedgeOf({ a: 10, b: 10 })
    vi.advanceTimersByTime(10)
    closed.hedge.ended('a', true)
    closed.hedge.close()
    vi.advanceTimersByTime(60_000)
    expect(await closed.opened()).toBe(false)
  })
})
