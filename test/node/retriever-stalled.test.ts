import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { blobIdOf } from '../../src/erasure/blob-id.ts'
import { encodeHeader } from '../../src/erasure/header.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { Retriever } from '../../src/node/retriever.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { ReplyKind } from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { replyFrame } from '../../src/p2p/reply.ts'
import { handleRetrieveStream } from '../../src/p2p/retrieve.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  oneEpochRegistry,
  type RunningMember,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

/**
 * Retrieval given a certificate, against real members (libp2p on loopback, LevelDB): what happens when the holder of
 * the most original shards stops sending after its HEADER.
 */

const NETWORK = 7373
/** Unequal, none above a quarter: the originals (the first third of the indices) always span two members or more. */
const STAKES = [24n, 22n, 20n, 18n, 16n]
/** Far below the 60 s holder timeout: a stalled holder must not be waited for. */
const SETTLES_WITHIN_MS = 10_000

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let sequencer: DacnetLibp2p
let reader: DacnetLibp2p
let pool: ErasurePool
let committee: Committee
let certificate: Certificate
const data = randomData(600_000, prng(7373))
/** Shard indices each member read to serve retrievals, by peer id. */
const reads = new Map<string, number[]>()

beforeAll(async () => {
  for (const stake of STAKES) members.push(await startMember(await memberIdentity(stake), committees))
  sequencer = await startClient()
  reader = await startClient()
  committees.registry = oneEpochRegistry(NETWORK, members, [sequencer])
  committee = await committees.getCommittee(0)
  pool = new ErasurePool({ size: 1 })
  const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: 15_000 })
  certificate = (await disperser.disperse(data)).certificate
  // The certificate comes at the threshold: wait until every member has stored its part.
  while (disperser.unsettled > 0) await new Promise((resolve) => setTimeout(resolve, 10))
  // Every member serves retrievals from its own store, noting each shard it reads.
  for (const m of members) await serveCountingReads(m)
}, 120_000)

afterAll(async () => {
  for (const m of members) await m.node.stop().catch(() => {})
  for (const n of [sequencer, reader]) await n?.stop()
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
})

async function serveCountingReads(member: RunningMember): Promise<void> {
  const peer = member.identity.peerId
  const header = certificate.header
  const blobId = blobIdOf(encodeHeader(header))
  const held = assignShards(committee, blobId.bytes, header.n).shardsOf(
    committee.members.find((c) => c.peerId === peer)!.index,
  )
  await member.node.libp2p.unhandle(RETRIEVE_PROTOCOL)
  await member.node.libp2p.handle(RETRIEVE_PROTOCOL, async (stream, connection) => {
    await handleRetrieveStream(
      {
        holdings: async (id) => (id.equals(blobId) ? { headerBytes: encodeHeader(header), indices: held } : null),
        readShard: async (id, index) => {
          reads.set(peer, [...(reads.get(peer) ?? []), index])
          return member.node.store.getShard(id, index)
        },
      },
      stream,
      connection,
    )
  })
}

describe('retrieval given a certificate', () => {
  it('takes parity shards from the others when a holder of originals stops sending, without waiting for it', async () => {
    // The member with the most originals answers the request with its HEADER and then sends nothing, as a
    // stopped or overloaded process would: its originals must come from parity shards of the others.
    const header = certificate.header
    const blobId = blobIdOf(encodeHeader(header))
    const assignment = assignShards(committee, blobId.bytes, header.n)
    const originalsOf = (m: RunningMember) =>
      assignment
        .shardsOf(committee.members.find((c) => c.peerId === m.identity.peerId)!.index)
        .filter((i) => i < header.k).length
    const stalled = [...members].sort((a, b) => originalsOf(b) - originalsOf(a))[0]!
    await stalled.node.libp2p.unhandle(RETRIEVE_PROTOCOL)
    await stalled.node.libp2p.handle(RETRIEVE_PROTOCOL, async (stream) => {
      await new FrameReader(stream).expect(1024, 'the request')
      await writeFrame(stream, replyFrame({ kind: ReplyKind.HEADER, header: encodeHeader(header), count: 1 }))
      // ...and nothing more, until the retriever gives up on the stream.
      await new Promise<void>((resolve) => stream.addEventListener('close', () => resolve(), { once: true }))
    })
    reads.clear()
    const retriever = new Retriever({ libp2p: reader, committees, pool })
    const started = performance.now()
    const back = await retriever.retrieve(certificate, { signal: AbortSignal.timeout(SETTLES_WITHIN_MS) })
    expect(performance.now() - started).toBeLessThan(SETTLES_WITHIN_MS)
    expect(back.kind).toBe('ok')
    if (back.kind !== 'ok') return
    expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true)
    expect(back.holders).not.toContain(stalled.identity.peerId)
    const parity = [...reads.values()].flat().filter((i) => i >= header.k)
    expect(parity.length).toBeGreaterThanOrEqual(originalsOf(stalled))
  }, 30_000)

  it('rejects an aborted or timed-out call with NODE_ABORTED, and options that would fetch nothing', async () => {
    const retriever = new Retriever({ libp2p: reader, committees, pool })
    const codeOf = (opts: Parameters<Retriever['retrieve']>[1]) =>
      retriever.retrieve(certificate, opts).then(
        () => undefined,
        (e: { code?: string; name?: string }) => e.code ?? e.name,
      )
    expect(await codeOf({ signal: AbortSignal.abort() })).toBe('NODE_ABORTED')
    expect(await codeOf({ signal: AbortSignal.timeout(0) })).toBe('NODE_ABORTED')
    // Zero holders at a time would ask nobody and call the blob unavailable.
    for (const concurrency of [0, -1, Number.NaN, 1.5])
      expect(await codeOf({ concurrency })).toBe('NODE_INVALID_OPTIONS')
    expect(await codeOf({ holderTimeoutMs: 2 ** 31 })).toBe('NODE_INVALID_OPTIONS')
    // Closed while a retrieval runs, and after: its pool and connections are gone, which is not "the blob is gone".
    const closing = new Retriever({ libp2p: reader, committees, pool })
    const under = closing.retrieve(certificate).then(
      () => 'retrieved',
      (e: { code?: string }) => e.code,
    )
    await closing.close()
    expect(await under).toBe('NODE_SHUTTING_DOWN')
    expect(await closing.retrieve(certificate).catch((e: { code?: string }) => e.code)).toBe('NODE_SHUTTING_DOWN')
  })

  it('short of k, tells shards it could not reach from shards nobody holds', async () => {
    const header = certificate.header
    const blobId = blobIdOf(encodeHeader(header))
    const assignment = assignShards(committee, blobId.bytes, header.n)
    const countOf = (m: RunningMember) =>
      assignment.shardsOf(committee.members.find((c) => c.peerId === m.identity.peerId)!.index).length
    // All but the smallest member (16% of the stake, fewer than the k of a third of n): no retrieval reaches k.
    const gone = [...members].sort((a, b) => countOf(b) - countOf(a)).slice(0, 4)
    const retriever = new Retriever({ libp2p: reader, committees, pool })
    const shortOf = async () => {
      const err = await retriever.retrieve(certificate, { holderTimeoutMs: 1_000 }).then(
        () => undefined,
        (e: unknown) => e as { code: string; meta: { found: number; needed: number; unreachedShards: number } },
      )
      expect(err?.code).toBe('NODE_NOT_ENOUGH_SHARDS')
      return err!.meta
    }
    try {
      // They answer that they hold nothing of the blob (their shards are lost): nothing was left unread.
      for (const m of gone) {
        await m.node.libp2p.unhandle(RETRIEVE_PROTOCOL)
        await m.node.libp2p.handle(RETRIEVE_PROTOCOL, async (stream, connection) => {
          await handleRetrieveStream(
            { holdings: async () => null, readShard: async () => undefined, readShards: async () => [] } as never,
            stream,
            connection,
          )
        })
      }
      expect((await shortOf()).unreachedShards).toBe(0)
      // They take the request and never answer (a stopped process): their shards were never read, and may exist.
      for (const m of gone) {
        await m.node.libp2p.unhandle(RETRIEVE_PROTOCOL)
        await m.node.libp2p.handle(RETRIEVE_PROTOCOL, async (stream) => {
          await new Promise<void>((resolve) => stream.addEventListener('close', () => resolve(), { once: true }))
        })
      }
      const unreached = await shortOf()
      expect(unreached.unreachedShards).toBe(gone.reduce((sum, m) => sum + countOf(m), 0))
      expect(unreached.found + unreached.unreachedShards).toBeGreaterThanOrEqual(unreached.needed)
    } finally {
      for (const m of gone) await serveCountingReads(m)
    }
  }, 60_000)
})
