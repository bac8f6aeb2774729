import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { type Assignment, assignShards } from '../../src/committee/assignment.ts'
import type { BlobId } from '../../src/erasure/blob-id.ts'
import { checkConfidence, roundAllowance, roundEnds, samplesForTarget } from '../../src/node/confidence.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { NodeErrorCode, nodeError } from '../../src/node/errors.ts'
import {
  DEFAULT_MAX_SAMPLES,
  DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS,
  LightClient,
  type SampleOptions,
  type SampleResult,
} from '../../src/node/light-client.ts'
import { P2pErrorCode, p2pError } from '../../src/p2p/errors.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { handleSampleStream } from '../../src/p2p/sample.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  serveCorruptSamples,
  serveSamplesPerStream,
  startClient,
  startMember,
} from './harness.ts'
import { withholdingSplit } from './withholding.ts'

/**
 * A certified blob made unavailable after the fact: the members that fail hold all but at most k - 1 of
 * its n shards, so whatever the light client draws it can never hold k valid shards and the binomial bound
 * must keep its confidence below the target. Four ways to fail, each through real libp2p and real stores:
 * holders that answer with wrong bytes, that never answer, that lost their disk (answer NOT_HELD), that are
 * down. The members kept hold exactly k - 1 shards with the default stakes, the case the bound is tight for.
 */

const NETWORK = 5151
/**
 * The shape of a 256 KiB blob at five members (PROTOCOL.md §2.3): n = 128 would need k = kMax(128) = 38 shards of
 * 6,912 bytes, so n = 256 with k = kMax(256) = 85 - 5 + 1 = 81 shards of 3,264 bytes. These stakes divide n
 * exactly (counts 80, 64, 48, 40, 24, no leftovers), so member 0 alone keeps k - 1 shards.
 */
const BLOB_SIZE = 256 * 1024
const STAKES = [10n, 8n, 6n, 5n, 3n]
const TARGET = 1 - 1e-6
/** Generous: a session that settles takes well under a second here; a hang would run to the test timeout. */
const SETTLES_WITHIN_MS = 15_000

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let sequencer: DacnetLibp2p
let lightLibp2p: DacnetLibp2p
let pool: ErasurePool
let lightClient: LightClient
let certificate: Certificate
let blobId: BlobId
let assignment: Assignment
let k: number
let n: number
/** The members made to fail, and the shards the others still hold (at most k - 1). */
let failing: Set<number>
let keptShards: number

function publish(): void {
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
      sequencers: [sequencer.peerId.toString()],
    },
  ])
}

beforeAll(async () => {
  for (const stake of STAKES) members.push(await startMember(await memberIdentity(stake), committees))
  for (let i = 0; i < members.length; i++) {
    await members[i]!.node.libp2p.dial(members[(i + 1) % members.length]!.node.libp2p.getMultiaddrs())
  }
  sequencer = await startClient('server')
  lightLibp2p = await startClient()
  publish()
  pool = new ErasurePool({ size: 1 })
  lightClient = new LightClient({ libp2p: lightLibp2p, committees, silentMemoryMs: 0 })
  const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: 15_000 })
  const result = await disperser.disperse(randomData(BLOB_SIZE, prng(501)))
  certificate = result.certificate
  blobId = result.blob.blobId
  const committee = await committees.getCommittee(0)
  ;({ k, n } = certificate.header)
  assignment = assignShards(committee, blobId.bytes, n)
  // The tightest case: the members kept hold the most shards short of k.
  ;({ kept: keptShards, failing } = withholdingSplit(assignment.counts, k))
}, 60_000)

afterAll(async () => {
  for (const m of members) await m.node.stop().catch(() => {})
  for (const node of [sequencer, lightLibp2p]) await node?.stop()
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
})

/** Samples with a hard stop well past the bound, so that a hang fails the test rather than stalling it. */
async function sample(opts: SampleOptions = {}): Promise<SampleResult> {
  const started = performance.now()
  const signal = AbortSignal.timeout(SETTLES_WITHIN_MS + 10_000)
  const result = await lightClient.sample(certificate, { ...opts, signal })
  expect(performance.now() - started).toBeLessThan(SETTLES_WITHIN_MS)
  return result
}

/** What every unavailable outcome must look like, whichever way the failing members fail. */
function expectUnavailable(result: SampleResult, codes: (code: string) => boolean): void {
  expect(result.available).toBe(false)
  expect(result.confidence).toBeLessThan(TARGET)
  // It kept drawing up to the cap before giving up, and reports the bound for exactly what it saw.
  expect(result.samples).toBe(DEFAULT_MAX_SAMPLES)
  const rounds = roundEnds(samplesForTarget(1 - roundAllowance(TARGET, 1), k, n), DEFAULT_MAX_SAMPLES).length
  expect(result.confidence).toBe(
    checkConfidence(TARGET, rounds, result.samples, result.successes, result.distinctSuccesses, k, n),
  )
  // The members still up answered: with 256 draws, missing all of their shards is out of the question.
  expect(result.successes).toBeGreaterThan(0)
  expect(result.distinctSuccesses).toBeLessThanOrEqual(keptShards)
  expect(result.distinctSuccesses).toBeLessThan(k)
  // Failures: one per distinct index asked that did not come back valid, all of them held by failing
  // members and named after them, each drawn at least once.
  expect(result.failures.length).toBeGreaterThan(0)
  expect(new Set(result.failures.map((f) => f.index)).size).toBe(result.failures.length)
  expect(result.failures.length + result.distinctSuccesses).toBeLessThanOrEqual(n)
  expect(result.failures.length).toBeLessThanOrEqual(result.samples - result.successes)
  // Bytes count what arrived: the valid shards and the wrong ones (same size), never a NOT_HELD, a timeout or a
  // dropped stream. n = 256 is a power of two, so every proof is 8 hashes.
  const lies = result.failures.filter((f) => f.code === 'ERASURE_INVALID_PROOF').length
  expect(result.bytes).toBe((result.distinctSuccesses + lies) * (certificate.header.shardSize + 8 * 32))
  for (const f of result.failures) {
    expect(f.member).toBe(assignment.holderOf(f.index))
    expect(failing.has(f.member), `member ${f.member} failed: ${f.code} ${f.reason}`).toBe(true)
    expect(f.peerId).toBe(members[f.member]!.identity.peerId)
    expect(codes(f.code), `${f.code}: ${f.reason}`).toBe(true)
  }
}

describe('a blob whose shards are no longer retrievable', () => {
  it('is chosen so that the members kept hold fewer than k shards', () => {
    expect(k).toBe(81)
    expect(n).toBe(256)
    expect(keptShards).toBe(k - 1)
    expect(failing.size).toBeGreaterThan(0)
    expect(failing.size).toBeLessThan(members.length)
  })

  it('samples available while every member serves it (the control)', async () => {
    const result = await sample()
    expect(result.available).toBe(true)
    expect(result.confidence).toBeGreaterThanOrEqual(TARGET)
    expect(result.failures).toEqual([])
  })

  it.each([
    { code: NodeErrorCode.BUSY, refusal: () => nodeError(NodeErrorCode.BUSY, 'every shard-read slot is taken') },
    {
      code: P2pErrorCode.RATE_LIMITED,
      refusal: () => p2pError(P2pErrorCode.RATE_LIMITED, 'more than 50 sample requests in a second'),
    },
  ])(
    'samples available when every holder drops its first request or answers it $code (one retry each)',
    async ({ refusal }) => {
      const calls = members.map(() => 0)
      for (const [i, member] of members.entries()) {
        const node = member.node
        await serveSamplesPerStream(node, async (stream, connection) => {
          const call = (calls[i] ?? 0) + 1
          calls[i] = call
          if (call === 1 && i % 2 === 0) {
            stream.abort(new Error('connection dropped')) // the stream ends under the client
            return
          }
          const first = call === 1
          await handleSampleStream(
            {
              async readShard(id, index) {
                if (first) throw refusal()
                return node.store.getShard(id, index)
              },
            },
            stream,
            connection,
          )
        })
      }
      const result = await sample()
      expect(result.failures).toEqual([])
      expect(result.available).toBe(true)
      // Every holder asked was asked again after its first request failed, and the retry was served. (A holder can be
      // asked once more for indices of a round drawn while its retry was pending: they go in a request of their own.)
      expect(calls.filter((c) => c > 0).length).toBeGreaterThan(0)
      for (const c of calls) expect(c === 0 || c >= 2, `calls ${JSON.stringify(calls)}`).toBe(true)
      for (const member of members) await serveCorruptSamples(member.node, 0) // a plain, honest handler again
    },
  )

  it('samples available, never unavailable, when the holders it needs answer far slower than the others', async () => {
    // The members that hold all but k - 1 shards answer 1.5 s late, ten times the hedge delay the fast member sets:
    // the check must wait for them (it cannot pass without them), not count them failed.
    for (const i of failing) {
      const node = members[i]!.node
      await serveSamplesPerStream(node, async (stream, connection) => {
        await new Promise((resolve) => setTimeout(resolve, 1_500))
        await handleSampleStream({ readShard: (id, index) => node.store.getShard(id, index) }, stream, connection)
      })
    }
    const started = performance.now()
    const result = await sample()
    expect(result.failures, JSON.stringify(result.failures)).toEqual([])
    expect(result.available).toBe(true)
    expect(result.confidence).toBeGreaterThanOrEqual(TARGET)
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_500)
    // Requests of later rounds that went out before the verdict are still being served late: let them finish
    // before the next test counts the requests its own handlers see.
    await new Promise((resolve) => setTimeout(resolve, 1_600))
    for (const i of failing) await serveCorruptSamples(members[i]!.node, 0)
  })

  it('samples unavailable when the failing members drop each request late: no retry past the request timeout', async () => {
    const calls = new Map<number, number>()
    for (const i of failing) {
      const node = members[i]!.node
      await serveSamplesPerStream(node, async (stream) => {
        calls.set(i, (calls.get(i) ?? 0) + 1)
        await new Promise((resolve) => setTimeout(resolve, 700))
        stream.abort(new Error('connection dropped'))
      })
    }
    // Hedging off: the drop, not the hedge, must end each request here (light-hedge.test.ts covers the hedge).
    const result = await sample({ requestTimeoutMs: 1_000, hedgeDelayMs: 0 })
    expectUnavailable(result, (code) => code === 'P2P_STREAM_ENDED')
    // 700 ms in, a retry would have less than the 1,000 ms budget left after its pause: each is asked once.
    expect(
      [...calls.values()].every((c) => c === 1),
      JSON.stringify([...calls]),
    ).toBe(true)
    for (const i of failing) await serveCorruptSamples(members[i]!.node, 0)
  })

  it('samples unavailable when the failing members answer with wrong bytes', async () => {
    for (const i of failing) await serveCorruptSamples(members[i]!.node, 0x5a)
    const result = await sample()
    expectUnavailable(result, (code) => code === 'ERASURE_INVALID_PROOF')
  })

  it('samples unavailable, in bounded time, when the failing members take the request and never answer', async () => {
    for (const i of failing) {
      const silent = members[i]!.node
      await serveSamplesPerStream(silent, async () => {
        await new Promise(() => {}) // accepts the stream, reads nothing, answers nothing
      })
    }
    // The check stops waiting for each silent holder once the others have answered and draws past it, but it
    // says "unavailable" only once no round could pass even if they answered: a holder is failed by its request
    // timeout, never for being slower than the others. About one request timeout in all on a quiet machine; on a
    // loaded one a later round can first reach a silent holder the earlier ones did not draw, seconds in, and
    // that request runs its own timeout from then. Bounded all the same: no wait outlives its request timeout.
    const started = performance.now()
    const result = await sample()
    expect(performance.now() - started).toBeLessThan(2 * DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS + 2_000)
    expectUnavailable(result, (code) => code === NodeErrorCode.SILENT)
    // With hedging off, the request timeout ends the wait, and the failure still reads as silence.
    const unhedged = await sample({ requestTimeoutMs: 1_000, hedgeDelayMs: 0 })
    expectUnavailable(unhedged, (code) => code === NodeErrorCode.SILENT)
    expect(unhedged.failures.every((f) => f.reason.includes('request timeout'))).toBe(true)
  })

  it('samples unavailable when the failing members lost their shards and answer that they hold none', async () => {
    // A disk lost: stop, wipe the store, come back empty at the same address (the real sample handler again).
    for (const i of failing) {
      const old = members[i]!
      const listen = old.node.addresses().map((a) => a.replace(/\/p2p\/.*$/, ''))
      // The client drops its connection first, so that it cannot catch the old one closing (a stream error,
      // which the down case below is about) instead of asking the restarted node.
      await lightLibp2p.hangUp(old.node.libp2p.peerId)
      await old.node.stop()
      await rm(old.dir, { recursive: true, force: true })
      members[i] = await startMember(old.identity, committees, { dir: old.dir, listen })
      expect(await members[i]!.node.store.hasBlob(blobId)).toBe(false)
    }
    publish()
    const result = await sample()
    expectUnavailable(result, (code) => code === 'NODE_SHARD_NOT_HELD')
  })

  it('samples unavailable, in bounded time, when the failing members are down', async () => {
    for (const i of failing) await members[i]!.node.stop()
    const result = await sample()
    // A refused dial, or, when the client still held a connection the stop was closing, a stream that ended.
    expectUnavailable(result, (code) => code === 'P2P_DIAL_FAILED' || code === 'P2P_STREAM_ENDED')
  })
})
