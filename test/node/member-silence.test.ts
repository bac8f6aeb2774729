import { describe, expect, it } from 'vitest'
import { SilenceWatch } from '../../src/node/member-silence.ts'

/**
 * The silence watch a dispersal keeps on each member (src/node/member-silence.ts): when no progress counts as
 * silence, and how a share that keeps flowing stretches the deadline. Real timers, no network.
 */

describe('the silence watch', () => {
  it('reports silence after the deadline, progress resets it, and a stopped watch reports nothing', async () => {
    const changes: [boolean, string][] = []
    const watch = new SilenceWatch(150, (silent, phase) => changes.push([silent, phase]))
    await new Promise((r) => setTimeout(r, 100))
    watch.progress('sending')
    await new Promise((r) => setTimeout(r, 100))
    expect(changes).toEqual([])
    await new Promise((r) => setTimeout(r, 150))
    expect(changes).toEqual([[true, 'sending']])
    watch.progress('answering')
    expect(changes).toEqual([
      [true, 'sending'],
      [false, 'answering'],
    ])
    watch.stop()
    await new Promise((r) => setTimeout(r, 250))
    expect(changes).toHaveLength(2)
  })

  it('holds a flowing share to its own pace, and gives the answer the silence deadline again on top', async () => {
    const changes: [boolean, string][] = []
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    const watch = new SilenceWatch(500, (silent, phase) => changes.push([silent, phase]))
    watch.progress('sending')
    await sleep(300)
    // A step of 300 ms: while sending, the member may now stay quiet for 4 × 300 = 1,200 ms, more than 500.
    watch.progress()
    await sleep(800)
    expect(changes).toEqual([])
    // The whole share handed over: its answer is due within 1,200 + 500 ms of the last progress.
    watch.enter('answering')
    await sleep(650)
    expect(changes).toEqual([])
    await sleep(850)
    expect(changes).toEqual([[true, 'answering']])
    watch.stop()
  })
})
