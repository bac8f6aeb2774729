import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EncodedBlob } from '../../src/erasure/encode.ts'
import { createLogger } from '../../src/logger.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { MemberService } from '../../src/node/member-service.ts'
import { ShardReads } from '../../src/node/shard-reads.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { openRetrieve } from '../../src/p2p/retrieve.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { registerProtocols } from '../../src/p2p/service.ts'
import { StorageErrorCode, storageError } from '../../src/storage/errors.ts'
import { ShardStore } from '../../src/storage/store.ts'
import { withProofs } from '../erasure/helpers.ts'
import { failureOf, type Gate, gate, startNodes } from '../p2p/helpers.ts'
import { removeDirs } from './harness.ts'
import { committees, freshBlob, identities, MAX_BLOB, sequencer, setUpMember, tearDownMember } from './member-setup.ts'

beforeAll(setUpMember)

afterAll(tearDownMember)

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
    let failure = storageError(StorageErrorCode.CORRUPT_ENTRY, 'a damaged block')
    store.getShards = async () => {
      multiGets++
      throw failure
    }
    try {
      lines = []
      expect((await service.readShards(blob.blobId, [0, 1, 2])).map((s) => s.index)).toEqual([0, 2])
      expect(multiGets).toBe(1)
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
        'multi-shard read failed; reading one at a time',
      ])
      // A failing disk is not read around: one at a time, every read would fail alike and the holder look empty.
      failure = storageError(StorageErrorCode.IO_FAILED, 'the disk failed')
      await expect(service.readShards(blob.blobId, [0, 1, 2])).rejects.toMatchObject({
        code: StorageErrorCode.IO_FAILED,
      })
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
