import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyAttestation } from '../../src/attest/attestation.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { isSafeEncoding } from '../../src/committee/params.ts'
import { type EncodedBlob, encodeBlob } from '../../src/erasure/encode.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { createLogger } from '../../src/logger.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { MemberService } from '../../src/node/member-service.ts'
import { ShardReads } from '../../src/node/shard-reads.ts'
import { FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { Shard, StoreRequest, StoreResponse } from '../../src/p2p/pb/dacnet.js'
import { STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { openRetrieve } from '../../src/p2p/retrieve.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { registerProtocols } from '../../src/p2p/service.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { ShardStore } from '../../src/storage/store.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { failureOf, type Gate, gate, startNodes } from '../p2p/helpers.ts'
import {
  type MemberIdentity,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

/**
 * The checks a member makes on a registered sequencer's store (docs/PROTOCOL.md §3.3), over the wire: one real
 * committee node (libp2p on loopback, LevelDB in a temp dir) of a three-member committee. Every refusal must
 * carry its documented code and leave nothing stored.
 */

const NETWORK = 31
const MAX_BLOB = 64 * 1024
const committees = new SwappableCommitteeSource()
const identities: MemberIdentity[] = []
let member: RunningMember
let sequencer: DacnetLibp2p
let committee: Committee
let seed = 500

beforeAll(async () => {
  for (const stake of [40n, 30n, 30n]) identities.push(await memberIdentity(stake))
  member = await startMember(identities[0]!, committees, { maxBlobSize: MAX_BLOB, announceProviders: false })
  sequencer = await startClient()
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: identities.map((identity, i) => ({
        identity,
        ...(i === 0 ? { addresses: member.node.addresses() } : {}),
      })),
      sequencers: [sequencer.peerId.toString()],
    },
  ])
  committee = await committees.getCommittee(0)
  await sequencer.dial(member.node.libp2p.getMultiaddrs())
})

afterAll(async () => {
  await member?.node.stop()
  await sequencer?.stop()
  await removeDirs(member ? [member.dir] : [])
})

/** A fresh blob (never stored before) with the committee's shape for its size unless overridden. */
function freshBlob(overrides: { networkId?: number; k?: number; n?: number; size?: number } = {}): EncodedBlob {
  const size = overrides.size ?? 20_000
  const shape = committee.shapeFor(size)
  return encodeBlob(randomData(size, prng(seed++)), {
    networkId: overrides.networkId ?? NETWORK,
    epoch: 0,
    k: overrides.k ?? shape.k,
    n: overrides.n ?? shape.n,
    maxBlobSize: 1024 * 1024,
  })
}

const self = () => committee.memberByPublicKey(identities[0]!.publicKey)!

/** The shards the committee assigns to the running member, with proofs. */
function shareOf(blob: EncodedBlob): ShardWithProof[] {
  const all = withProofs(blob)
  return assignShards(committee, blob.blobId.bytes, blob.header.n)
    .shardsOf(self().index)
    .map((i) => all[i]!)
}

/** Stores and returns the refusal's code (asserting it came from the member), or 'ok'. */
async function storeOutcome(headerBytes: Uint8Array, shards: readonly ShardWithProof[]): Promise<string> {
  const err = await failureOf(sendStore(sequencer, member.node.libp2p.getMultiaddrs(), headerBytes, shards))
  if (err === undefined) return 'ok'
  expect(err.meta?.remote).toBe(true)
  return err.code ?? err.message
}

async function expectNothingStored(blob: EncodedBlob): Promise<void> {
  expect(await member.node.store.hasBlob(blob.blobId)).toBe(false)
  expect(await member.node.store.getAttestation(blob.blobId)).toBeUndefined()
}

describe('a member refuses a header that is not its committee’s', () => {
  it('another network id: NODE_HEADER_MISMATCH', async () => {
    const blob = freshBlob({ networkId: NETWORK + 1 })
    expect(await storeOutcome(blob.headerBytes, shareOf(blob))).toBe(NodeErrorCode.HEADER_MISMATCH)
    await expectNothingStored(blob)
  })

  it("a (k, n) other than the policy's for its size, even a safe one: NODE_HEADER_MISMATCH (before the count)", async () => {
    // Members admit only the committee's shape for the blob's size (dispersal policy, PROTOCOL.md §2.3, §3.3
    // step 6), although a certificate for (k, 2n), (k, n + 1), (k - 1, n) or another size's shape would verify.
    const { k, n } = committee.shapeFor(20_000)
    expect({ k, n }).toEqual({ k: 8, n: 32 }) // 3 members: kMax(32) = 10 - 2, shards of 2,560 bytes
    const big = committee.shapeFor(1024 * 1024)
    const others = [{ n: 2 * n }, { n: n + 1 }, { k: k - 1 }, big]
    for (const o of others) expect(isSafeEncoding(committee, o.k ?? k, o.n ?? n)).toBe(true)
    expect(isSafeEncoding(committee, k + 1, n)).toBe(false)
    for (const params of [{ k: k + 1 }, ...others]) {
      const blob = freshBlob(params)
      // As many shards as the member is assigned under the header's n.
      const count = assignShards(committee, blob.blobId.bytes, blob.header.n).shardsOf(self().index).length
      expect(await storeOutcome(blob.headerBytes, withProofs(blob).slice(0, count))).toBe(NodeErrorCode.HEADER_MISMATCH)
      await expectNothingStored(blob)
    }
  })

  it('a blob above the maximum size: NODE_HEADER_MISMATCH; one of exactly the maximum is taken', async () => {
    const over = freshBlob({ size: MAX_BLOB + 1 })
    expect(await storeOutcome(over.headerBytes, shareOf(over))).toBe(NodeErrorCode.HEADER_MISMATCH)
    await expectNothingStored(over)
    const exact = freshBlob({ size: MAX_BLOB })
    expect(await storeOutcome(exact.headerBytes, shareOf(exact))).toBe('ok')
  })

  it('a shard size that is not the one for (dataSize, k): ERASURE_HEADER_INVALID', async () => {
    // The shard size is not a committee parameter: it follows from dataSize and k, and the header decoder
    // refuses any other (docs/PROTOCOL.md §3.3 step 2).
    const blob = freshBlob()
    const header = blob.headerBytes.slice()
    const view = new DataView(header.buffer)
    view.setUint32(29, blob.header.shardSize + 64)
    expect(await storeOutcome(header, shareOf(blob))).toBe('ERASURE_HEADER_INVALID')
    await expectNothingStored(blob)
  })
})

describe('a member refuses shards that are not its assignment', () => {
  it('too few or too many: NODE_WRONG_SHARDS', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    expect(share.length).toBeGreaterThanOrEqual(2)
    const other = withProofs(blob).find((s) => !share.some((mine) => mine.index === s.index))!
    expect(await storeOutcome(blob.headerBytes, share.slice(1))).toBe(NodeErrorCode.WRONG_SHARDS)
    expect(await storeOutcome(blob.headerBytes, [...share, other])).toBe(NodeErrorCode.WRONG_SHARDS)
    expect(await storeOutcome(blob.headerBytes, [])).toBe(NodeErrorCode.WRONG_SHARDS)
    await expectNothingStored(blob)
  })

  it('the right count with another index, or a repeated one: NODE_WRONG_SHARDS', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    // A shard of someone else's run, with its valid proof, in place of one of ours.
    const other = withProofs(blob).find((s) => !share.some((mine) => mine.index === s.index))!
    expect(await storeOutcome(blob.headerBytes, [...share.slice(0, -1), other])).toBe(NodeErrorCode.WRONG_SHARDS)
    expect(await storeOutcome(blob.headerBytes, [...share.slice(0, -1), share[0]!])).toBe(NodeErrorCode.WRONG_SHARDS)
    await expectNothingStored(blob)
    // The order they come in does not matter.
    expect(await storeOutcome(blob.headerBytes, [...share].reverse())).toBe('ok')
  })
})

describe('a member checks every Merkle proof before it stores or signs', () => {
  it('refuses a changed shard, a changed proof or another shard’s proof, then takes the honest store', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    const last = share.length - 1
    const flip = (bytes: Uint8Array, at: number) => {
      const copy = bytes.slice()
      copy[at]! ^= 0x01
      return copy
    }
    const tampered: ShardWithProof[][] = [
      share.map((s, i) => (i === last ? { ...s, data: flip(s.data, 7) } : s)),
      share.map((s, i) => (i === last ? { ...s, proof: flip(s.proof, 0) } : s)),
      share.map((s, i) => (i === 0 ? { ...s, proof: share[last]!.proof } : s)),
    ]
    for (const shards of tampered) {
      expect(await storeOutcome(blob.headerBytes, shards)).toBe('STORAGE_INVALID_PROOF')
      await expectNothingStored(blob)
    }
    // A shard of the wrong length (the frame limit allows it; the store does not).
    const short = share.map((s, i) => (i === 0 ? { ...s, data: s.data.subarray(1) } : s))
    expect(await storeOutcome(blob.headerBytes, short)).toBe('STORAGE_INVALID_SHARD')
    await expectNothingStored(blob)
    // The refusals left nothing behind that gets in the way of the honest store.
    expect(await storeOutcome(blob.headerBytes, share)).toBe('ok')
    expect((await member.node.store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual(share.map((s) => s.index))
  })
  it('a bad proof is refused before the rule on bytes after the last shard: STORAGE_INVALID_PROOF, nothing stored', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    const bad = share.map((s, i) => (i === 1 ? { ...s, proof: s.proof.slice().fill(9) } : s))
    // By hand: the request, the share with shard 2's proof broken, then a frame too many (PROTOCOL.md §3.3).
    const stream = await sequencer.dialProtocol(member.node.libp2p.getMultiaddrs(), STORE_PROTOCOL)
    const reader = new FrameReader(stream)
    try {
      await writeFrame(stream, StoreRequest.encode({ header: blob.headerBytes, shardCount: bad.length }))
      for (const shard of [...bad, share[0]!]) await writeFrame(stream, Shard.encode(shard))
      await stream.close()
      const response = StoreResponse.decode(await reader.expect(4096, 'the store response'))
      expect([response.errorCode, response.signature.length]).toEqual(['STORAGE_INVALID_PROOF', 0])
    } finally {
      reader.release()
    }
    await expectNothingStored(blob)
  })
})

describe('storing the same blob again', () => {
  it('answers with a byte-identical signature, the one it kept, and writes nothing new', async () => {
    const blob = freshBlob()
    const share = shareOf(blob)
    const attested: boolean[] = []
    const onAttested = (e: { fresh: boolean }) => attested.push(e.fresh)
    member.node.events.on('attested', onAttested)
    try {
      const peer = member.node.libp2p.getMultiaddrs()
      const first = await sendStore(sequencer, peer, blob.headerBytes, share)
      const second = await sendStore(sequencer, peer, blob.headerBytes, [...share].reverse())
      expect(first).toHaveLength(96)
      expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true)
      const kept = await member.node.store.getAttestation(blob.blobId)
      expect(Buffer.from(kept!).equals(Buffer.from(first))).toBe(true)
      // It is the member's valid attestation of this blob, not just any 96 bytes.
      const context = attestationContextOf(blob.header)
      const signer = verifyAttestation(
        { ...context, publicKey: identities[0]!.publicKey, signature: second },
        committee,
        context,
      )
      expect(signer.index).toBe(self().index)
      expect(attested).toEqual([true, false])
    } finally {
      member.node.events.off('attested', onAttested)
    }
  })
})

/**
 * Serving samples and retrievals from a real ShardStore (LevelDB in a temp dir) over real libp2p, through the
 * MemberService a committee node uses (docs/PROTOCOL.md §3.4, §3.5).
 */
describe('a member serving samples and retrievals', { timeout: 15_000 }, () => {
  let dir: string
  let store: ShardStore
  let holder: DacnetLibp2p
  let lines: { level: string; msg: string }[] = []
  const logger = createLogger({ level: 'debug', json: true, write: (line) => lines.push(JSON.parse(line)) })
  let blob: EncodedBlob
  /** The shards this holder stores. */
  const HELD = [0, 2, 5]

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dacnet-serving-'))
    store = await ShardStore.open(dir)
    ;[holder] = (await startNodes(1)) as [DacnetLibp2p]
    await sequencer.dial(holder.getMultiaddrs())
    blob = freshBlob()
    const all = withProofs(blob)
    await store.putBlob(
      blob.headerBytes,
      HELD.map((i) => all[i]!),
    )
  })

  afterAll(async () => {
    await holder?.stop()
    await store?.close()
    await removeDirs(dir ? [dir] : [])
  })

  function serviceOf(opts: { maxConcurrentShardReads?: number; shardReadWaitMs?: number } = {}): MemberService {
    return new MemberService({
      store,
      committees,
      secretKey: identities[0]!.secretKey,
      publicKey: identities[0]!.publicKey,
      maxBlobSize: MAX_BLOB,
      logger,
      ...opts,
    })
  }

  /** Serves `service` on the holder for the length of `body`. */
  async function serving<T>(service: MemberService, body: () => Promise<T>): Promise<T> {
    const stop = await registerProtocols(holder, { sample: service, retrieve: service })
    try {
      return await body()
    } finally {
      await stop()
    }
  }

  const sample = (indices: number[]) =>
    requestSamples(sequencer, holder.peerId, blob.blobId, indices, { shardSize: blob.header.shardSize })

  /** Makes the store's shard reads wait until the returned gate opens (the values still come from LevelDB). */
  function holdReads(): Gate & { restore(): void } {
    const held = gate()
    const read = store.getShard
    store.getShard = async (blobId, index) => {
      await held.promise
      return read.call(store, blobId, index)
    }
    return { ...held, restore: () => (store.getShard = read) }
  }

  it('answers an index outside the blob NOT_HELD, by itself, with no warning; the other indices are served', async () => {
    const { n } = blob.header
    const outside = [n, n + 3, 65_536, 2 ** 32 - 1]
    lines = []
    const answers = await serving(serviceOf(), () =>
      sample([outside[1]!, 2, outside[0]!, 1, outside[3]!, 0, outside[2]!]),
    )
    const all = withProofs(blob)
    for (const index of [0, 2])
      expect(Buffer.from(answers.get(index)!.data).equals(Buffer.from(all[index]!.data))).toBe(true)
    expect(answers.get(1)).toBeNull() // in range, not held here
    for (const index of outside) expect(answers.get(index), `index ${index}`).toBeNull()
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([])
    expect(lines.filter((l) => l.msg === 'shard index outside the blob')).toHaveLength(outside.length)
    expect(lines.every((l) => l.level === 'debug')).toBe(true)
  })

  it('bounds shard reads node-wide: a read that finds no free slot in time is refused with NODE_BUSY', async () => {
    const service = serviceOf({ maxConcurrentShardReads: 1, shardReadWaitMs: 150 })
    const hold = holdReads()
    try {
      const first = service.readShard(blob.blobId, 0)
      const start = performance.now()
      const busy = await failureOf(service.readShard(blob.blobId, 2))
      expect(busy?.code).toBe(NodeErrorCode.BUSY)
      expect(performance.now() - start).toBeGreaterThanOrEqual(140)
      hold.open()
      expect((await first)?.index).toBe(0)
    } finally {
      hold.restore()
    }
    // The slot came back, and comes back from a read outside the blob or of a shard not held too.
    expect(await service.readShard(blob.blobId, blob.header.n)).toBeUndefined()
    expect(await service.readShard(blob.blobId, 1)).toBeUndefined()
    expect((await service.readShard(blob.blobId, 2))?.index).toBe(2)
  })

  it('reads a run of shards in one multi-get, skipping those not held, and one by one when the multi-get fails', async () => {
    const service = serviceOf({ maxConcurrentShardReads: 1 })
    const all = withProofs(blob)
    const run = await service.readShards(blob.blobId, [0, 1, 2])
    expect(run.map((s) => s.index)).toEqual([0, 2])
    for (const shard of run) expect(Buffer.from(shard.data).equals(Buffer.from(all[shard.index]!.data))).toBe(true)
    const getShards = store.getShards
    let multiGets = 0
    store.getShards = async () => {
      multiGets++
      throw new Error('a damaged block')
    }
    try {
      lines = []
      expect((await service.readShards(blob.blobId, [0, 1, 2])).map((s) => s.index)).toEqual([0, 2])
      expect(multiGets).toBe(1)
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
        'multi-shard read failed; reading one at a time',
      ])
    } finally {
      store.getShards = getShards
    }
    // The slot came back after both paths.
    expect((await service.readShards(blob.blobId, [2])).map((s) => s.index)).toEqual([2])
  })

  it('a read that waits gets the slot as soon as one is given back', async () => {
    const service = serviceOf({ maxConcurrentShardReads: 1, shardReadWaitMs: 30_000 })
    const hold = holdReads()
    try {
      const first = service.readShard(blob.blobId, 0)
      const second = service.readShard(blob.blobId, 5)
      hold.open()
      expect([(await first)?.index, (await second)?.index]).toEqual([0, 5])
    } finally {
      hold.restore()
    }
  })

  it('reads for a requester count against its own rate: NODE_RATE_LIMITED with the wait, other requesters served', async () => {
    const reads = new ShardReads(store, { requestsPerSecond: 3, logger })
    for (let i = 0; i < 3; i++) expect((await reads.shard('http:192.0.2.1', blob.blobId, 0)).found).toBe('shard')
    const limited = await failureOf(reads.blob('http:192.0.2.1', blob.blobId))
    expect(limited?.code).toBe(NodeErrorCode.RATE_LIMITED)
    expect(limited?.meta?.retryAfterMs).toBeGreaterThan(0)
    expect(limited?.meta?.retryAfterMs).toBeLessThanOrEqual(1_000)
    const other = await reads.blob('http:192.0.2.2', blob.blobId)
    expect([other?.heldShards, other?.attested, other?.certificate]).toEqual([HELD, false, undefined])
    for (const bad of [0, 1.5]) {
      expect(() => new ShardReads(store, { requestsPerSecond: bad }), String(bad)).toThrow(/read rate/)
    }
  })

  it('shares a node-wide serving budget: once spent, a requester past its share waits, then NODE_BUSY; others are served', async () => {
    // 4 KiB a second, a quarter of a second's burst: a few shards' worth.
    const reads = new ShardReads(store, {
      servingBytesPerSecond: 4096,
      shardReadWaitMs: 100,
      requestsPerSecond: 1_000,
      logger,
    })
    const heavy = 'http:192.0.2.10'
    let served = 0
    let refusal: Awaited<ReturnType<typeof failureOf>>
    while (refusal === undefined && served < 100) {
      refusal = await failureOf(reads.shard(heavy, blob.blobId, 0))
      if (refusal === undefined) served++
    }
    // The heavy requester was served the budget's burst and then held back: it waited its 100 ms and was refused.
    expect(served).toBeGreaterThan(0)
    expect(served).toBeLessThan(10)
    expect([refusal?.code, refusal?.meta?.servingBytesPerSecond]).toEqual([NodeErrorCode.BUSY, 4096])
    // Requesters within their share (here, new ones) are served at once while the budget stays spent.
    for (const light of ['http:192.0.2.11', 'http:192.0.2.12']) {
      const started = performance.now()
      expect((await reads.shard(light, blob.blobId, 2)).found).toBe('shard')
      expect(performance.now() - started).toBeLessThan(100)
    }
    expect((await failureOf(reads.shard(heavy, blob.blobId, 5)))?.code).toBe(NodeErrorCode.BUSY)
    // What a blob holds is not shard bytes: not held back by the budget.
    expect((await reads.blob(heavy, blob.blobId))?.heldShards).toEqual(HELD)
    // Without a budget, the same reads go through.
    const unbudgeted = new ShardReads(store, {
      servingBytesPerSecond: Number.POSITIVE_INFINITY,
      requestsPerSecond: 1_000,
    })
    for (let i = 0; i < 20; i++) expect((await unbudgeted.shard(heavy, blob.blobId, 0)).found).toBe('shard')
    for (const bad of [0, 1000, 2048.5, Number.NaN]) {
      expect(() => new ShardReads(store, { servingBytesPerSecond: bad }), String(bad)).toThrow(/servingBytesPerSecond/)
    }
  })

  it('answers a requester by what is held: the shard, not held, outside the blob, or no blob', async () => {
    const reads = new ShardReads(store, { logger })
    const { n } = blob.header
    const who = 'http:192.0.2.3'
    const held = await reads.shard(who, blob.blobId, 5)
    expect(held.found === 'shard' && held.shard.index).toBe(5)
    expect(await reads.shard(who, blob.blobId, 1)).toEqual({ found: 'not-held', n })
    expect(await reads.shard(who, blob.blobId, n)).toEqual({ found: 'outside', n })
    expect(await reads.shard(who, freshBlob().blobId, 0)).toEqual({ found: 'no-blob' })
    expect(await reads.blob(who, freshBlob().blobId)).toBeUndefined()
  })

  it("a member given the node's ShardReads shares its slots with the node's other readers", async () => {
    const reads = new ShardReads(store, { maxConcurrentShardReads: 1, shardReadWaitMs: 100, logger })
    const service = new MemberService({
      store,
      committees,
      secretKey: identities[0]!.secretKey,
      publicKey: identities[0]!.publicKey,
      maxBlobSize: MAX_BLOB,
      logger,
      reads,
    })
    const hold = holdReads()
    try {
      const other = reads.shard('http:192.0.2.4', blob.blobId, 0) // an HTTP client takes the only slot
      expect((await failureOf(service.readShard(blob.blobId, 2)))?.code).toBe(NodeErrorCode.BUSY)
      expect((await failureOf(service.holdings(blob.blobId)))?.code).toBe(NodeErrorCode.BUSY)
      hold.open()
      expect((await other).found).toBe('shard')
    } finally {
      hold.open()
      hold.restore()
    }
    expect((await service.holdings(blob.blobId))?.indices).toEqual(HELD)
  })

  it('over the wire, a busy holder answers sample and retrieve with an ERROR NODE_BUSY', async () => {
    const service = serviceOf({ maxConcurrentShardReads: 1, shardReadWaitMs: 150 })
    const hold = holdReads()
    try {
      const inFlight = service.readShard(blob.blobId, 0) // takes the only slot until the gate opens
      await serving(service, async () => {
        const sampled = await failureOf(sample([2]))
        expect([sampled?.code, sampled?.meta?.remote]).toEqual([NodeErrorCode.BUSY, true])
        // The holdings (header and indices) are a read of the store too: the retrieve is refused at its start.
        const retrieved = await failureOf(openRetrieve(sequencer, holder.peerId, blob.blobId))
        expect([retrieved?.code, retrieved?.meta?.remote]).toEqual([NodeErrorCode.BUSY, true])
      })
      hold.open()
      await inFlight
    } finally {
      hold.open()
      hold.restore()
    }
  })
})
