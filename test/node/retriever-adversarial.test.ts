import type { Stream } from '@libp2p/interface'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assignShards } from '../../src/committee/assignment.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { CommitteeErrorCode } from '../../src/committee/errors.ts'
import { type BlobId, blobIdOf, parseBlobId } from '../../src/erasure/blob-id.ts'
import { type EncodedBlob, encodeBlob } from '../../src/erasure/encode.ts'
import { type BlobHeader, encodeHeader } from '../../src/erasure/header.ts'
import { shardSizeFor } from '../../src/erasure/layout.ts'
import { type Logger, silentLogger } from '../../src/logger.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { Retriever } from '../../src/node/retriever.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import { MAX_QUERY_REQUEST_BYTES } from '../../src/p2p/limits.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { ReplyKind, RetrieveRequest } from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { replyFrame } from '../../src/p2p/reply.ts'
import { handleRetrieveStream, type RetrieveService } from '../../src/p2p/retrieve.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

/**
 * Retrieval from a bare BlobId when the DHT's provider records come from sybils: real libp2p nodes on loopback
 * that announce blob ids and serve the retrieve protocol with a handler of the test's choosing. The members
 * hold the honest blob (real LevelDB) but announce nothing, so every provider record the retriever finds is a
 * sybil's.
 */

const NETWORK = 6161
/** Four equal stakes: n = 32, k = 11. */
const STAKES = [25n, 25n, 25n, 25n]
const SYBILS = 4
const MiB = 1024 * 1024
/** A flooding sybil stops here, so a retriever that keeps reading cannot exhaust the test machine. */
const FLOOD_CAP_BYTES = 64 * MiB
/** What a retriever may take in before it refuses a header: buffers and windows of a few MiB, nowhere near the cap. */
const FLOOD_ALLOWED_BYTES = 16 * MiB
/** Bound on a retrieval that must not wait for a stalling holder (the holder timeout is 60 s). */
const SETTLES_WITHIN_MS = 12_000

type Behaviour =
  /** Never answers. */
  | { kind: 'silent' }
  /** Sends the blob's HEADER announcing shards, then nothing. */
  | { kind: 'stall-after-header'; headerBytes: Uint8Array }
  /** Sends the HEADER, then the length prefix of one enormous frame and as many bytes as the reader takes. */
  | { kind: 'flood'; headerBytes: Uint8Array; shardSize: number }
  /** Sends the HEADER and END, as if it held nothing after all. */
  | { kind: 'header-only'; headerBytes: Uint8Array }

interface Sybil {
  libp2p: DacnetLibp2p
  /** What it does when asked for a blob id (by its string form); unknown ids are never answered. */
  behaviours: Map<string, Behaviour>
  /** Retrieve streams it was asked on. */
  streams: Stream[]
  /** Bytes a flood handed to the stream before the stream went away or the cap was hit. */
  flooded: number
}

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
const sybils: Sybil[] = []
let client: DacnetLibp2p
let pool: ErasurePool
let retriever: Retriever
let honest: EncodedBlob
const honestData = randomData(50_000, prng(611))
let k: number
let n: number
let committee: Committee

beforeAll(async () => {
  for (const stake of STAKES) {
    members.push(await startMember(await memberIdentity(stake), committees, { announceProviders: false }))
  }
  for (let i = 0; i < members.length; i++) {
    await members[i]!.node.libp2p.dial(members[(i + 1) % members.length]!.node.libp2p.getMultiaddrs())
  }
  client = await startClient()
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
      sequencers: [client.peerId.toString()],
    },
  ])
  committee = await committees.getCommittee(0)
  ;({ k, n } = committee.shapeFor(honestData.length))
  // The members hold their assigned shards of an honest blob, written straight into their stores.
  honest = encodeBlob(honestData, { networkId: NETWORK, epoch: 0, k, n })
  const assignment = assignShards(committee, honest.blobId.bytes, n)
  const shards = withProofs(honest)
  for (const member of committee.members) {
    const running = members.find((m) => m.identity.peerId === member.peerId)!
    const own = assignment.shardsOf(member.index).map((i) => shards[i]!)
    await running.node.store.putBlob(honest.headerBytes, own)
  }
  for (let i = 0; i < SYBILS; i++) sybils.push(await startSybil())
  await client.dial(members[0]!.node.libp2p.getMultiaddrs())
  pool = new ErasurePool({ size: 1 })
  retriever = new Retriever({ libp2p: client, committees, pool })
}, 60_000)

afterAll(async () => {
  await retriever?.close()
  for (const m of members) await m.node.stop().catch(() => {})
  for (const s of sybils) await s.libp2p.stop()
  await client?.stop()
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
})

async function startSybil(): Promise<Sybil> {
  const libp2p = await startClient('server')
  const sybil: Sybil = { libp2p, behaviours: new Map(), streams: [], flooded: 0 }
  await libp2p.handle(RETRIEVE_PROTOCOL, async (stream) => {
    sybil.streams.push(stream)
    const reader = new FrameReader(stream)
    try {
      const request = RetrieveRequest.decode(await reader.expect(MAX_QUERY_REQUEST_BYTES, 'request'))
      reader.release()
      const behaviour = sybil.behaviours.get(parseBlobId(request.blobId).toString()) ?? { kind: 'silent' }
      await misbehave(sybil, stream, behaviour)
    } catch {
      stream.abort(new Error('sybil done'))
    }
  })
  for (const m of members) await libp2p.dial(m.node.libp2p.getMultiaddrs())
  return sybil
}

async function misbehave(sybil: Sybil, stream: Stream, behaviour: Behaviour): Promise<void> {
  if (behaviour.kind === 'silent') return untilGone(stream)
  await writeFrame(stream, replyFrame({ kind: ReplyKind.HEADER, header: behaviour.headerBytes, count: 1 }))
  if (behaviour.kind === 'stall-after-header') return untilGone(stream)
  if (behaviour.kind === 'header-only') {
    await writeFrame(stream, replyFrame({ kind: ReplyKind.END, count: 0 }))
    await stream.close()
    return
  }
  // One SHARD frame as long as the header allows, sent while the reader keeps taking it.
  stream.send(varint.encode(behaviour.shardSize + 100))
  const chunk = new Uint8Array(256 * 1024)
  while (sybil.flooded < FLOOD_CAP_BYTES && stream.status === 'open') {
    stream.send(new Uint8ArrayList(chunk))
    sybil.flooded += chunk.byteLength
    while (stream.writeBufferLength > MiB && stream.status === 'open') {
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.removeEventListener('drain', done)
          stream.removeEventListener('close', done)
          resolve()
        }
        stream.addEventListener('drain', done)
        stream.addEventListener('close', done)
      })
    }
  }
  return untilGone(stream)
}

function untilGone(stream: Stream): Promise<void> {
  if (stream.status !== 'open') return Promise.resolve()
  return new Promise((resolve) => stream.addEventListener('close', () => resolve(), { once: true }))
}

/** Every sybil in `which` announces `blobId`; returns once the retriever's node finds all of them in the DHT. */
async function announce(blobId: BlobId, which: Sybil[], behaviour: (s: Sybil) => Behaviour): Promise<void> {
  for (const s of which) {
    s.behaviours.set(blobId.toString(), behaviour(s))
    await s.libp2p.contentRouting.provide(blobId, { signal: AbortSignal.timeout(10_000) })
  }
  const wanted = new Set(which.map((s) => s.libp2p.peerId.toString()))
  for (let attempt = 0; attempt < 20; attempt++) {
    const found = new Set<string>()
    for await (const p of client.contentRouting.findProviders(blobId, { signal: AbortSignal.timeout(5_000) })) {
      found.add(p.id.toString())
    }
    if ([...wanted].every((id) => found.has(id))) {
      // Precondition of every test here: the members announce nothing, so the DHT names sybils only.
      expect([...found].every((id) => wanted.has(id))).toBe(true)
      return
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`the DHT never named all ${wanted.size} sybils as providers of ${blobId}`)
}

/** A header that passes every check of the header codec, with the committee's fields except `changes`. */
/** A header for a blob nobody stored: the committee's shape for its size (1,000 bytes) unless `changes` say otherwise. */
function forgedHeader(changes: Partial<BlobHeader>, seed: number): { header: BlobHeader; bytes: Uint8Array } {
  const dataSize = changes.dataSize ?? 1000
  const base = { version: 1, networkId: NETWORK, epoch: 0, dataSize, ...committee.shapeFor(dataSize), ...changes }
  const header: BlobHeader = {
    ...base,
    shardSize: shardSizeFor(base.dataSize, base.k),
    root: randomData(32, prng(seed)),
  }
  return { header, bytes: encodeHeader(header) }
}

async function settle<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; err?: Error & { code?: string } }> {
  const start = performance.now()
  try {
    const value = await promise
    return { ms: performance.now() - start, value }
  } catch (err) {
    return { ms: performance.now() - start, err: err as Error & { code?: string } }
  }
}

describe('retrieval from a bare BlobId with sybil providers', () => {
  it('gets the blob from the members when every provider stalls, before or after its HEADER', async () => {
    await announce(honest.blobId, sybils, (s) =>
      sybils.indexOf(s) % 2 === 0
        ? { kind: 'silent' }
        : { kind: 'stall-after-header', headerBytes: honest.headerBytes },
    )
    const { ms, value, err } = await settle(
      retriever.retrieve(honest.blobId.toString(), { signal: AbortSignal.timeout(SETTLES_WITHIN_MS) }),
    )
    expect(err).toBeUndefined()
    expect(value?.kind).toBe('ok')
    if (value?.kind === 'ok') {
      expect(Buffer.from(value.data).equals(Buffer.from(honestData))).toBe(true)
      const memberIds = new Set(members.map((m) => m.identity.peerId))
      expect(value.holders.length).toBeGreaterThan(0)
      expect(value.holders.every((h) => memberIds.has(h))).toBe(true)
    }
    expect(ms).toBeLessThan(SETTLES_WITHIN_MS)
  }, 30_000)

  it('refuses a header with a multi-GiB shard size before reading any shard', async () => {
    const huge = forgedHeader({ dataSize: 2 ** 31 * k, k, n }, 612)
    expect(huge.header.shardSize).toBe(2 ** 31)
    const blobId = blobIdOf(huge.bytes)
    const sybil = sybils[0]!
    sybil.flooded = 0
    await announce(blobId, [sybil], () => ({
      kind: 'flood',
      headerBytes: huge.bytes,
      shardSize: huge.header.shardSize,
    }))
    const asked = sybil.streams.length
    const { ms, err } = await settle(
      retriever.retrieve(blobId, { holderTimeoutMs: 5_000, signal: AbortSignal.timeout(SETTLES_WITHIN_MS) }),
    )
    expect(err?.code).toBe(NodeErrorCode.HEADER_MISMATCH)
    expect(err?.message).toMatch(/above the maximum/)
    expect(ms).toBeLessThan(5_000)
    expect(sybil.streams.length).toBe(asked + 1)
    // The stream was reset at once: the sybil could hand over no more than transport buffers hold.
    await untilGone(sybil.streams.at(-1)!)
    expect(sybil.flooded).toBeLessThan(FLOOD_ALLOWED_BYTES)
  }, 30_000)

  it('refuses a header with the shape of another size: safe for the committee, but not what members store', async () => {
    // (k, n) of the honest 50,000-byte blob on a header of 1,000 bytes, whose own shape is (2, 16).
    expect([committee.shapeFor(1000), { k, n }]).toEqual([
      { k: 2, n: 16 },
      { k: 18, n: 64 },
    ])
    const forged = forgedHeader({ k, n }, 614)
    const blobId = blobIdOf(forged.bytes)
    await announce(blobId, [sybils[1]!], () => ({ kind: 'header-only', headerBytes: forged.bytes }))
    const { err } = await settle(retriever.retrieve(blobId, { signal: AbortSignal.timeout(SETTLES_WITHIN_MS) }))
    expect(err?.code).toBe(NodeErrorCode.HEADER_MISMATCH)
  }, 30_000)

  it.each([
    ['another network', { networkId: NETWORK + 1 }, NodeErrorCode.HEADER_MISMATCH],
    ["a k other than the policy's for its size", { k: 3 }, NodeErrorCode.HEADER_MISMATCH],
    ['an epoch with no known committee', { epoch: 7 }, CommitteeErrorCode.UNKNOWN_EPOCH],
  ] as const)(
    'refuses a header for %s with a typed error',
    async (_what, changes, code) => {
      const forged = forgedHeader(changes, 613)
      const blobId = blobIdOf(forged.bytes)
      // Served as though all were well: a HEADER and an END. Only the header's checks can refuse it.
      await announce(blobId, [sybils[1]!], () => ({ kind: 'header-only', headerBytes: forged.bytes }))
      const { err } = await settle(retriever.retrieve(blobId, { signal: AbortSignal.timeout(SETTLES_WITHIN_MS) }))
      expect(err?.code).toBe(code)
    },
    30_000,
  )
})

describe('retrieval from members, one of which lies', () => {
  it('gets the blob when a member sends shards that are not the committed ones, and asks it no more', async () => {
    // The first member asked (the committee's first, with a bare BlobId) flips a bit pattern into every shard it
    // serves: its proofs are right, its data is not. The retriever decodes without checking proofs, misses the
    // root, then checks every proof, drops that member's shards, and fetches the rest from the others.
    const liar = members.find((m) => m.identity.peerId === committee.members[0]!.peerId)!
    const assignment = assignShards(committee, honest.blobId.bytes, n)
    const held = assignment.shardsOf(committee.members[0]!.index)
    expect(held.length).toBeGreaterThan(0)
    const store = liar.node.store
    let asked = 0
    const serve = (lie: boolean): RetrieveService => ({
      holdings: async () => ({ headerBytes: honest.headerBytes, indices: held }),
      readShard: async (blobId, index) => {
        const real = await store.getShard(blobId, index)
        return real && (lie ? { ...real, data: real.data.map((b) => b ^ 0x5a) } : real)
      },
    })
    const swap = async (service: RetrieveService) => {
      await liar.node.libp2p.unhandle(RETRIEVE_PROTOCOL)
      await liar.node.libp2p.handle(RETRIEVE_PROTOCOL, async (stream, connection) => {
        asked++
        await handleRetrieveStream(service, stream, connection)
      })
    }
    await swap(serve(true))
    try {
      const back = await retriever.retrieve(honest.blobId.toString(), {
        concurrency: 1,
        signal: AbortSignal.timeout(SETTLES_WITHIN_MS),
      })
      expect(back.kind).toBe('ok')
      if (back.kind === 'ok') {
        expect(Buffer.from(back.data).equals(Buffer.from(honestData))).toBe(true)
        expect(back.holders).not.toContain(liar.identity.peerId)
      }
      expect(asked).toBe(1)
    } finally {
      await swap(serve(false))
    }
  }, 30_000)

  it("keeps from a member only its own run: one that sends other members' indices first costs no checked pass", async () => {
    // The committee's first member, asked first, streams bytes that are not the committed ones for k indices of
    // other members' runs ahead of its own honest shards. Kept, they would miss the root and make the retriever
    // check every proof and fetch again; dropped, the first decode is the blob.
    const liar = members.find((m) => m.identity.peerId === committee.members[0]!.peerId)!
    const own = assignShards(committee, honest.blobId.bytes, n).shardsOf(committee.members[0]!.index)
    const foreign = Array.from({ length: n }, (_, i) => i)
      .filter((i) => !own.includes(i))
      .slice(0, k)
    const all = withProofs(honest)
    const store = liar.node.store
    const service = (lie: boolean): RetrieveService => ({
      holdings: async () => ({ headerBytes: honest.headerBytes, indices: lie ? [...foreign, ...own] : own }),
      readShard: async (blobId, index) =>
        own.includes(index)
          ? store.getShard(blobId, index)
          : { ...all[index]!, data: all[index]!.data.map((b) => b ^ 0x5a) },
    })
    await liar.node.libp2p.unhandle(RETRIEVE_PROTOCOL)
    await liar.node.libp2p.handle(RETRIEVE_PROTOCOL, async (stream, connection) => {
      await handleRetrieveStream(service(true), stream, connection)
    })
    const warnings: string[] = []
    const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message), child: () => logger }
    try {
      const back = await new Retriever({ libp2p: client, committees, pool, logger }).retrieve(
        honest.blobId.toString(),
        { concurrency: 1, signal: AbortSignal.timeout(SETTLES_WITHIN_MS) },
      )
      expect(back.kind).toBe('ok')
      if (back.kind === 'ok') expect(Buffer.from(back.data).equals(Buffer.from(honestData))).toBe(true)
      expect(warnings).toEqual([])
    } finally {
      await liar.node.libp2p.unhandle(RETRIEVE_PROTOCOL)
      await liar.node.libp2p.handle(RETRIEVE_PROTOCOL, async (stream, connection) => {
        await handleRetrieveStream(service(false), stream, connection)
      })
    }
  }, 30_000)
})
