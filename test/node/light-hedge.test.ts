import { setTimeout as sleep } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Logger, silentLogger } from '../../src/logger.ts'
import { NodeErrorCode, nodeError } from '../../src/node/errors.ts'
import { DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS } from '../../src/node/light-client.ts'
import { handleSampleStream } from '../../src/p2p/sample.ts'
import { serveCorruptSamples, serveSamplesPerStream } from './harness.ts'
import {
  checkDrawing,
  expectConsistent,
  freshClient,
  freshNode,
  HEDGED_WITHIN_MS,
  members,
  membersFailed,
  QUIET,
  startCommittee,
  stopCommittee,
  timedSample,
} from './light-hedge.ts'

/**
 * A light client with the default hedge against holders that answer late, or never, on connections that are
 * open: it draws past them and remembers them silent. The committee and its set-up are in light-hedge.ts.
 */

/** Sample streams each member's late handler (answerLate) took. */
const lateStreams = new Map<number, number>()

/** Member i keeps its connections but its sample handler answers after `delayMs` (never, for Infinity). */
async function answerLate(i: number, delayMs: number): Promise<void> {
  const node = members[i]!.node
  await serveSamplesPerStream(node, async (stream, connection) => {
    lateStreams.set(i, (lateStreams.get(i) ?? 0) + 1)
    if (delayMs === Number.POSITIVE_INFINITY) return new Promise<void>(() => {})
    await sleep(delayMs)
    await handleSampleStream({ readShard: (id, index) => node.store.getShard(id, index) }, stream, connection)
  })
}

async function answerNormally(i: number): Promise<void> {
  await serveCorruptSamples(members[i]!.node, 0) // XOR with 0: the honest handler
}

/** A logger that hands `onSilent` each member its client logs as silent (past the hedge delay, or the timeout). */
function silenceLogger(onSilent: (member: number) => void): Logger {
  const logger: Logger = {
    ...silentLogger,
    debug: (message, fields) => {
      if (message.startsWith('holder silent')) onSilent(fields?.member as number)
    },
    child: () => logger,
  }
  return logger
}

describe('a light client facing silent holders', () => {
  beforeAll(startCommittee, 60_000)

  afterAll(stopCommittee)

  it('reports no silent holder on healthy checks, from fresh clients and from clients already connected', async () => {
    for (let run = 0; run < 3; run++) {
      const client = await freshClient()
      for (let check = 0; check < 2; check++) {
        const result = await timedSample(client)
        expect(result.available).toBe(true)
        expect(result.failures, JSON.stringify(result.failures)).toEqual([])
      }
    }
  })

  it('does not fail or skip a holder slower than the others but within the hedge delay', async () => {
    await answerLate(0, 60)
    for (let run = 0; run < 2; run++) {
      const result = await timedSample(await freshClient())
      expect(result.available).toBe(true)
      expect(result.failures, JSON.stringify(result.failures)).toEqual([])
    }
    await answerNormally(0)
  })

  it('concludes available without holders of 30% of the stake that answer after 3 s, and fails none of them', async () => {
    for (const i of QUIET) await answerLate(i, 3_000)
    try {
      const result = await checkDrawing(QUIET, freshClient)
      expect(result.available).toBe(true)
      expect(result.wall).toBeLessThan(HEDGED_WITHIN_MS)
      // Still unanswered when the rounds drawn without them concluded: counted as failures, failed for nothing.
      expect(result.unanswered.some((u) => QUIET.includes(u.member))).toBe(true)
      expect(result.failures, JSON.stringify(result.failures)).toEqual([])
      expectConsistent(result)
    } finally {
      for (const i of QUIET) await answerNormally(i)
    }
  })

  it('draws past holders that stop answering on connections already open (a long-lived client)', async () => {
    const { client, libp2p } = await freshNode()
    const warmUp = await timedSample(client)
    expect(warmUp.failures, JSON.stringify(warmUp.failures)).toEqual([])
    // A client that has been checking for a while holds a connection to every member.
    for (const m of members) await libp2p.dial(multiaddr(m.node.addresses()[0]!))
    for (const i of QUIET) await answerLate(i, Number.POSITIVE_INFINITY)
    try {
      const result = await checkDrawing(QUIET, async () => client)
      expect(result.available).toBe(true)
      expect(result.wall).toBeLessThan(HEDGED_WITHIN_MS)
      // Still unanswered when the rounds drawn without them concluded.
      expect(result.failures, JSON.stringify(result.failures)).toEqual([])
      expect(result.unanswered.some((u) => QUIET.includes(u.member))).toBe(true)
      expectConsistent(result)
      // Their requests run on after the check; the checks that follow draw past them as well.
      for (let run = 0; run < 3; run++) {
        const later = await timedSample(client)
        expect(later.available).toBe(true)
        expect(later.wall).toBeLessThan(HEDGED_WITHIN_MS)
        expect(membersFailed(later).every((m) => QUIET.includes(m))).toBe(true)
      }
    } finally {
      for (const i of QUIET) await answerNormally(i)
    }
  })

  it('remembers holders silent past the hedge delay: later checks ask them through one probe, and draw past them', async () => {
    const remembered = new Set<number>()
    const { client } = await freshNode(silenceLogger((member) => remembered.add(member)))
    expect((await timedSample(client)).failures).toEqual([])
    for (const i of QUIET) await answerLate(i, Number.POSITIVE_INFINITY)
    try {
      const first = await checkDrawing(QUIET, async () => client)
      expect(first.unanswered.some((u) => QUIET.includes(u.member))).toBe(true)
      expect(first.failures, JSON.stringify(first.failures)).toEqual([])
      // Past the hedge delay (a few hundred ms here, more on a loaded machine) they are remembered silent; one the
      // first check happened not to draw is drawn by another.
      const asked = new Map(QUIET.map((i) => [i, lateStreams.get(i) ?? 0]))
      const until = performance.now() + 3 * DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS
      while (!QUIET.every((i) => remembered.has(i)) && performance.now() < until) {
        if (QUIET.some((i) => (lateStreams.get(i) ?? 0) === asked.get(i))) await timedSample(client)
        else await sleep(100)
      }
      expect([...remembered].filter((i) => QUIET.includes(i)).sort()).toEqual(QUIET)
      const before = QUIET.map((i) => lateStreams.get(i) ?? 0)
      let drewQuiet = 0
      for (let run = 0; run < 4; run++) {
        const later = await timedSample(client, {
          onOutcome: (o) => {
            if (QUIET.includes(o.member)) drewQuiet++
          },
        })
        drewQuiet += later.unanswered.filter((u) => QUIET.includes(u.member)).length
        expect(later.available).toBe(true)
        expect(later.wall).toBeLessThan(HEDGED_WITHIN_MS)
        expect(membersFailed(later).every((m) => QUIET.includes(m))).toBe(true)
        for (const f of later.failures) expect(f.code, f.reason).toBe(NodeErrorCode.SILENT)
      }
      expect(drewQuiet).toBeGreaterThan(0) // four checks that all miss 30% of the shards: about one in 10^8
      // However many of their samples the checks drew, each was asked once, by its probe (it has 5 s to answer).
      for (const [j, i] of QUIET.entries()) expect((lateStreams.get(i) ?? 0) - before[j]!).toBeLessThanOrEqual(1)
    } finally {
      for (const i of QUIET) await answerNormally(i)
    }
    // Once they answer again, a probe brings them back (the stalled one first runs out its 5 s): their samples
    // come back valid again.
    const deadline = performance.now() + 3 * DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS
    let back = false
    while (!back && performance.now() < deadline) {
      await timedSample(client, {
        onOutcome: (o) => {
          if (QUIET.includes(o.member) && o.ok) back = true
        },
      })
      if (!back) await new Promise((r) => setTimeout(r, 250))
    }
    expect(back).toBe(true)
  })

  it('takes a remembered holder back when its probe is refused: a refusal is an answer, not silence', async () => {
    const remembered = new Set<number>()
    const { client } = await freshNode(silenceLogger((member) => remembered.add(member)))
    expect((await timedSample(client)).failures).toEqual([])
    const quiet = QUIET[0]!
    await answerLate(quiet, Number.POSITIVE_INFINITY)
    const until = performance.now() + 3 * DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS
    while (!remembered.has(quiet) && performance.now() < until) await timedSample(client)
    expect(remembered.has(quiet)).toBe(true)
    // From now on the holder refuses the first shard it is asked for (the probe's) NODE_BUSY, and serves the rest.
    const node = members[quiet]!.node
    let reads = 0
    await serveSamplesPerStream(node, async (stream, connection) => {
      await handleSampleStream(
        {
          async readShard(id, index) {
            if (++reads === 1) throw nodeError(NodeErrorCode.BUSY, 'every shard-read slot is taken')
            return node.store.getShard(id, index)
          },
        },
        stream,
        connection,
      )
    })
    try {
      let served = false
      const deadline = performance.now() + 3 * DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS
      while (!served && performance.now() < deadline) {
        const result = await timedSample(client, {
          onOutcome: (o) => {
            if (o.member === quiet && o.ok) served = true
          },
        })
        expect(result.failures.filter((f) => f.member === quiet)).toEqual([])
      }
      expect(served).toBe(true)
      expect(reads).toBeGreaterThan(1)
    } finally {
      await answerNormally(quiet)
    }
  })
})
