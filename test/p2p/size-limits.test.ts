import type { Stream, StreamHandler } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { DacnetError } from '../../src/errors.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { DEFAULT_WRITE_HIGH_WATER, FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import {
  MAX_ERROR_MESSAGE_CHARS,
  MAX_ERROR_REPLY_BYTES,
  MAX_QUERY_REQUEST_BYTES,
  MAX_SAMPLE_INDICES,
  replyFrameLimit,
  shardFrameLimit,
} from '../../src/p2p/limits.ts'
import { STREAM_WINDOW_BYTES } from '../../src/p2p/node.ts'
import { Reply, ReplyKind, SampleRequest } from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL, SAMPLE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { replyFrame } from '../../src/p2p/reply.ts'
import { MAX_FIRST_RETRIEVE_REPLY_BYTES, openRetrieve, type RetrieveService } from '../../src/p2p/retrieve.ts'
import { handleSampleStream, requestSamples, type SampleService } from '../../src/p2p/sample.ts'
import type { ProtocolServices } from '../../src/p2p/service.ts'
import { type StoreIntake, sendStore } from '../../src/p2p/store.ts'
import { truncateMessage } from '../../src/p2p/wire.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { failureOf, outcomeOf, waitFor, withHandler } from './helpers.ts'
import {
  blob,
  client,
  HANG_TEST_TIMEOUT_MS,
  server,
  serving,
  startServerAndClient,
  stopServerAndClient,
} from './limits-helpers.ts'

/** Size limits of the wire layer: long ERROR replies, and the memory a holder spends serving samples, on loopback. */

/** 100 bytes in 4 shards: the smallest shard size, so a shard frame is smaller than a long ERROR reply. */
const tiny = encodeBlob(randomData(100, prng(32)), { networkId: 5, epoch: 1, k: 4, n: 12 })
const tinyShards = withProofs(tiny)

beforeAll(startServerAndClient)

afterAll(stopServerAndClient)

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
