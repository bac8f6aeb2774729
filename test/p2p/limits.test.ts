import type { Stream, StreamHandler } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BlobId } from '../../src/erasure/blob-id.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { DacnetError, isDacnetError } from '../../src/errors.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { DEFAULT_WRITE_HIGH_WATER, FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import {
  MAX_ERROR_MESSAGE_CHARS,
  MAX_ERROR_REPLY_BYTES,
  MAX_INBOUND_RETRIEVE_STREAMS,
  MAX_INBOUND_SAMPLE_STREAMS,
  MAX_INBOUND_STORE_STREAMS,
  MAX_QUERY_REQUEST_BYTES,
  MAX_SAMPLE_INDICES,
  replyFrameLimit,
  shardFrameLimit,
} from '../../src/p2p/limits.ts'
import { type DacnetLibp2p, STREAM_WINDOW_BYTES } from '../../src/p2p/node.ts'
import { Reply, ReplyKind, SampleRequest } from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL, SAMPLE_PROTOCOL, STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { replyFrame } from '../../src/p2p/reply.ts'
import { MAX_FIRST_RETRIEVE_REPLY_BYTES, openRetrieve, type RetrieveService } from '../../src/p2p/retrieve.ts'
import { handleSampleStream, requestSamples, type SampleService } from '../../src/p2p/sample.ts'
import { type ProtocolOptions, type ProtocolServices, registerProtocols } from '../../src/p2p/service.ts'
import { type StoreIntake, sendStore } from '../../src/p2p/store.ts'
import { truncateMessage } from '../../src/p2p/wire.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import {
  collectingIntake,
  failureOf,
  type Gate,
  gate,
  outcomeOf,
  silentHandler,
  startNodes,
  stopAll,
  untilClosed,
  waitFor,
  withHandler,
} from './helpers.ts'

/** Limits, deadlines and refusals of the wire layer, against real libp2p nodes on loopback. */

const blob = encodeBlob(randomData(40_000, prng(31)), { networkId: 5, epoch: 1, k: 4, n: 12 })
const all = withProofs(blob)
/** 100 bytes in 4 shards: the smallest shard size, so a shard frame is smaller than a long ERROR reply. */
const tiny = encodeBlob(randomData(100, prng(32)), { networkId: 5, epoch: 1, k: 4, n: 12 })
const tinyShards = withProofs(tiny)

/** A client deadline short enough for a fast test; a deadline must have fired well within SETTLE_BOUND_MS. */
const DEADLINE_MS = 500
/** A deadline that must leave time for the HEADER to arrive first, even on a loaded 2-core machine. */
const MIDSTREAM_DEADLINE_MS = 1_500
const SETTLE_BOUND_MS = 4_000
/** A client that ignored its deadline would hang: fail such a test in seconds, not at vitest's 60 s. */
const HANG_TEST_TIMEOUT_MS = 10_000

let server: DacnetLibp2p
let client: DacnetLibp2p

beforeAll(async () => {
  ;[server, client] = (await startNodes(2)) as [DacnetLibp2p, DacnetLibp2p]
  await client.dial(server.getMultiaddrs())
})

afterAll(() => stopAll([server, client]))

/** Serves `services` on the server for the length of `body` (each test gets fresh rate limiters). */
async function serving<T>(services: ProtocolServices, opts: ProtocolOptions, body: () => Promise<T>): Promise<T> {
  const unregister = await registerProtocols(server, services, opts)
  try {
    return await body()
  } finally {
    await unregister()
  }
}

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

describe('ERROR replies with long messages', { timeout: HANG_TEST_TIMEOUT_MS }, () => {
  const longError = (code: string, message: string) => new DacnetError(code, message)

  it('a worst-case ERROR reply fits the bound, which 1 KiB would not', () => {
    // 512 UTF-16 code units of 3 UTF-8 bytes each, the longest code, as a holder would send them.
    for (const text of ['€'.repeat(2000), '\uD800'.repeat(2000), '😀'.repeat(1000)]) {
      const frame = replyFrame({
        kind: ReplyKind.ERROR,
        errorCode: `E${'X'.repeat(63)}`,
        errorMessage: truncateMessage(text),
      })
      expect(truncateMessage(text).length).toBe(MAX_ERROR_MESSAGE_CHARS)
      expect(frame.length).toBeLessThanOrEqual(MAX_ERROR_REPLY_BYTES)
    }
    const euro = replyFrame({
      kind: ReplyKind.ERROR,
      errorCode: 'P2P_X',
      errorMessage: truncateMessage('€'.repeat(600)),
    })
    expect(euro.length).toBeGreaterThan(1024)
    expect(MAX_FIRST_RETRIEVE_REPLY_BYTES).toBe(MAX_ERROR_REPLY_BYTES)
    expect(MAX_ERROR_REPLY_BYTES).toBe(2048)
  })

  it('retrieve surfaces a 500-character refusal by its code, not as P2P_FRAME_TOO_LARGE', async () => {
    const message = `blob expired: ${'x'.repeat(486)}`
    expect(message).toHaveLength(500)
    const refusing: RetrieveService = {
      async holdings() {
        throw longError('STORAGE_BLOB_EXPIRED', message)
      },
      async readShard() {
        return undefined
      },
    }
    await serving({ retrieve: refusing }, {}, async () => {
      const err = await failureOf(openRetrieve(client, server.peerId, blob.blobId))
      expect(err?.code).toBe('STORAGE_BLOB_EXPIRED')
      expect(err?.meta?.remote).toBe(true)
      expect(err?.message).toContain(message)
      // The longest message, in 3-byte characters (cut to 512 characters by the holder): still its code.
      refusing.holdings = async () => {
        throw longError('STORAGE_BLOB_EXPIRED', '€'.repeat(5000))
      }
      expect(await outcomeOf(openRetrieve(client, server.peerId, blob.blobId))).toBe('STORAGE_BLOB_EXPIRED')
    })
  })

  it('sample and store surface the longest refusal by its code, whatever the shard size', async () => {
    const longest = '€'.repeat(5000)
    const services: ProtocolServices = {
      sample: {
        async readShard() {
          throw longError('STORAGE_BUSY', longest)
        },
      },
      store: {
        async admit(): Promise<StoreIntake> {
          throw longError('NODE_UNREGISTERED_SEQUENCER', longest)
        },
      },
    }
    await serving(services, {}, async () => {
      const sampled = requestSamples(client, server.peerId, tiny.blobId, [0], { shardSize: tiny.header.shardSize })
      expect(await outcomeOf(sampled)).toBe('STORAGE_BUSY')
      const stored = sendStore(client, server.peerId, tiny.headerBytes, [tinyShards[0]!])
      expect(await outcomeOf(stored)).toBe('NODE_UNREGISTERED_SEQUENCER')
    })
  })

  it('retrieve surfaces a long ERROR after the HEADER even when it is larger than a shard frame', async () => {
    const message = '€'.repeat(600)
    const errorFrame = replyFrame({ kind: ReplyKind.ERROR, errorCode: 'STORAGE_CORRUPT_ENTRY', errorMessage: message })
    expect(errorFrame.length).toBeGreaterThan(shardFrameLimit(tiny.header.shardSize)) // the case being tested
    const failing: RetrieveService = {
      async holdings() {
        return { headerBytes: tiny.headerBytes, indices: [0, 1] }
      },
      async readShard(_id, index) {
        if (index === 0) return tinyShards[0]
        throw longError('STORAGE_CORRUPT_ENTRY', message)
      },
    }
    await serving({ retrieve: failing }, {}, async () => {
      const session = await openRetrieve(client, server.peerId, tiny.blobId)
      const got: number[] = []
      const err = await failureOf(
        (async () => {
          for await (const shard of session.shards) got.push(shard.index)
        })(),
      )
      expect(got).toEqual([0])
      expect(err?.code).toBe('STORAGE_CORRUPT_ENTRY')
      expect(err?.meta?.remote).toBe(true)
    })
  })

  it('the first frame is still bounded: one byte over the limit is P2P_FRAME_TOO_LARGE', async () => {
    /** An ERROR reply padded to exactly `size` bytes. */
    const errorOfSize = (size: number) => {
      let pad = size - replyFrame({ kind: ReplyKind.ERROR, errorCode: 'TEST_PADDED' }).length
      let frame: Uint8Array = new Uint8Array()
      // The message's length varint grows with it: shrink the padding until the frame is exactly `size`.
      while (pad > 0) {
        frame = replyFrame({ kind: ReplyKind.ERROR, errorCode: 'TEST_PADDED', errorMessage: 'p'.repeat(pad) })
        if (frame.length <= size) break
        pad--
      }
      expect(frame.length).toBe(size)
      return frame
    }
    let size = 0
    const padded = async (stream: Stream) => {
      const reader = new FrameReader(stream)
      await reader.expect(MAX_QUERY_REQUEST_BYTES, 'the request')
      reader.release()
      await writeFrame(stream, errorOfSize(size))
      await stream.close()
    }
    await withHandler(server, RETRIEVE_PROTOCOL, padded, async () => {
      size = MAX_FIRST_RETRIEVE_REPLY_BYTES
      expect(await outcomeOf(openRetrieve(client, server.peerId, blob.blobId))).toBe('TEST_PADDED')
      size = MAX_FIRST_RETRIEVE_REPLY_BYTES + 1
      expect(await outcomeOf(openRetrieve(client, server.peerId, blob.blobId))).toBe(P2pErrorCode.FRAME_TOO_LARGE)
    })
  })
})

describe('sample serving memory', { timeout: HANG_TEST_TIMEOUT_MS }, () => {
  it('reads and sends one shard at a time: a client that reads nothing stalls the holder after a few shards', async () => {
    const shardSize = 256 * 1024
    const indices = Array.from({ length: MAX_SAMPLE_INDICES }, (_, i) => MAX_SAMPLE_INDICES - 1 - i)
    let reads = 0
    let reading = 0
    let mostAtOnce = 0
    const source: SampleService = {
      async readShard(_blobId, index) {
        reads++
        mostAtOnce = Math.max(mostAtOnce, ++reading)
        await new Promise((r) => setImmediate(r)) // a read takes a turn of the event loop, as LevelDB's does
        reading--
        return { index, data: new Uint8Array(shardSize).fill(index), proof: new Uint8Array(6 * 32).fill(index) }
      },
    }
    const serve: StreamHandler = (stream, connection) => handleSampleStream(source, stream, connection).then(() => {})
    await withHandler(server, SAMPLE_PROTOCOL, serve, async (streams) => {
      const stream = await client.dialProtocol(server.peerId, SAMPLE_PROTOCOL)
      stream.pause() // the client takes nothing off the stream for now
      await writeFrame(stream, SampleRequest.encode({ blobId: blob.blobId.bytes, indices }))
      await stream.close()
      // The holder fills the muxer window (2 MiB at most) and then its own write buffer up to the high-water mark,
      // and waits there for the stream to drain; it reads no further shard meanwhile.
      const waiting = () => (streams[0]?.writeBufferLength ?? 0) > DEFAULT_WRITE_HIGH_WATER
      await waitFor(waiting, 'the holder to wait for a client that does not read')
      await new Promise((r) => setTimeout(r, 300))
      expect(waiting()).toBe(true)
      const bound = Math.ceil((STREAM_WINDOW_BYTES + DEFAULT_WRITE_HIGH_WATER) / shardSize) + 2
      expect(bound).toBeLessThan(indices.length / 2) // the case being tested: the request is far larger
      expect(reads).toBeLessThanOrEqual(bound)
      expect(mostAtOnce).toBe(1)

      // Once the client reads, every index is answered, in request order, with its own shard.
      const reader = new FrameReader(stream)
      try {
        const got: number[] = []
        while (true) {
          const reply = Reply.decode(await reader.expect(replyFrameLimit(shardSize), 'a reply'))
          if (reply.kind === ReplyKind.END) {
            expect(reply.count).toBe(indices.length)
            break
          }
          expect(reply.kind).toBe(ReplyKind.SHARD)
          const shard = reply.shard!
          expect([shard.data.length, shard.data[0], shard.data[shardSize - 1]]).toEqual([
            shardSize,
            shard.index,
            shard.index,
          ])
          got.push(shard.index)
        }
        expect(got).toEqual(indices)
        expect([reads, mostAtOnce]).toEqual([indices.length, 1])
      } finally {
        reader.release()
      }
    })
  })
})
