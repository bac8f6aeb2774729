import { describe, expect, it } from 'vitest'
import { committeeOf } from '../../src/committee/source.ts'
import { defaultSendLanes, SendLanes, sendOrder } from '../../src/node/send-lanes.ts'
import { memberIdentity, registryOf } from './harness.ts'

async function committeeWith(stakes: bigint[]) {
  const identities = await Promise.all(stakes.map((s) => memberIdentity(s)))
  return committeeOf(
    registryOf(1, [{ epoch: 0, members: identities.map((identity) => ({ identity })), sequencers: [] }]),
    0,
  )
}

describe('send lanes', () => {
  it('orders members by stake, largest first, ties by index', async () => {
    const committee = await committeeWith([5n, 30n, 5n, 40n, 20n])
    expect(sendOrder(committee).map((m) => m.index)).toEqual([3, 1, 4, 0, 2])
  })

  it('runs the fewest members that reach q, and half as many again, at once by default', async () => {
    // q = 2/3 of 100: 40 + 30 = 70 reaches it with two members; three lanes.
    expect(defaultSendLanes(await committeeWith([5n, 30n, 5n, 40n, 20n]))).toBe(3)
    // Sixteen equal stakes: eleven reach q (11/16 >= 2/3), so all sixteen at once.
    expect(defaultSendLanes(await committeeWith(Array.from({ length: 16 }, () => 1n)))).toBe(16)
    // One member holds q alone: two lanes.
    expect(defaultSendLanes(await committeeWith([80n, 10n, 10n]))).toBe(2)
  })

  it('grants lanes in the order asked, frees each once, and drops a waiter whose signal aborts', async () => {
    const lanes = new SendLanes(2)
    const signal = new AbortController().signal
    const first = await lanes.take(signal)
    const second = await lanes.take(signal)
    const order: string[] = []
    const third = lanes.take(signal).then((free) => {
      order.push('third')
      return free
    })
    const abort = new AbortController()
    const dropped = lanes.take(abort.signal)
    const fourth = lanes.take(signal).then((free) => {
      order.push('fourth')
      return free
    })
    expect(lanes.waiting).toBe(3)
    abort.abort()
    expect(await dropped).toBeUndefined()
    expect(lanes.waiting).toBe(2)
    first!()
    first!() // a second call frees nothing more
    await third
    expect(order).toEqual(['third'])
    expect(lanes.waiting).toBe(1)
    second!()
    await fourth
    expect(order).toEqual(['third', 'fourth'])
    expect(await lanes.take(AbortSignal.abort())).toBeUndefined()
  })

  it('once opened, lets every waiting exchange and every later one start at once', async () => {
    const lanes = new SendLanes(1)
    const signal = new AbortController().signal
    await lanes.take(signal)
    const waiting = [lanes.take(signal), lanes.take(signal)]
    expect(lanes.waiting).toBe(2)
    lanes.open()
    expect(await Promise.all(waiting)).toEqual([expect.any(Function), expect.any(Function)])
    expect(lanes.waiting).toBe(0)
    expect(await lanes.take(signal)).toEqual(expect.any(Function))
    expect(lanes.waiting).toBe(0)
  })
})
