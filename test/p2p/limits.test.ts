import type { Stream } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BlobId } from '../../src/erasure/blob-id.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { DacnetError, isDacnetError } from '../../src/errors.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import {
  MAX_INBOUND_RETRIEVE_STREAMS,
  MAX_INBOUND_SAMPLE_STREAMS,
  MAX_INBOUND_STORE_STREAMS,
  MAX_QUERY_REQUEST_BYTES,
} from '../../src/p2p/limits.ts'
import { STREAM_WINDOW_BYTES } from '../../src/p2p/node.ts'
import { ReplyKind } from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL, SAMPLE_PROTOCOL, STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { replyFrame } from '../../src/p2p/reply.ts'
import { openRetrieve, type RetrieveService } from '../../src/p2p/retrieve.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import type { ProtocolServices } from '../../src/p2p/service.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import {
  collectingIntake,
  failureOf,
  type Gate,
  gate,
  outcomeOf,
  silentHandler,
  untilClosed,
  waitFor,
  withHandler,
} from './helpers.ts'
import {
  all,
  blob,
  client,
  HANG_TEST_TIMEOUT_MS,
  server,
  serving,
  startServerAndClient,
  stopServerAndClient,
} from './limits-helpers.ts'

/** Deadlines, rates and stream limits of the wire layer, against real libp2p nodes on loopback. */

/** A client deadline short enough for a fast test; a deadline must have fired well within SETTLE_BOUND_MS. */
const DEADLINE_MS = 500
/** A deadline that must leave time for the HEADER to arrive first, even on a loaded 2-core machine. */
const MIDSTREAM_DEADLINE_MS = 1_500
const SETTLE_BOUND_MS = 4_000

beforeAll(startServerAndClient)

afterAll(stopServerAndClient)

/** How long a promise takes to settle, and what it rejected with. */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const start = performance.now()
  const err = await failureOf(promise)
  return { ms: performance.now() - start, err }
}

function retrieveServiceOf(held: ShardWithProof[], headerBytes: Uint8Array, id: BlobId): RetrieveService {
  return {
    async holdings(blobId) {
      return blobId.equals(id) ? { headerBytes, indices: held.map((s) => s.index) } : null
    },
    async readShard(_blobId, index) {
      return held.find((s) => s.index === index)
    },
  }
}

describe('a holder that accepts a stream and never answers', { timeout: HANG_TEST_TIMEOUT_MS }, () => {
  it('sample: the client fails with P2P_TIMEOUT at its deadline instead of hanging', async () => {
    await withHandler(server, SAMPLE_PROTOCOL, silentHandler, async (streams) => {
      const { ms, err } = await timed(
        requestSamples(client, server.peerId, blob.blobId, [0, 1], {
          shardSize: blob.header.shardSize,
          timeoutMs: DEADLINE_MS,
        }),
      )
      expect(streams).toHaveLength(1) // the holder did take the stream: this is a silent holder, not a failed dial
      expect(isDacnetError(err, P2pErrorCode.TIMEOUT)).toBe(true)
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50)
      expect(ms).toBeLessThan(SETTLE_BOUND_MS)
    })
  })

  it("sample: the caller's own signal ends the wait with P2P_ABORTED", async () => {
    await withHandler(server, SAMPLE_PROTOCOL, silentHandler, async () => {
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 100)
      const { ms, err } = await timed(
        requestSamples(client, server.peerId, blob.blobId, [0], {
          shardSize: blob.header.shardSize,
          signal: controller.signal,
        }),
      )
      expect(isDacnetError(err, P2pErrorCode.ABORTED)).toBe(true)
      expect(ms).toBeLessThan(SETTLE_BOUND_MS) // far below the 10 s default deadline
    })
  })

  it('retrieve: silent before the HEADER, and silent after it, both end in P2P_TIMEOUT', async () => {
    await withHandler(server, RETRIEVE_PROTOCOL, silentHandler, async () => {
      const { ms, err } = await timed(openRetrieve(client, server.peerId, blob.blobId, { timeoutMs: DEADLINE_MS }))
      expect(isDacnetError(err, P2pErrorCode.TIMEOUT)).toBe(true)
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50)
      expect(ms).toBeLessThan(SETTLE_BOUND_MS)
      // The HEADER has a deadline of its own, well before the whole exchange's.
      const early = await timed(
        openRetrieve(client, server.peerId, blob.blobId, { timeoutMs: 60_000, headerTimeoutMs: DEADLINE_MS }),
      )
      expect(isDacnetError(early.err, P2pErrorCode.TIMEOUT)).toBe(true)
      expect(early.ms).toBeLessThan(SETTLE_BOUND_MS)
    })

    // A holder that announces two shards, sends the HEADER and then nothing more.
    const stalls = async (stream: Stream) => {
      const reader = new FrameReader(stream)
      await reader.expect(MAX_QUERY_REQUEST_BYTES, 'the request')
      reader.release()
      await writeFrame(stream, replyFrame({ kind: ReplyKind.HEADER, header: blob.headerBytes, count: 2 }))
      await untilClosed(stream)
    }
    await withHandler(server, RETRIEVE_PROTOCOL, stalls, async () => {
      const start = performance.now()
      const session = await openRetrieve(client, server.peerId, blob.blobId, { timeoutMs: MIDSTREAM_DEADLINE_MS })
      expect(session.count).toBe(2)
      const err = await failureOf(
        (async () => {
          for await (const _ of session.shards) {
            // none arrives
          }
        })(),
      )
      const ms = performance.now() - start
      expect(isDacnetError(err, P2pErrorCode.TIMEOUT)).toBe(true)
      expect(ms).toBeGreaterThanOrEqual(MIDSTREAM_DEADLINE_MS - 50)
      expect(ms).toBeLessThan(MIDSTREAM_DEADLINE_MS + SETTLE_BOUND_MS)
    })
  })
})

describe('a client that drips its request', { timeout: HANG_TEST_TIMEOUT_MS }, () => {
  /** Opens `protocol` and sends a valid-length prefix, then one byte every 100 ms: a slow-loris request. */
  async function drip(protocol: string): Promise<{ ms: number; outcome: string }> {
    const outcomes: string[] = []
    return serving(
      {
        store: { admit: async () => collectingIntake() },
        sample: { readShard: async () => undefined },
        retrieve: retrieveServiceOf(all, blob.headerBytes, blob.blobId),
      },
      // Exchange deadlines far away: only the request frame's deadline can end the stream.
      {
        requestFrameTimeoutMs: 400,
        storeTimeoutMs: 60_000,
        sampleTimeoutMs: 60_000,
        retrieveTimeoutMs: 60_000,
        onServed: (_p, _ms, outcome) => outcomes.push(outcome),
      },
      async () => {
        const stream = await client.dialProtocol(server.peerId, protocol)
        const start = performance.now()
        const closed = untilClosed(stream)
        let open = true
        void closed.then(() => {
          open = false
        })
        stream.send(new Uint8Array([60]))
        for (let i = 0; i < 60 && open; i++) {
          await new Promise((r) => setTimeout(r, 100))
          if (open && stream.writeStatus === 'writable') stream.send(new Uint8Array([0x0a]))
        }
        await closed
        await waitFor(() => outcomes.length > 0, 'the exchange to end')
        return { ms: performance.now() - start, outcome: outcomes[0]! }
      },
    )
  }

  for (const protocol of [STORE_PROTOCOL, SAMPLE_PROTOCOL, RETRIEVE_PROTOCOL]) {
    it(`${protocol}: is reset at the request frame's deadline, not the exchange's`, async () => {
      const { ms, outcome } = await drip(protocol)
      expect(outcome).toBe(P2pErrorCode.TIMEOUT)
      expect(ms).toBeGreaterThanOrEqual(350)
      expect(ms).toBeLessThan(SETTLE_BOUND_MS)
    })
  }
})

describe('a store from a peer that may not store', { timeout: HANG_TEST_TIMEOUT_MS }, () => {
  it('is refused when the stream opens, and the sender stops sending a share larger than the stream window', async () => {
    const big = encodeBlob(randomData(8 << 20, prng(33)), { networkId: 5, epoch: 1, k: 4, n: 8 })
    const share = withProofs(big).slice(0, 4)
    expect(share.reduce((sum, s) => sum + s.data.length, 0)).toBeGreaterThan(2 * STREAM_WINDOW_BYTES)
    let admitted = 0
    const refusing = {
      acceptsFrom: () => {
        throw new DacnetError('NODE_UNREGISTERED_SEQUENCER', 'not a sequencer here')
      },
      admit: async () => {
        admitted++
        return collectingIntake()
      },
    }
    const { ms, err } = await serving({ store: refusing }, { storeTimeoutMs: 60_000 }, () =>
      timed(sendStore(client, server.peerId, big.headerBytes, share, { timeoutMs: 30_000 })),
    )
    expect((err as DacnetError).code).toBe('NODE_UNREGISTERED_SEQUENCER')
    expect(admitted).toBe(0)
    expect(ms).toBeLessThan(SETTLE_BOUND_MS)
    // A small share, all written before the refusal lands, gets the member's code too, never a broken stream.
    for (let i = 0; i < 5; i++) {
      const small = await serving({ store: refusing }, {}, () =>
        failureOf(sendStore(client, server.peerId, blob.headerBytes, all.slice(0, 2), { timeoutMs: 10_000 })),
      )
      expect(small?.code).toBe('NODE_UNREGISTERED_SEQUENCER')
    }
  })
})

describe('retrieve rate limit', { timeout: HANG_TEST_TIMEOUT_MS }, () => {
  it('refuses a burst beyond the per-peer rate with P2P_RATE_LIMITED, without asking the service', async () => {
    const rate = 2
    let served = 0
    const inner = retrieveServiceOf([all[0]!, all[1]!], blob.headerBytes, blob.blobId)
    const counting: RetrieveService = {
      holdings(id) {
        served++
        return inner.holdings(id)
      },
      readShard: (id, index) => inner.readShard(id, index),
    }
    await serving({ retrieve: counting }, { retrieveRatePerSecond: rate }, async () => {
      const retrieveAll = async () => {
        const session = await openRetrieve(client, server.peerId, blob.blobId)
        for await (const _ of session.shards) {
          // drain
        }
      }
      const outcomes: string[] = []
      let refusal: unknown
      for (let i = 0; i < 6 * rate; i++) {
        const err = await failureOf(retrieveAll())
        outcomes.push(err === undefined ? 'ok' : (err.code ?? err.message))
        refusal ??= err
      }
      // The first `rate` requests open a fresh window: they are always served. All 12 would be served only if
      // they took more than 5 s (six one-second windows), so some are refused; nothing else may go wrong.
      expect(outcomes.slice(0, rate)).toEqual(Array(rate).fill('ok'))
      expect(outcomes.filter((o) => o === P2pErrorCode.RATE_LIMITED).length).toBeGreaterThan(0)
      expect(outcomes.every((o) => o === 'ok' || o === P2pErrorCode.RATE_LIMITED)).toBe(true)
      expect(isDacnetError(refusal, P2pErrorCode.RATE_LIMITED) && refusal.meta.remote).toBe(true)
      // A refused request never reached the service.
      expect(served).toBe(outcomes.filter((o) => o === 'ok').length)

      // A rate, not a ban: once the window has passed, the same peer is served again.
      await new Promise((r) => setTimeout(r, 1_100))
      expect(await outcomeOf(retrieveAll())).toBe('ok')
    })
  })
})

describe('inbound streams per connection, per protocol', { timeout: HANG_TEST_TIMEOUT_MS }, () => {
  /** Requests of one protocol whose service blocks until `release` opens. */
  interface Case {
    protocol: string
    limit: number
    services(entered: () => void, release: Gate): ProtocolServices
    /** One request; `timeoutMs` bounds it, so a stream that is not refused fails the test quickly. */
    request(timeoutMs?: number): Promise<unknown>
  }
  const cases: Case[] = [
    {
      protocol: 'store',
      limit: MAX_INBOUND_STORE_STREAMS,
      services: (entered, release) => ({
        store: {
          async admit() {
            entered()
            await release.promise
            return collectingIntake(() => new Uint8Array(96).fill(1))
          },
        },
      }),
      request: (timeoutMs) => sendStore(client, server.peerId, blob.headerBytes, [all[0]!], { timeoutMs }),
    },
    {
      protocol: 'sample',
      limit: MAX_INBOUND_SAMPLE_STREAMS,
      services: (entered, release) => ({
        sample: {
          async readShard() {
            entered()
            await release.promise
            return all[0]!
          },
        },
      }),
      request: (timeoutMs) =>
        requestSamples(client, server.peerId, blob.blobId, [0], { shardSize: blob.header.shardSize, timeoutMs }),
    },
    {
      protocol: 'retrieve',
      limit: MAX_INBOUND_RETRIEVE_STREAMS,
      services: (entered, release) => {
        const inner = retrieveServiceOf([all[0]!], blob.headerBytes, blob.blobId)
        return {
          retrieve: {
            async holdings(id) {
              entered()
              await release.promise
              return inner.holdings(id)
            },
            readShard: (id, index) => inner.readShard(id, index),
          },
        }
      },
      request: async (timeoutMs) => {
        const session = await openRetrieve(client, server.peerId, blob.blobId, { timeoutMs })
        for await (const _ of session.shards) {
          // drain
        }
      },
    },
  ]

  it.each(cases)('$protocol: the stream past $limit open ones is reset; the others are served', async (c) => {
    const release = gate()
    let entered = 0
    await serving(
      c.services(() => entered++, release),
      {},
      async () => {
        const held = Array.from({ length: c.limit }, () => outcomeOf(c.request()))
        try {
          await waitFor(() => entered === c.limit, `${c.limit} ${c.protocol} streams in the service`)
          const { ms, err } = await timed(c.request(SETTLE_BOUND_MS))
          // libp2p resets the extra stream once its protocol is negotiated: the client sees the reset, at once.
          expect(isDacnetError(err, P2pErrorCode.STREAM_ENDED)).toBe(true)
          expect(ms).toBeLessThan(SETTLE_BOUND_MS)
          expect(entered).toBe(c.limit) // the extra request never reached the service
        } finally {
          release.open()
        }
        expect(await Promise.all(held)).toEqual(Array(c.limit).fill('ok'))
        // With those streams closed, the connection takes new ones again.
        expect(await outcomeOf(c.request())).toBe('ok')
      },
    )
  })
})
