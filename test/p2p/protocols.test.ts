import type { PeerId } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BlobId } from '../../src/erasure/blob-id.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { DacnetError, isDacnetError } from '../../src/errors.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import { replyFrameLimit } from '../../src/p2p/limits.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import {
  Reply,
  ReplyKind,
  RetrieveRequest,
  SampleRequest,
  Shard,
  StoreRequest,
  StoreResponse,
} from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL, SAMPLE_PROTOCOL, STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { replyFrame } from '../../src/p2p/reply.ts'
import { openRetrieve } from '../../src/p2p/retrieve.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { registerProtocols } from '../../src/p2p/service.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { collectingIntake, startNodes, stopAll, waitFor } from './helpers.ts'

const blob = encodeBlob(randomData(300_000, prng(21)), { networkId: 5, epoch: 1, k: 4, n: 12 })
const all = withProofs(blob)

let server: DacnetLibp2p
let client: DacnetLibp2p
/** A second client for the hand-made sample requests: the rate limit is per peer, so they leave `client`'s alone. */
let rawClient: DacnetLibp2p
let stored: { from: string; header: BlobHeader; shards: ShardWithProof[] }[] = []
/** Every intake the member opened, in order. */
const intakes: ReturnType<typeof collectingIntake>[] = []
const sequencerAllowed = new Set<string>()

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

beforeAll(async () => {
  const nodes = await startNodes(3)
  server = nodes[0]!
  client = nodes[1]!
  rawClient = nodes[2]!
  const held = new Map<number, ShardWithProof>([0, 5, 7].map((i) => [i, all[i]!]))
  await registerProtocols(
    server,
    {
      store: {
        admit(peer: PeerId, header, _bytes, count) {
          if (!sequencerAllowed.has(peer.toString()))
            throw new DacnetError('NODE_UNREGISTERED_SEQUENCER', 'not a sequencer')
          if (count !== 3) throw new DacnetError('NODE_WRONG_SHARDS', 'expected 3 shards')
          const intake = collectingIntake((shards) => {
            stored.push({ from: peer.toString(), header, shards })
            return new Uint8Array(96).fill(7)
          })
          intakes.push(intake)
          return intake
        },
      },
      sample: {
        async readShard(id: BlobId, index) {
          // Index 11 stands for a read the holder cannot serve now: the ERROR comes after the replies before it.
          if (index === 11) throw new DacnetError('NODE_BUSY', 'every shard read is taken')
          return id.equals(blob.blobId) ? held.get(index) : undefined
        },
      },
      retrieve: {
        async holdings(id) {
          return id.equals(blob.blobId) ? { headerBytes: blob.headerBytes, indices: [...held.keys()] } : null
        },
        async readShard(_id, index) {
          return held.get(index)
        },
      },
    },
    { sampleRatePerSecond: 5 },
  )
  await client.dial(server.getMultiaddrs())
  await rawClient.dial(server.getMultiaddrs())
})

afterAll(() => stopAll([server, client, rawClient]))

describe('store protocol', () => {
  it('delivers the header and shards to the member and returns its signature', async () => {
    sequencerAllowed.add(client.peerId.toString())
    stored = []
    const signature = await sendStore(client, server.peerId, blob.headerBytes, [all[1]!, all[4]!, all[9]!])
    expect(signature).toEqual(new Uint8Array(96).fill(7))
    expect(stored).toHaveLength(1)
    expect(stored[0]!.from).toBe(client.peerId.toString())
    expect(stored[0]!.shards.map((s) => s.index)).toEqual([1, 4, 9])
    expect(Buffer.from(stored[0]!.shards[1]!.data).equals(Buffer.from(all[4]!.data))).toBe(true)
  })

  it("carries the member's refusal code back to the sequencer", async () => {
    sequencerAllowed.clear()
    const err = await sendStore(client, server.peerId, blob.headerBytes, [all[1]!]).catch((e) => e)
    expect(isDacnetError(err, 'NODE_UNREGISTERED_SEQUENCER')).toBe(true)
    expect(err.meta.remote).toBe(true)
    sequencerAllowed.add(client.peerId.toString())
    expect(await codeOf(sendStore(client, server.peerId, blob.headerBytes, [all[1]!]))).toBe('NODE_WRONG_SHARDS')
  })

  it('refuses a malformed header and a frame larger than the header allows, before reading it', async () => {
    const badHeader = blob.headerBytes.slice()
    badHeader[0] = 9
    expect(await codeOf(sendStore(client, server.peerId, badHeader, [all[1]!]))).toBe('ERASURE_HEADER_UNKNOWN_VERSION')
    const huge = { ...all[1]!, data: new Uint8Array(blob.header.shardSize * 4) }
    const code = await codeOf(sendStore(client, server.peerId, blob.headerBytes, [huge, all[2]!, all[3]!]))
    expect(code).toBe(P2pErrorCode.FRAME_TOO_LARGE)
  })
})

/**
 * A store exchange by hand: the request announcing `announced` shards, the shards, then `trailer` raw bytes; the
 * member's StoreResponse.
 */
async function rawStore(
  shards: readonly ShardWithProof[],
  trailer: Uint8Array,
  announced = shards.length,
): Promise<StoreResponse> {
  const stream = await client.dialProtocol(server.peerId, STORE_PROTOCOL)
  const reader = new FrameReader(stream)
  try {
    await writeFrame(stream, StoreRequest.encode({ header: blob.headerBytes, shardCount: announced }))
    for (const s of shards) await writeFrame(stream, Shard.encode(s))
    if (trailer.length > 0) stream.send(trailer)
    await stream.close()
    return StoreResponse.decode(await reader.expect(4096, 'the store response'))
  } finally {
    reader.release()
  }
}

describe('store protocol: the frame sequence', () => {
  it('any frame after the announced shards is P2P_MALFORMED_MESSAGE, whatever its size, and nothing is stored', async () => {
    sequencerAllowed.add(client.peerId.toString())
    const shards = [all[1]!, all[4]!, all[9]!]
    const extra = Shard.encode(all[2]!)
    const trailers = [
      Uint8Array.of(0x00), // an empty frame
      Uint8Array.of(0x01, 0x08), // one byte
      Uint8Array.of(0x02, 0x08, 0x01), // two bytes: once refused as P2P_FRAME_TOO_LARGE
      Uint8Array.from([...varint.encode(extra.length), ...extra]), // a whole fourth shard
    ]
    for (const trailer of trailers) {
      stored = []
      const response = await rawStore(shards, trailer)
      expect([response.errorCode, response.signature.length], `trailer of ${trailer.length} bytes`).toEqual([
        P2pErrorCode.MALFORMED_MESSAGE,
        0,
      ])
      expect(response.errorMessage).toContain('more frames than the announced shard count')
      expect(stored).toEqual([])
      // The member's intake had taken the three shards: it is dropped, not left holding them.
      expect(intakes.at(-1)!.shards.map((s) => s.index)).toEqual([1, 4, 9])
      expect(intakes.at(-1)!.aborted).toBe(true)
    }
    // The same exchange without a trailer is stored and signed.
    const response = await rawStore(shards, new Uint8Array())
    expect([response.errorCode, [...response.signature]]).toEqual(['', Array(96).fill(7)])
    expect(stored).toHaveLength(1)
    expect(intakes.at(-1)!.aborted).toBe(false)
  })

  it('a share cut short is answered P2P_MALFORMED_MESSAGE, drops what the intake took, and nothing is stored', async () => {
    sequencerAllowed.add(client.peerId.toString())
    stored = []
    const opened = intakes.length
    // Two of the three announced shards, then the sender closes its side cleanly: the stream can still carry the
    // answer, so the member says what was wrong rather than resetting it.
    const response = await rawStore([all[1]!, all[4]!], new Uint8Array(), 3)
    expect([response.errorCode, response.signature.length]).toEqual([P2pErrorCode.MALFORMED_MESSAGE, 0])
    expect(response.errorMessage).toContain('the stream ended after 2 of the 3 announced shards')
    await waitFor(() => intakes.length > opened && intakes.at(-1)!.aborted, 'the intake dropped')
    expect(intakes.at(-1)!.shards.map((s) => s.index)).toEqual([1, 4])
    expect(stored).toEqual([])
  })
})

/** A sample exchange by hand: `request` sent as one frame; every reply frame until END or ERROR. */
async function rawSample(request: Uint8Array): Promise<Reply[]> {
  const stream = await rawClient.dialProtocol(server.peerId, SAMPLE_PROTOCOL)
  const reader = new FrameReader(stream)
  try {
    await writeFrame(stream, request)
    await stream.close()
    const replies: Reply[] = []
    while (true) {
      const reply = Reply.decode(await reader.expect(replyFrameLimit(blob.header.shardSize), 'a reply'))
      replies.push(reply)
      if (reply.kind === ReplyKind.END || reply.kind === ReplyKind.ERROR) return replies
    }
  } finally {
    reader.release()
  }
}

/** What a reply says, compactly: 'SHARD 7', 'NOT_HELD 2', 'END 2', 'ERROR P2P_…'. */
function summary(reply: Reply): string {
  switch (reply.kind) {
    case ReplyKind.SHARD:
      return `SHARD ${reply.shard?.index}`
    case ReplyKind.NOT_HELD:
      return `NOT_HELD ${reply.index}`
    case ReplyKind.END:
      return `END ${reply.count}`
    default:
      return `${reply.kind} ${reply.errorCode}`
  }
}

describe('sample protocol: packed and unpacked indices', () => {
  const blobIdField = [0x0a, blob.blobId.bytes.length, ...blob.blobId.bytes]

  it('a packed `indices` list, as a standard proto3 encoder sends it, is served as the indices it names', async () => {
    // Field 2, wire type 2 (0x12), 2 bytes: the varints 7 and 5. Read as if unpacked, the run's length would be
    // index 2 and 0x07 an (invalid) tag.
    const packed = Uint8Array.of(...blobIdField, 0x12, 0x02, 0x07, 0x05)
    const replies = await rawSample(packed)
    expect(replies.map(summary)).toEqual(['SHARD 7', 'SHARD 5', 'END 2'])
    expect(Buffer.from(replies[0]!.shard!.data).equals(Buffer.from(all[7]!.data))).toBe(true)
    // [16, 5]: read as if unpacked this is [2, 5]. 16 is outside this 12-shard blob, so NOT_HELD, not index 2.
    const misread = await rawSample(Uint8Array.of(...blobIdField, 0x12, 0x02, 0x10, 0x05))
    expect(misread.map(summary)).toEqual(['NOT_HELD 16', 'SHARD 5', 'END 1'])
    // The same request unpacked (what dacnet sends) gets the same answer.
    const unpacked = Uint8Array.of(...blobIdField, 0x10, 0x07, 0x10, 0x05)
    expect(unpacked).toEqual(SampleRequest.encode({ blobId: blob.blobId.bytes, indices: [7, 5] }))
    expect((await rawSample(unpacked)).map(summary)).toEqual(['SHARD 7', 'SHARD 5', 'END 2'])
  })

  it('a packed run that overruns the request is refused with P2P_MALFORMED_MESSAGE', async () => {
    const overrun = Uint8Array.of(...blobIdField, 0x12, 0x05, 0x07, 0x05)
    expect((await rawSample(overrun)).map(summary)).toEqual([`${ReplyKind.ERROR} ${P2pErrorCode.MALFORMED_MESSAGE}`])
  })
})

describe('sample protocol', () => {
  it('answers every index: shards with proofs, and a clear "not held"', async () => {
    const answers = await requestSamples(client, server.peerId, blob.blobId, [7, 1, 0], {
      shardSize: blob.header.shardSize,
    })
    expect([...answers.keys()].sort()).toEqual([0, 1, 7])
    expect(answers.get(1)).toBeNull()
    expect(Buffer.from(answers.get(7)!.proof).equals(Buffer.from(all[7]!.proof))).toBe(true)
  })

  it('reports each SHARD frame as it arrives, those of a reply that an ERROR ends too', async () => {
    const arrived: number[] = []
    const onShard = (shard: ShardWithProof) => arrived.push(shard.index, shard.data.length + shard.proof.length)
    const perShard = blob.header.shardSize + all[0]!.proof.length
    await requestSamples(client, server.peerId, blob.blobId, [1, 0], { shardSize: blob.header.shardSize, onShard })
    expect(arrived).toEqual([0, perShard]) // NOT_HELD carries no shard
    arrived.length = 0
    const failed = requestSamples(client, server.peerId, blob.blobId, [5, 0, 11, 7], {
      shardSize: blob.header.shardSize,
      onShard,
    })
    expect(await codeOf(failed)).toBe('NODE_BUSY')
    expect(arrived).toEqual([5, all[5]!.data.length + all[5]!.proof.length, 0, perShard])
  })

  it('refuses bad requests with codes and limits the rate per peer', async () => {
    // A request frame above the request limit is refused from its length prefix, with an ERROR reply.
    const stream = await client.dialProtocol(server.peerId, SAMPLE_PROTOCOL)
    const reader = new FrameReader(stream)
    await writeFrame(stream, new Uint8Array(2048))
    await stream.close()
    const reply = Reply.decode(await reader.expect(4096, 'reply'))
    reader.release()
    expect([reply.kind, reply.errorCode]).toEqual([ReplyKind.ERROR, P2pErrorCode.FRAME_TOO_LARGE])

    // A burst of 12 requests at once (within the 16 inbound sample streams) against a limit of 5 per second:
    // sent together, they cannot spread over enough one-second windows to all be served, however slow the
    // machine. The rest are refused with the limiter's code, not served and not failed otherwise.
    const codes = await Promise.all(
      Array.from(
        { length: 12 },
        async () =>
          (await codeOf(
            requestSamples(client, server.peerId, blob.blobId, [0], { shardSize: blob.header.shardSize }),
          )) ?? 'ok',
      ),
    )
    expect(codes.filter((c) => c === 'ok').length).toBeGreaterThan(0)
    expect(codes.filter((c) => c === P2pErrorCode.RATE_LIMITED).length).toBeGreaterThan(0)
    expect(codes.every((c) => c === 'ok' || c === P2pErrorCode.RATE_LIMITED)).toBe(true)
  })
})

describe('retrieve protocol', () => {
  it('streams the header and every held shard, and says when nothing is held', async () => {
    const session = await openRetrieve(client, server.peerId, blob.blobId)
    expect(session.header).toEqual(blob.header)
    const got: number[] = []
    for await (const shard of session.shards) got.push(shard.index)
    expect(got).toEqual([0, 5, 7])
    const other = encodeBlob(new Uint8Array(10), { networkId: 5, epoch: 1, k: 4, n: 12 })
    expect(await codeOf(openRetrieve(client, server.peerId, other.blobId))).toBe(P2pErrorCode.BLOB_NOT_HELD)
  })

  it('streams only the held shards of a requested range, and counts only those', async () => {
    const originals = await openRetrieve(client, server.peerId, blob.blobId, { range: { from: 0, to: 4 } })
    expect(originals.count).toBe(1)
    const got: number[] = []
    for await (const shard of originals.shards) got.push(shard.index)
    expect(got).toEqual([0])
    const parity = await openRetrieve(client, server.peerId, blob.blobId, { range: { from: 4 } })
    expect(parity.count).toBe(2)
    got.length = 0
    for await (const shard of parity.shards) got.push(shard.index)
    expect(got).toEqual([5, 7])
    const none = await openRetrieve(client, server.peerId, blob.blobId, { range: { from: 8, to: 12 } })
    expect(none.count).toBe(0)
    for await (const shard of none.shards) got.push(shard.index)
    expect(got).toEqual([5, 7])
  })

  it('refuses an empty range: the holder with P2P_MALFORMED_MESSAGE, the client before sending it', async () => {
    const stream = await rawClient.dialProtocol(server.peerId, RETRIEVE_PROTOCOL)
    await writeFrame(stream, RetrieveRequest.encode({ blobId: blob.blobId.bytes, fromIndex: 5, toIndex: 5 }))
    await stream.close()
    const reply = Reply.decode(await new FrameReader(stream).expect(1024, 'the reply'))
    expect(reply.kind).toBe(ReplyKind.ERROR)
    expect(reply.errorCode).toBe(P2pErrorCode.MALFORMED_MESSAGE)
    for (const range of [{ from: 5, to: 5 }, { from: -1 }, { from: 1.5 }, { from: 0, to: 2 ** 32 }]) {
      expect(await codeOf(openRetrieve(client, server.peerId, blob.blobId, { range }))).toBe(
        P2pErrorCode.MALFORMED_MESSAGE,
      )
    }
  })

  it('a shard outside the range asked for is P2P_MALFORMED_MESSAGE', async () => {
    // A holder that ignores the range (as one that does not know the field would) and sends shard 5 to a client
    // that asked for the originals 0..3.
    const liar = (await startNodes(1))[0]!
    try {
      await liar.handle(RETRIEVE_PROTOCOL, async (stream) => {
        const reader = new FrameReader(stream)
        await reader.expect(1024, 'the request')
        await writeFrame(stream, replyFrame({ kind: ReplyKind.HEADER, header: blob.headerBytes, count: 2 }))
        for (const index of [0, 5]) {
          await writeFrame(stream, replyFrame({ kind: ReplyKind.SHARD, shard: all[index]! }))
        }
        await writeFrame(stream, replyFrame({ kind: ReplyKind.END, count: 2 }))
        await stream.close()
      })
      await client.dial(liar.getMultiaddrs())
      const session = await openRetrieve(client, liar.peerId, blob.blobId, { range: { from: 0, to: 4 } })
      const got: number[] = []
      const err = await (async () => {
        for await (const shard of session.shards) got.push(shard.index)
      })().catch((e) => e)
      expect(got).toEqual([0])
      expect(isDacnetError(err, P2pErrorCode.MALFORMED_MESSAGE)).toBe(true)
      expect(err.message).toContain('shard 5 is outside the range asked for')
    } finally {
      await liar.stop()
    }
  })

  it('a sample reply whose END does not count the SHARD replies sent is P2P_MALFORMED_MESSAGE', async () => {
    const liar = (await startNodes(1))[0]!
    try {
      await liar.handle(SAMPLE_PROTOCOL, async (stream) => {
        const reader = new FrameReader(stream)
        await reader.expect(1024, 'the request')
        await writeFrame(stream, replyFrame({ kind: ReplyKind.SHARD, shard: all[0]! }))
        await writeFrame(stream, replyFrame({ kind: ReplyKind.END, count: 2 }))
        await stream.close()
      })
      await client.dial(liar.getMultiaddrs())
      const err = await requestSamples(client, liar.peerId, blob.blobId, [0], {
        shardSize: blob.header.shardSize,
      }).catch((e) => e)
      expect(isDacnetError(err, P2pErrorCode.MALFORMED_MESSAGE)).toBe(true)
      expect(err.message).toContain('the END counts 2 SHARD replies where 1 came')
    } finally {
      await liar.stop()
    }
  })

  it('protocol ids are the documented ones', () => {
    expect(STORE_PROTOCOL).toBe('/dacnet/store/1.0.0')
  })
})
