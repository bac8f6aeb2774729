import type { Stream } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { DacnetError, isDacnetError } from '../../src/errors.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import { MAX_QUERY_REQUEST_BYTES } from '../../src/p2p/limits.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { type Reply, ReplyKind } from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { replyFrame } from '../../src/p2p/reply.ts'
import { handleRetrieveStream, openRetrieve } from '../../src/p2p/retrieve.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { failureOf, startNodes, stopAll, untilClosed, withHandler } from './helpers.ts'

/**
 * A retrieve holder that breaks the reply's rules, over real libp2p on loopback: the client must refuse what
 * the HEADER and the SHARD frames may not say, so that no holder can announce more shards than a blob has or
 * hand the same shard over twice.
 */

const blob = encodeBlob(randomData(40_000, prng(41)), { networkId: 5, epoch: 1, k: 4, n: 12 })
const all = withProofs(blob)
const { n } = blob.header

let server: DacnetLibp2p
let client: DacnetLibp2p

beforeAll(async () => {
  ;[server, client] = (await startNodes(2)) as [DacnetLibp2p, DacnetLibp2p]
  await client.dial(server.getMultiaddrs())
})

afterAll(() => stopAll([server, client]))

/** A holder that reads the request, then sends exactly these frames and closes. */
function scripted(frames: Partial<Reply>[]) {
  return async (stream: Stream) => {
    const reader = new FrameReader(stream)
    await reader.expect(MAX_QUERY_REQUEST_BYTES, 'the request')
    reader.release()
    try {
      for (const frame of frames) await writeFrame(stream, replyFrame(frame))
      await stream.close()
    } catch {
      // reset by the client: what some tests expect
    }
  }
}

const HEADER = (count: number): Partial<Reply> => ({ kind: ReplyKind.HEADER, header: blob.headerBytes, count })
const SHARD = (shard: ShardWithProof): Partial<Reply> => ({ kind: ReplyKind.SHARD, shard })
const END = (count: number): Partial<Reply> => ({ kind: ReplyKind.END, count })

/** Opens a session and reads it to the end: the indices received, and what ended it. */
async function readAll(frames: Partial<Reply>[]): Promise<{ indices: number[]; err: unknown; stream: Stream }> {
  return withHandler(server, RETRIEVE_PROTOCOL, scripted(frames), async (streams) => {
    const indices: number[] = []
    const err = await failureOf(
      (async () => {
        const session = await openRetrieve(client, server.peerId, blob.blobId, { timeoutMs: 5_000 })
        for await (const shard of session.shards) indices.push(shard.index)
      })(),
    )
    return { indices, err, stream: streams[0]! }
  })
}

describe('retrieve: what a HEADER may announce', () => {
  it('accepts a count of n, and refuses a count above n with P2P_MALFORMED_MESSAGE', async () => {
    expect((await readAll([HEADER(n), END(0)])).err).toBeUndefined()
    const { err } = await readAll([HEADER(n + 1), END(0)])
    expect(isDacnetError(err, P2pErrorCode.MALFORMED_MESSAGE)).toBe(true)
    expect((err as Error).message).toMatch(/announced 13 shards of a blob of 12/)
  })

  it("surfaces the caller's header check unchanged and resets the stream before any shard is read", async () => {
    let seen: BlobHeader | undefined
    const refusal = new DacnetError('TEST_REFUSED', 'not this header')
    await withHandler(
      server,
      RETRIEVE_PROTOCOL,
      scripted([HEADER(2), SHARD(all[0]!), SHARD(all[1]!), END(2)]),
      async (streams) => {
        const err = await failureOf(
          openRetrieve(client, server.peerId, blob.blobId, {
            timeoutMs: 5_000,
            checkHeader: (header) => {
              seen = header
              throw refusal
            },
          }),
        )
        expect(err).toBe(refusal)
        expect(seen?.shardSize).toBe(blob.header.shardSize)
        await untilClosed(streams[0]!)
        expect(streams[0]!.status).not.toBe('open')
      },
    )
  })
})

describe('retrieve: the SHARD frames', () => {
  it('reads distinct, increasing indices up to an END that counts them', async () => {
    const { indices, err } = await readAll([HEADER(3), SHARD(all[1]!), SHARD(all[4]!), SHARD(all[11]!), END(3)])
    expect(err).toBeUndefined()
    expect(indices).toEqual([1, 4, 11])
  })

  it.each([
    ['a repeated index', [HEADER(3), SHARD(all[2]!), SHARD(all[2]!), END(2)], [2]],
    ['a lower index after a higher one', [HEADER(3), SHARD(all[5]!), SHARD(all[3]!), END(2)], [5]],
    ['an index of n or more', [HEADER(2), SHARD(all[0]!), SHARD({ ...all[11]!, index: n }), END(2)], [0]],
    ['an END that miscounts', [HEADER(3), SHARD(all[0]!), SHARD(all[1]!), END(3)], [0, 1]],
  ] as const)('refuses %s with P2P_MALFORMED_MESSAGE', async (_what, frames, before) => {
    const { indices, err } = await readAll([...frames])
    expect(indices).toEqual(before)
    expect(isDacnetError(err, P2pErrorCode.MALFORMED_MESSAGE)).toBe(true)
  })

  it('resets a stream whose holder, its answer complete, sends more and never closes (it would pin the bytes)', async () => {
    const lingering = async (stream: Stream) => {
      const reader = new FrameReader(stream)
      await reader.expect(MAX_QUERY_REQUEST_BYTES, 'the request')
      reader.release()
      for (const frame of [HEADER(1), SHARD(all[0]!), END(1)]) await writeFrame(stream, replyFrame(frame))
      stream.send(new Uint8Array(64 * 1024)) // junk after END, and no close
      await untilClosed(stream)
    }
    await withHandler(server, RETRIEVE_PROTOCOL, lingering, async (streams) => {
      const session = await openRetrieve(client, server.peerId, blob.blobId, { timeoutMs: 5_000 })
      const indices: number[] = []
      for await (const shard of session.shards) indices.push(shard.index)
      expect(indices).toEqual([0])
      const started = performance.now()
      await untilClosed(streams[0]!)
      expect(streams[0]!.status).not.toBe('closed') // reset, not ended cleanly
      expect(performance.now() - started).toBeLessThan(3_000)
    })
    // An honest holder closes after its END: its stream ends cleanly.
    await withHandler(server, RETRIEVE_PROTOCOL, scripted([HEADER(1), SHARD(all[0]!), END(1)]), async (streams) => {
      const session = await openRetrieve(client, server.peerId, blob.blobId, { timeoutMs: 5_000 })
      for await (const _ of session.shards);
      await untilClosed(streams[0]!)
      expect(streams[0]!.status).toBe('closed')
    })
  })

  it('a holder whose store lists an index twice serves it once', async () => {
    const service = {
      async holdings() {
        return { headerBytes: blob.headerBytes, indices: [3, 1, 3] }
      },
      async readShard(_id: unknown, index: number) {
        return all[index]
      },
    }
    await withHandler(
      server,
      RETRIEVE_PROTOCOL,
      (stream, connection) => handleRetrieveStream(service, stream, connection).then(() => {}),
      async () => {
        const session = await openRetrieve(client, server.peerId, blob.blobId, { timeoutMs: 5_000 })
        const indices: number[] = []
        for await (const shard of session.shards) indices.push(shard.index)
        expect(session.count).toBe(2)
        expect(indices).toEqual([1, 3])
      },
    )
  })
})
