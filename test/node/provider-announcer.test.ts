import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { type BlobId, blobIdOf } from '../../src/erasure/blob-id.ts'
import { isDacnetError } from '../../src/errors.ts'
import { silentLogger } from '../../src/logger.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { MAX_RECORDS_PER_PUBLICATION, ProviderAnnouncer } from '../../src/node/provider-announcer.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import type { ProvideOutcome } from '../../src/p2p/provider-records.ts'

/**
 * The announcer's schedule only: when publications start and what each carries. That records reach the DHT is
 * test/p2p/provider-records.test.ts's and test/node/e2e.test.ts's (real libp2p nodes find the announcer's record).
 */
class RecordingRouting {
  readonly started: { blobId: string; at: number; batch: number }[] = []
  readonly batches: string[][] = []
  running = 0
  maxRunning = 0
  provideMs = 20

  readonly publish = async (blobIds: BlobId[]): Promise<ProvideOutcome> => {
    const batch = this.batches.push(blobIds.map(String)) - 1
    for (const blobId of blobIds) this.started.push({ blobId: blobId.toString(), at: performance.now(), batch })
    this.running++
    this.maxRunning = Math.max(this.maxRunning, this.running)
    await sleep(this.provideMs)
    this.running--
    return { how: 'direct', reached: 1, failed: 0 }
  }
}

const blob = (i: number) => blobIdOf(new Uint8Array([i, i >> 8, 7]))

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await sleep(5)
  }
}

describe('ProviderAnnouncer', () => {
  const announcers: ProviderAnnouncer[] = []
  afterEach(async () => {
    await Promise.all(announcers.splice(0).map((a) => a.stop()))
  })
  const announcer = (routing: RecordingRouting, opts: { quietMs?: number; maxDelayMs?: number }) => {
    const a = new ProviderAnnouncer({} as DacnetLibp2p, {
      enabled: true,
      logger: silentLogger,
      publish: routing.publish,
      ...opts,
    })
    announcers.push(a)
    return a
  }

  it('publishes what waits together once no store has begun or ended for the quiet time', async () => {
    const routing = new RecordingRouting()
    const a = announcer(routing, { quietMs: 300, maxDelayMs: 60_000 })
    a.storeActivity()
    const stored = performance.now()
    for (let i = 0; i < 5; i++) a.announce(blob(i))
    expect(a.pending).toBe(5)
    await sleep(100)
    // Another store comes in: the quiet time starts again from it.
    a.storeActivity()
    const last = performance.now()
    await until(() => routing.started.length === 5)
    expect(routing.started[0]!.at - last).toBeGreaterThanOrEqual(290)
    expect(routing.started[0]!.at - stored).toBeGreaterThanOrEqual(390)
    expect(routing.started.map((s) => s.blobId)).toEqual([0, 1, 2, 3, 4].map((i) => blob(i).toString()))
    expect(routing.batches).toHaveLength(1)
    await until(() => a.pending === 0)
  })

  it('publishes at most MAX_RECORDS_PER_PUBLICATION blobs at once, two publications at a time', async () => {
    const routing = new RecordingRouting()
    const a = announcer(routing, { quietMs: 200 })
    a.storeActivity()
    const count = 2 * MAX_RECORDS_PER_PUBLICATION + 3
    for (let i = 0; i < count; i++) a.announce(blob(i))
    await until(() => routing.started.length === count)
    expect(routing.batches.map((b) => b.length)).toEqual([MAX_RECORDS_PER_PUBLICATION, MAX_RECORDS_PER_PUBLICATION, 3])
    expect(routing.started.map((s) => s.blobId)).toEqual(Array.from({ length: count }, (_, i) => blob(i).toString()))
    expect(routing.maxRunning).toBe(2)
    await until(() => a.pending === 0)
  })

  it('publishes a record that has waited the longest delay even while stores keep coming', async () => {
    const routing = new RecordingRouting()
    const a = announcer(routing, { quietMs: 10_000, maxDelayMs: 400 })
    a.storeActivity()
    const announced = performance.now()
    a.announce(blob(1))
    const busy = setInterval(() => a.storeActivity(), 50)
    try {
      await until(() => routing.started.length === 1)
    } finally {
      clearInterval(busy)
    }
    expect(routing.started[0]!.at - announced).toBeGreaterThanOrEqual(390)
  })

  it('publishes at once with no store activity, and with a quiet time of 0', async () => {
    const idle = new RecordingRouting()
    const a = announcer(idle, {})
    a.announce(blob(1))
    expect(idle.started).toHaveLength(1)
    const eager = new RecordingRouting()
    const b = announcer(eager, { quietMs: 0 })
    b.storeActivity()
    b.announce(blob(2))
    expect(eager.started).toHaveLength(1)
  })

  it('drops what waits at stop and never publishes after it', async () => {
    const routing = new RecordingRouting()
    const a = announcer(routing, { quietMs: 100 })
    a.storeActivity()
    a.announce(blob(1))
    await a.stop()
    expect(a.pending).toBe(0)
    await sleep(250)
    a.announce(blob(2))
    expect(routing.started).toHaveLength(0)
  })

  it('refuses a negative or non-finite delay with NODE_INVALID_OPTIONS', () => {
    const routing = new RecordingRouting()
    for (const opts of [{ quietMs: -1 }, { maxDelayMs: Number.NaN }]) {
      let err: unknown
      try {
        announcer(routing, opts)
      } catch (e) {
        err = e
      }
      expect(isDacnetError(err, NodeErrorCode.INVALID_OPTIONS)).toBe(true)
    }
  })
})
