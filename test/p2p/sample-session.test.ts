import type { Stream } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BlobId } from '../../src/erasure/blob-id.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import { replyFrameLimit } from '../../src/p2p/limits.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { Reply, ReplyKind, SampleRequest } from '../../src/p2p/pb/dacnet.js'
import { SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL } from '../../src/p2p/protocols.ts'
import { handleSampleStream, type SampleService } from '../../src/p2p/sample.ts'
import { SampleStreams } from '../../src/p2p/sample-streams.ts'
import { registerProtocols } from '../../src/p2p/service.ts'
import type { ServedOutcome } from '../../src/p2p/wire.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { failureOf, startNodes, stopAll, waitFor } from './helpers.ts'

const blob = encodeBlob(randomData(200_000, prng(33)), { networkId: 5, epoch: 1, k: 4, n: 12 })
const all = withProofs(blob)
const held = new Map<number, ShardWithProof>([1, 2, 3, 8].map((i) => [i, all[i]!]))
const service: SampleService = {
  async readShard(id: BlobId, index) {
    return id.equals(blob.blobId) ? held.get(index) : undefined
  },
}
const opts = { shardSize: blob.header.shardSize }

/** A shard's data as hex, or null: comparable whatever the buffer type it came in. */
function bytesOf(shard: { data: Uint8Array } | null | undefined): string | null {
  return shard ? Buffer.from(shard.data).toString('hex') : null
}

/** Holder with sessions reset after 600 ms idle, request frames due in 300 ms, 6 requests a second per peer. */
let holder: DacnetLibp2p
/** Holder that only speaks /dacnet/sample/1.0.0, as a second implementation may. */
let oldHolder: DacnetLibp2p
/**
 * Holder for the client's tests: sessions reset after 600 ms idle, 6 requests a second, request frames due within
 * the default deadline (300 ms, right for the wire tests above, is less than a loaded machine may take between a
 * client's opening a stream and its writing the request).
 */
let sessionHolder: DacnetLibp2p
const clients: DacnetLibp2p[] = []
const served: { protocol: string; outcome: ServedOutcome }[] = []

beforeAll(async () => {
  const nodes = await startNodes(12)
  holder = nodes[0]!
  oldHolder = nodes[1]!
  sessionHolder = nodes[2]!
  clients.push(...nodes.slice(3))
  await registerProtocols(
    holder,
    { sample: service },
    {
      sampleRatePerSecond: 6,
      sampleSessionIdleMs: 600,
      requestFrameTimeoutMs: 300,
      onServed: (protocol, _ms, outcome) => served.push({ protocol, outcome }),
    },
  )
  await registerProtocols(
    sessionHolder,
    { sample: service },
    {
      sampleRatePerSecond: 6,
      sampleSessionIdleMs: 600,
      onServed: (protocol, _ms, outcome) => served.push({ protocol, outcome }),
    },
  )
  await oldHolder.handle(SAMPLE_PROTOCOL, async (stream, connection) => {
    await handleSampleStream(service, stream, connection)
  })
  for (const client of clients) {
    await client.dial(holder.getMultiaddrs())
    await client.dial(sessionHolder.getMultiaddrs())
  }
})

afterAll(() => stopAll([holder, oldHolder, sessionHolder, ...clients]))

/** The holder's inbound session streams from `client` still open. */
function sessionsFrom(client: DacnetLibp2p, at = holder): Stream[] {
  return at
    .getConnections(client.peerId)
    .flatMap((c) => c.streams)
    .filter((s) => s.protocol === SAMPLE_SESSION_PROTOCOL && s.status === 'open')
}

/** A session opened by hand: the raw wire, as a second implementation would speak it. */
async function rawSession(client: DacnetLibp2p) {
  const stream = await client.dialProtocol(holder.peerId, SAMPLE_SESSION_PROTOCOL)
  const reader = new FrameReader(stream)
  const ask = async (indices: number[]) => {
    await writeFrame(stream, SampleRequest.encode({ blobId: blob.blobId.bytes, indices }))
    const replies: Reply[] = []
    while (true) {
      const frame = await reader.next(replyFrameLimit(blob.header.shardSize), AbortSignal.timeout(5_000))
      if (frame === null) return { replies, ended: true }
      const reply = Reply.decode(frame)
      replies.push(reply)
      if (reply.kind === ReplyKind.END || reply.kind === ReplyKind.ERROR) return { replies, ended: false }
    }
  }
  return { stream, reader, ask }
}

describe('/dacnet/sample/2.0.0 on the wire', () => {
  it('answers several requests on one stream, each as 1.0.0 would, and closes when the client closes', async () => {
    const client = clients[0]!
    const session = await rawSession(client)
    const first = await session.ask([1, 5])
    expect(first.replies.map((r) => r.kind)).toEqual([ReplyKind.SHARD, ReplyKind.NOT_HELD, ReplyKind.END])
    expect(bytesOf(first.replies[0]!.shard)).toEqual(bytesOf(all[1]))
    expect(first.replies[2]!.count).toBe(1)
    const second = await session.ask([8, 3])
    expect(second.replies.map((r) => r.shard?.index ?? r.kind)).toEqual([8, 3, ReplyKind.END])
    expect(sessionsFrom(client)).toHaveLength(1)
    await session.stream.close()
    // The holder closes its side in answer: no stream is left open on either side.
    expect(await session.reader.next(1024, AbortSignal.timeout(2_000))).toBeNull()
    await waitFor(() => sessionsFrom(client).length === 0, 'the holder to end the session')
    session.reader.release()
  })

  it('resets a session that stays idle past the idle limit, without counting it as a request', async () => {
    const client = clients[0]!
    const session = await rawSession(client)
    served.length = 0
    await session.ask([2])
    const idleSince = performance.now()
    const end = await failureOf(session.reader.next(1024, AbortSignal.timeout(5_000)))
    expect(end?.code).toBe(P2pErrorCode.STREAM_ENDED)
    // The holder's 600 ms run from its END, which reached us a little after it left.
    expect(performance.now() - idleSince).toBeGreaterThanOrEqual(300)
    expect(served.map((s) => s.outcome)).toEqual(['ok'])
    session.reader.release()
  })

  it('resets a session whose next request starts and never finishes (a drip): a request past its deadline', async () => {
    const client = clients[0]!
    const session = await rawSession(client)
    served.length = 0
    await session.ask([2])
    // One byte of a length prefix announcing a 40-byte request, then nothing.
    session.stream.send(Uint8Array.of(40))
    const end = await failureOf(session.reader.next(1024, AbortSignal.timeout(5_000)))
    expect(end?.code).toBe(P2pErrorCode.STREAM_ENDED)
    // The frame deadline (300 ms from the first byte) ended it, not the idle limit: it counts as a request that
    // timed out.
    expect(served.map((s) => s.outcome)).toEqual(['ok', P2pErrorCode.TIMEOUT])
    session.reader.release()
  })

  it('answers a malformed later request with an ERROR and ends the session', async () => {
    const client = clients[1]!
    const session = await rawSession(client)
    await session.ask([3])
    const bad = await session.ask([3, 3])
    expect(bad.replies.map((r) => [r.kind, r.errorCode])).toEqual([[ReplyKind.ERROR, 'P2P_MALFORMED_MESSAGE']])
    expect(await session.reader.next(1024, AbortSignal.timeout(2_000))).toBeNull()
    session.reader.release()
    await session.stream.close()
  })

  it('counts every request of a session against the rate: past it, RATE_LIMITED ends the session', async () => {
    const client = clients[2]!
    const session = await rawSession(client)
    let answered = 0
    let last: Reply | undefined
    // 6 a second: at most 6 are answered in the first window, more only if the requests spread over several.
    for (let i = 0; i < 40 && last?.kind !== ReplyKind.ERROR; i++) {
      last = (await session.ask([1])).replies.at(-1)
      if (last?.kind === ReplyKind.END) answered++
    }
    expect(last?.kind).toBe(ReplyKind.ERROR)
    expect(last?.errorCode).toBe(P2pErrorCode.RATE_LIMITED)
    expect(answered).toBeGreaterThanOrEqual(6)
    expect(await session.reader.next(1024, AbortSignal.timeout(2_000))).toBeNull()
    session.reader.release()
    await session.stream.close()
  })
})

describe('SampleStreams', () => {
  let holder: DacnetLibp2p
  beforeAll(() => {
    holder = sessionHolder
  })

  it('asks a holder on one kept stream across requests, and reports each request to the holder', async () => {
    const client = clients[3]!
    const streams = new SampleStreams(client)
    served.length = 0
    for (const indices of [[1, 2], [3], [8, 9]]) {
      const answers = await streams.request(holder.peerId, blob.blobId, indices, opts)
      for (const index of indices) expect(bytesOf(answers.get(index))).toEqual(bytesOf(held.get(index)))
    }
    expect(streams.keptFor(holder.peerId)).toBe(1)
    expect(sessionsFrom(client, holder)).toHaveLength(1)
    expect(served).toEqual(Array(3).fill({ protocol: SAMPLE_SESSION_PROTOCOL, outcome: 'ok' }))
    streams.close()
    expect(streams.keptFor(holder.peerId)).toBe(0)
    await waitFor(() => sessionsFrom(client, holder).length === 0, 'the session to end on the holder')
  })

  it('keeps a stream per request in parallel, up to two a holder, and closes the rest', async () => {
    const client = clients[4]!
    const streams = new SampleStreams(client)
    await Promise.all([[1], [2], [3]].map((indices) => streams.request(holder.peerId, blob.blobId, indices, opts)))
    expect(streams.keptFor(holder.peerId)).toBe(2)
    await waitFor(() => sessionsFrom(client, holder).length <= 2, 'the third session to close')
    streams.close()
  })

  it('keeps no stream of a request that finishes after close()', async () => {
    const client = clients[4]!
    const streams = new SampleStreams(client)
    const pending = streams.request(holder.peerId, blob.blobId, [5], opts)
    streams.close()
    expect((await pending).size).toBe(1)
    expect(streams.keptFor(holder.peerId)).toBe(0)
    await waitFor(() => sessionsFrom(client, holder).length === 0, 'the session to end')
  })

  it('asks again on a new stream when the holder reset the kept one as idle', async () => {
    const client = clients[5]!
    const streams = new SampleStreams(client, { idleMs: 60_000 })
    await streams.request(holder.peerId, blob.blobId, [1], opts)
    const first = sessionsFrom(client, holder)[0]!
    await waitFor(() => first.status !== 'open', 'the idle reset', 5_000)
    const answers = await streams.request(holder.peerId, blob.blobId, [2], opts)
    expect(bytesOf(answers.get(2))).toEqual(bytesOf(all[2]))
    expect(sessionsFrom(client, holder)).toHaveLength(1)
    streams.close()
  })

  it('closes a kept stream after its idle time', async () => {
    const client = clients[6]!
    const streams = new SampleStreams(client, { idleMs: 50 })
    await streams.request(holder.peerId, blob.blobId, [1], opts)
    await waitFor(() => streams.keptFor(holder.peerId) === 0 && sessionsFrom(client, holder).length === 0, 'the close')
  })

  it('falls back to a stream per request with a holder that only speaks /dacnet/sample/1.0.0', async () => {
    const client = clients[7]!
    await client.dial(oldHolder.getMultiaddrs())
    const streams = new SampleStreams(client)
    for (const index of [1, 8]) {
      const answers = await streams.request(oldHolder.peerId, blob.blobId, [index], opts)
      expect(bytesOf(answers.get(index))).toEqual(bytesOf(all[index]))
    }
    expect(streams.keptFor(oldHolder.peerId)).toBe(0)
    const sampleStreams = client
      .getConnections(oldHolder.peerId)
      .flatMap((c) => c.streams)
      .filter((stream) => stream.protocol === SAMPLE_PROTOCOL && stream.status === 'open')
    expect(sampleStreams).toEqual([])
  })

  it('carries a holder ERROR as its code and never keeps the stream it came on', async () => {
    const client = clients[8]!
    const streams = new SampleStreams(client)
    const err = await failureOf(streams.request(holder.peerId, blob.blobId, [1], { shardSize: 8 }))
    expect(err?.code).toBe(P2pErrorCode.FRAME_TOO_LARGE)
    expect(streams.keptFor(holder.peerId)).toBe(0)
    const answers = await streams.request(holder.peerId, blob.blobId, [1], opts)
    expect(bytesOf(answers.get(1))).toEqual(bytesOf(all[1]))
  })
})
