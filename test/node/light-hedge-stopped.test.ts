import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { LightClient, type SampleResult } from '../../src/node/light-client.ts'
import { registryOf, SwappableCommitteeSource, startClient } from './harness.ts'
import {
  assignment,
  certificate,
  checkDrawing,
  clients,
  closeSilentServer,
  expectConsistent,
  freshClient,
  HEDGED_WITHIN_MS,
  members,
  membersFailed,
  NETWORK,
  QUIET,
  sequencer,
  silence,
  silentServer,
  startCommittee,
  stopCommittee,
  type TimedResult,
  timedSample,
} from './light-hedge.ts'

/**
 * A light client against stopped holders (ports that accept and never answer) and down ones (ports that refuse):
 * with the default hedge, with hedging off or a fixed delay, and the options it refuses. The committee and its
 * set-up are in light-hedge.ts; the cases run in order, and from the first on members 4 and 5 stay stopped.
 */

/** Wall-clock p50 of checks by fresh clients. */
async function freshChecks(runs: number, check: (result: TimedResult) => void): Promise<number> {
  const walls: number[] = []
  for (let run = 0; run < runs; run++) {
    const result = await timedSample(await freshClient())
    check(result)
    walls.push(result.wall)
  }
  return median(walls)
}

const codesOf = (result: SampleResult) => [...new Set(result.failures.map((f) => f.code))].sort()
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** The holders a check failed or left unanswered. */
const membersNotOk = (result: SampleResult) =>
  [...new Set([...result.failures, ...result.unanswered].map((f) => f.member))].sort()

describe('a light client facing silent holders', () => {
  beforeAll(startCommittee, 60_000)

  afterAll(stopCommittee)

  it('concludes available well within the request timeout with 30% of the stake stopped, and reports it silent', async () => {
    const healthyP50 = await freshChecks(3, (result) => expect(result.failures).toEqual([]))
    for (const i of QUIET) await silence(i)
    let notOk = 0
    const silentP50 = await freshChecks(3, (result) => {
      notOk += membersNotOk(result).filter((m) => QUIET.includes(m)).length
      expect(result.available).toBe(true)
      expect(result.wall).toBeLessThan(HEDGED_WITHIN_MS)
      for (const f of result.failures) expect(f.code, f.reason).toBe(NodeErrorCode.SILENT)
      expect(membersFailed(result).every((m) => QUIET.includes(m))).toBe(true)
      expectConsistent(result)
    })
    expect(notOk).toBeGreaterThan(0) // three checks that all miss 30% of the shards: about one in a million
    console.log(
      `fresh clients, p50 of 3 checks: healthy ${Math.round(healthyP50)} ms, 30% stopped ${Math.round(silentP50)} ms`,
    )
  })

  it('fails silent holders at the request timeout, not before, and closes every connection it opened to them', async () => {
    // The same committee as seen by one client only, every member at a port that accepts and never answers:
    // no other node knows these ports, so every connection they accept is this client's.
    const servers = await Promise.all(members.map(() => silentServer()))
    try {
      const view = new SwappableCommitteeSource()
      view.registry = registryOf(NETWORK, [
        {
          epoch: 0,
          members: members.map((m, i) => {
            const { port } = servers[i]!.server.address() as { port: number }
            return { identity: m.identity, addresses: [`/ip4/127.0.0.1/tcp/${port}/p2p/${m.identity.peerId}`] }
          }),
          sequencers: [sequencer.peerId.toString()],
        },
      ])
      const libp2p = await startClient()
      clients.push(libp2p)
      const result = await timedSample(new LightClient({ libp2p, committees: view }), {
        hedgeDelayMs: 200,
        requestTimeoutMs: 1_000,
      })
      expect(result.available).toBe(false)
      expect(result.successes).toBe(0)
      expect(codesOf(result)).toEqual([NodeErrorCode.SILENT])
      for (const f of result.failures) expect(f.reason).toContain('request timeout')
      expect(result.wall).toBeGreaterThanOrEqual(1_000)
      expect(result.wall).toBeLessThan(1_000 + HEDGED_WITHIN_MS)
      expect(servers.reduce((sum, s) => sum + s.accepted, 0)).toBeGreaterThan(0)
      await expect.poll(() => servers.reduce((sum, s) => sum + s.open.size, 0), { timeout: 1_000 }).toBe(0)
    } finally {
      for (const s of servers) await closeSilentServer(s)
    }
  })

  it('with hedging off, waits out the request timeout and still reports silence, not a dial failure', async () => {
    const result = await checkDrawing(QUIET, freshClient, { hedgeDelayMs: 0, requestTimeoutMs: 1_000 })
    expect(result.available).toBe(true)
    expect(result.wall).toBeGreaterThanOrEqual(1_000)
    expect(codesOf(result), JSON.stringify(result.failures)).toEqual([NodeErrorCode.SILENT])
    expect(result.failures[0]!.reason).toContain('request timeout')
  })

  it('applies a fixed hedge delay from the first request, drawing the next round at three quarters of it', async () => {
    const result = await checkDrawing(QUIET, freshClient, { hedgeDelayMs: 400 })
    expect(result.available).toBe(true)
    // The rounds that pass without the silent holders are drawn at 300 ms; nobody is failed before the timeout.
    expect(result.wall).toBeGreaterThanOrEqual(300)
    expect(result.wall).toBeLessThan(HEDGED_WITHIN_MS)
    expect(result.failures, JSON.stringify(result.failures)).toEqual([])
    // The holder the next round was drawn without had waited 300 ms; one first drawn in that round may be fresh.
    const waited = result.unanswered.filter((u) => QUIET.includes(u.member)).map((u) => u.waitedMs)
    if (waited.length > 0) expect(Math.max(...waited)).toBeGreaterThanOrEqual(300)
  })

  it('draws the next rounds at three quarters of a long fixed hedge delay, and concludes without the silent', async () => {
    // The request timeout past the longest such check, so that none of the silent holders' requests times out.
    const result = await checkDrawing(QUIET, freshClient, { hedgeDelayMs: 4_000, requestTimeoutMs: 10_000 })
    expect(result.available).toBe(true)
    // Drawn at 3 s after the silent holder was first asked, concluded on the holders that answer: at most twice
    // that here, when the other silent holder is first drawn in the round drawn without the first.
    expect(result.wall).toBeGreaterThanOrEqual(3_000)
    expect(result.wall).toBeLessThan(2 * 3_000 + 1_000)
    // A dial to a stopped member that libp2p gives up on (its own 5 s) is silence too, when the check runs that long.
    // The silent holders drawn are unanswered at the verdict, or failed NODE_SILENT by then.
    for (const f of result.failures) expect(f.code, f.reason).toBe(NodeErrorCode.SILENT)
    expect([...result.unanswered, ...result.failures].some((u) => QUIET.includes(u.member))).toBe(true)
    expect(membersFailed(result).every((m) => QUIET.includes(m))).toBe(true)
    expectConsistent(result)
  })

  it('fails a holder whose every address refuses as a failed dial at once, never retried, and remembers it down', async () => {
    // Members 4 and 5 as a devnet lists them, a TCP and a WebSocket address, both ports closed now.
    const closed = async () => {
      const s = await silentServer()
      const { port } = s.server.address() as { port: number }
      await closeSilentServer(s)
      return port
    }
    const view = new SwappableCommitteeSource()
    view.registry = registryOf(NETWORK, [
      {
        epoch: 0,
        members: await Promise.all(
          members.map(async (m, i) => ({
            identity: m.identity,
            addresses: QUIET.includes(i)
              ? [`/ip4/127.0.0.1/tcp/${await closed()}`, `/ip4/127.0.0.1/tcp/${await closed()}/ws`]
              : m.node.addresses(),
          })),
        ),
        sequencers: [sequencer.peerId.toString()],
      },
    ])
    const libp2p = await startClient()
    clients.push(libp2p)
    const client = new LightClient({ libp2p, committees: view })
    const first = await timedSample(client)
    expect(first.available, JSON.stringify(first)).toBe(true)
    expect(membersFailed(first).every((m) => QUIET.includes(m))).toBe(true)
    expect(first.failures.length).toBeGreaterThan(0)
    // Refused at once: never left unanswered (a holder that is up may be, when the verdict did not need it).
    expect(first.unanswered.filter((u) => QUIET.includes(u.member))).toEqual([])
    // A refusal, not a dropped stream: no retry 200 ms later, and the code says what happened.
    expect(codesOf(first), JSON.stringify(first.failures)).toEqual(['P2P_DIAL_FAILED'])
    expect(first.wall).toBeLessThan(HEDGED_WITHIN_MS)
    // The next check does not dial them again: their samples fail at once while a probe goes out. A check may draw
    // no sample from them (30% of the stake): the same client checks again, up to three times, until one does.
    let second = await timedSample(client)
    for (let tries = 1; second.failures.length === 0 && tries < 3; tries++) {
      expect(second.available).toBe(true)
      second = await timedSample(client)
    }
    expect(second.available).toBe(true)
    expect(codesOf(second)).toEqual(['P2P_DIAL_FAILED'])
    // Those the first check found down are not dialled again (one it did not draw is dialled, and refuses).
    for (const f of second.failures) {
      if (membersFailed(first).includes(f.member)) expect(f.reason).toContain('refused a dial in a check')
    }
    // Dialling ahead: a fresh client opens a connection to every holder up as the check starts, drawn or not, and
    // learns the refusals before their samples are drawn.
    const ahead = await startClient()
    clients.push(ahead)
    const third = await new LightClient({ libp2p: ahead, committees: view }).sample(certificate, {
      dialAhead: members.length,
      signal: AbortSignal.timeout(30_000),
    })
    expect(third.available).toBe(true)
    expect([...new Set(third.failures.map((f) => f.code))].every((c) => c === 'P2P_DIAL_FAILED')).toBe(true)
    const up = members.map((m) => m.identity.peerId).filter((_, i) => !QUIET.includes(i))
    await expect
      .poll(() => up.every((peer) => ahead.getConnections().some((c) => c.remotePeer.toString() === peer)))
      .toBe(true)
  })

  it("rejects with the error of a caller's onOutcome that throws, and holds nothing up", async () => {
    const client = await freshClient()
    await expect(
      client.sample(certificate, {
        onOutcome: () => {
          throw new Error('the page that drew the samples is gone')
        },
        signal: AbortSignal.timeout(10_000),
      }),
    ).rejects.toThrow('the page that drew the samples is gone')
    // The same client checks again, unharmed.
    expect((await timedSample(client)).available).toBe(true)
  })

  it('refuses a hedge delay, a request timeout, a dial-ahead or a sample cap that is no whole number in range', async () => {
    for (const maxSamples of [0, 10.5, Number.NaN, Number.POSITIVE_INFINITY, 100_001]) {
      await expect((await freshClient()).sample(certificate, { maxSamples })).rejects.toMatchObject({
        code: NodeErrorCode.INVALID_OPTIONS,
      })
    }
    for (const dialAhead of [-1, 1.5]) {
      await expect((await freshClient()).sample(certificate, { dialAhead })).rejects.toMatchObject({
        code: NodeErrorCode.INVALID_OPTIONS,
      })
    }
    // Delays past what a timer keeps would cut (or hedge) every request at once, and call a healthy blob unavailable.
    for (const hedgeDelayMs of [-1, 2 ** 31, 1.5]) {
      await expect((await freshClient()).sample(certificate, { hedgeDelayMs })).rejects.toMatchObject({
        code: NodeErrorCode.INVALID_OPTIONS,
      })
    }
    for (const requestTimeoutMs of [0, -1, 3_000_000_000, Number.POSITIVE_INFINITY, 2.5]) {
      await expect((await freshClient()).sample(certificate, { requestTimeoutMs })).rejects.toMatchObject({
        code: NodeErrorCode.INVALID_OPTIONS,
      })
    }
  })

  it('concludes unavailable, without hanging, when too much is silent; a refused dial keeps its code', async () => {
    await members[3]!.node.stop() // down: its port refuses
    for (const i of [1, 2]) await silence(i) // stopped: its port accepts and says nothing
    const { k } = certificate.header
    expect(assignment.counts[0]!).toBeLessThan(k)
    const result = await timedSample(await freshClient(), { requestTimeoutMs: 2_000 })
    expect(result.available).toBe(false)
    // At worst one request timeout, when the first round drew no index of the one member left.
    expect(result.wall).toBeLessThan(2_000 + HEDGED_WITHIN_MS)
    expect(result.distinctSuccesses).toBeLessThan(k)
    expect(membersFailed(result).every((m) => m !== 0)).toBe(true)
    for (const f of result.failures) {
      expect(f.code).toBe(f.member === 3 ? 'P2P_DIAL_FAILED' : NodeErrorCode.SILENT)
    }
    expectConsistent(result)
  })
})
