/**
 * Storage benchmarks: the synced write of one member's share of a 16 MiB blob with its attestation (one fsync) against
 * a bare LevelDB batch of the same bytes, sustained ingest, a long ingest to 3 GiB, warm shard read latency, and the
 * open time and integrity check of a 1 GiB store. Run alone with `npm exec -- node bench/storage.ts` (JSON lines).
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { type BlobHeader, encodeHeader, HEADER_VERSION } from '../src/erasure/header.ts'
import { buildMerkleTree, merkleProof } from '../src/erasure/merkle.ts'
import type { ShardWithProof } from '../src/erasure/shard.ts'
import { DEFAULT_RETENTION_MS, ShardStore } from '../src/storage/index.ts'
import { ownCpuSeconds } from './e2e/proc.ts'
import { type BenchRow, type BenchSuite, mbPerSecond, median, quantile, timeRuns } from './lib.ts'

const MiB = 1024 * 1024
const DAY_MS = 86_400_000
/** 16 MiB blob at rate 1/3 with 64 KiB shards: k = 256 originals, n = 768 shards in all. */
const BLOB_BYTES = 16 * MiB
const K = 256
/** A committee of ten equal-stake members: each holds a tenth of the n shards (77 shards, ~4.8 MiB). */
const COMMITTEE_SIZE = 10
const WRITE_RUNS = 15
const READS = 4000
/** Target logical size of the store whose open time is measured. */
const LARGE_STORE_BYTES = 1024 * MiB
const OPEN_RUNS = 9
/** Sustained ingest: this many blobs in all, stored this many at a time (group commit merges their batches). */
const SUSTAINED_BLOBS = 48
const SUSTAINED_IN_FLIGHT = 4
/** Long ingest: logical bytes stored into one fresh store, where LevelDB's compactions set the pace. */
const LONG_INGEST_BYTES = 3 * 1024 * MiB
/** Any 96 bytes: the store keeps an attestation as opaque bytes. */
const SUSTAINED_ATTESTATION = new Uint8Array(96).fill(7)
/** A store put must reach this fraction of a bare LevelDB synced batch of the same bytes (issue 12 §4). */
const WRITE_RATIO_GOAL = 0.85

/**
 * One set of shards with valid proofs, reused under many headers that differ only in epoch: each header is a
 * distinct blob id (so distinct keys), and the proofs stay valid because the root is the same.
 */
interface Fixture {
  base: Omit<BlobHeader, 'epoch'>
  share: ShardWithProof[]
  shareBytes: number
}

function makeFixture(k = K): Fixture {
  return fixtureOf({ k, n: 3 * k, shardSize: BLOB_BYTES / k, every: COMMITTEE_SIZE })
}

/**
 * The share of one member of 16 in a 16 MiB blob at the per-blob shape of PROTOCOL §2.3 (n = 16,384, k = 5,446,
 * 3,136-byte shards): about a thousand small shards instead of 77 large ones, which weighs per-entry costs.
 */
function smallShardFixture(): Fixture {
  return fixtureOf({ k: 5446, n: 16_384, shardSize: 3136, every: 16 })
}

function fixtureOf(shape: { k: number; n: number; shardSize: number; every: number }): Fixture {
  const { k, n, shardSize, every } = shape
  const shards = Array.from({ length: n }, () => new Uint8Array(randomBytes(shardSize)))
  const tree = buildMerkleTree(shards)
  // A member's share is one contiguous run of indices (PROTOCOL §2.4); this is the fourth member's run.
  const count = Math.ceil(n / every)
  const share = Array.from({ length: count }, (_, j) => {
    const index = 3 * count + j
    return { index, data: shards[index]!, proof: merkleProof(tree, index) }
  })
  const dataSize = Math.min(BLOB_BYTES, k * shardSize)
  const base = { version: HEADER_VERSION, networkId: 1, dataSize, k, n, shardSize, root: tree.root }
  return { base, share, shareBytes: share.reduce((sum, s) => sum + s.data.length, 0) }
}

function headerFor(fixture: Fixture, epoch: number): Uint8Array {
  return encodeHeader({ ...fixture.base, epoch })
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'dacnet-bench-storage-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function row(name: string, median: number, unit: string, runs: number, more: Partial<BenchRow> = {}): BenchRow {
  return { suite: 'storage', name, impl: 'dacnet', median, unit, runs, ...more }
}

/**
 * putBlob of one node's share with its attestation, fsynced (one batch, one fsync, as a member stores), beside a
 * bare LevelDB synced batch of the same shard values on the same disk. The two are timed in alternation, run by
 * run, so that the machine's drift weighs on both alike; the ratio row is the median of the per-run ratios.
 */
async function writeRows(fixture: Fixture, label: string): Promise<{ rows: BenchRow[]; store: string; epoch: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'dacnet-bench-storage-'))
  const store = await ShardStore.open(join(dir, 'store'), { backgroundPrune: false })
  const raw = new Level<Uint8Array, Uint8Array>(join(dir, 'raw'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
    writeBufferSize: 64 * MiB,
  })
  await raw.open()
  const attestation = new Uint8Array(randomBytes(96))
  let epoch = 0
  let batch = 0
  // LevelDB's chained batch, the faster of its two batch forms (the store writes through it too: src/storage/db.ts).
  const rawBatch = () => {
    batch++
    const chained = raw.batch()
    for (const s of fixture.share) {
      // The store's shard key width (49: bucket, expiry u64, blob id, index u32), in the same growing order.
      const key = new Uint8Array(49)
      key[0] = 7
      new DataView(key.buffer).setUint32(5, batch)
      new DataView(key.buffer).setUint32(45, s.index)
      chained.put(key, Buffer.concat([s.data, s.proof]))
    }
    return chained.write({ sync: true })
  }
  const storeTimes: number[] = []
  const rawTimes: number[] = []
  const ratios: number[] = []
  for (let run = -2; run < WRITE_RUNS; run++) {
    const a = await timeRuns(() => store.putBlob(headerFor(fixture, epoch++), fixture.share, { attestation }), 1, 0)
    const b = await timeRuns(rawBatch, 1, 0)
    if (run < 0) continue // warm-up
    storeTimes.push(a[0]!)
    rawTimes.push(b[0]!)
    ratios.push(b[0]! / a[0]!)
  }
  await store.close()
  await raw.close()
  const name = `sync put with attestation, ${label}`
  const extra = { shareBytes: fixture.shareBytes, shards: fixture.share.length, shardSize: fixture.base.shardSize }
  const rows = [
    row(name, mbPerSecond(fixture.shareBytes, median(storeTimes)), 'MB/s', WRITE_RUNS, {
      higherIsBetter: true,
      extra: { ...extra, medianMs: median(storeTimes) },
    }),
    row(name, mbPerSecond(fixture.shareBytes, median(rawTimes)), 'MB/s', WRITE_RUNS, {
      impl: 'level-batch-baseline',
      higherIsBetter: true,
      extra: { ...extra, medianMs: median(rawTimes) },
    }),
    row(`${name}: store / bare LevelDB`, median(ratios), 'x', WRITE_RUNS, {
      goal: WRITE_RATIO_GOAL,
      higherIsBetter: true,
      extra: { min: Math.min(...ratios), max: Math.max(...ratios) },
    }),
  ]
  return { rows, store: dir, epoch }
}

/**
 * Read latency at a smaller shard size (a 16 MiB blob with k = 1024): the proof check hashes the whole shard on
 * every read, so latency tracks shard size.
 */
async function smallShardReadRows(): Promise<BenchRow[]> {
  return withTempDir(async (dir) => {
    const fixture = makeFixture(1024)
    const store = await ShardStore.open(dir, { backgroundPrune: false })
    const blobs = 16
    for (let epoch = 0; epoch < blobs; epoch++) await store.putBlob(headerFor(fixture, epoch), fixture.share)
    await store.close()
    const readStore = await ShardStore.open(dir, { backgroundPrune: false })
    const rows = await readLatencyRows(readStore, fixture, blobs)
    await readStore.close()
    return rows
  })
}

/** Random getShard calls on a warm store, each timed alone: one LevelDB get plus one proof verification. */
async function readLatencyRows(store: ShardStore, fixture: Fixture, blobs: number): Promise<BenchRow[]> {
  const ids = (await store.listBlobs({ limit: blobs })).slice()
  const pickOne = () => ({
    id: ids[Math.floor(Math.random() * ids.length)]!,
    index: fixture.share[Math.floor(Math.random() * fixture.share.length)]!.index,
  })
  // Warm: every shard read once, so the timed reads measure the store, not first-touch page faults. These first
  // reads since the store opened are timed too: their proofs are not yet known to the store's verifier.
  const firstMicros: number[] = []
  for (const id of ids) {
    for (const { index } of fixture.share) {
      const start = performance.now()
      await store.getShard(id, index)
      firstMicros.push((performance.now() - start) * 1000)
    }
  }
  const micros: number[] = []
  for (let i = 0; i < READS; i++) {
    const { id, index } = pickOne()
    const start = performance.now()
    const shard = await store.getShard(id, index)
    micros.push((performance.now() - start) * 1000)
    if (shard === undefined) throw new Error('benchmark shard missing')
  }
  const extra = { shardBytes: fixture.base.shardSize, blobs: ids.length }
  const size = `${fixture.base.shardSize / 1024} KiB`
  return [
    row(`getShard p50, ${size} shard, warm`, quantile(micros, 0.5), 'µs', READS, {
      goal: 100,
      higherIsBetter: false,
      extra,
    }),
    row(`getShard p99, ${size} shard, warm`, quantile(micros, 0.99), 'µs', READS, { higherIsBetter: false, extra }),
    row(`getShard p50, ${size} shard, first read since open`, quantile(firstMicros, 0.5), 'µs', firstMicros.length, {
      higherIsBetter: false,
      extra,
    }),
  ]
}

/** Fills a store to 1 GiB of logical bytes, then times reopening it, a full integrity check, and pruning it whole. */
async function largeStoreRows(fixture: Fixture): Promise<BenchRow[]> {
  return withTempDir(async (dir) => {
    let store = await ShardStore.open(dir, { backgroundPrune: false })
    const buildStart = performance.now()
    for (let epoch = 0; store.stats().bytes < LARGE_STORE_BYTES; epoch++) {
      await store.putBlob(headerFor(fixture, epoch), fixture.share)
    }
    const buildMs = performance.now() - buildStart
    const { bytes, blobs, shards } = store.stats()
    await store.close()
    // The first open replays the write-ahead log into a table; later opens are what a restarted node sees.
    const times: number[] = []
    for (let run = 0; run <= OPEN_RUNS; run++) {
      const start = performance.now()
      store = await ShardStore.open(dir, { backgroundPrune: false })
      if (run > 0) times.push(performance.now() - start)
      await store.close()
    }
    store = await ShardStore.open(dir, { backgroundPrune: false })
    const check = await store.check()
    await store.close()
    if (!check.ok) throw new Error('integrity check of the benchmark store failed')
    // Every blob past its retention: the pruner deletes the whole store, in its bounded steps.
    const later = Date.now() + DEFAULT_RETENTION_MS + DAY_MS
    store = await ShardStore.open(dir, { backgroundPrune: false, now: () => later })
    const pruneStart = performance.now()
    const pruned = await store.prune()
    const pruneMs = performance.now() - pruneStart
    const left = store.stats().bytes
    await store.close()
    if (pruned.blobs !== blobs || left !== 0) throw new Error('the benchmark store was not pruned whole')
    const extra = { logicalBytes: bytes, blobs, shards, buildMs: Math.round(buildMs) }
    return [
      row('open a 1 GiB store', median(times), 'ms', OPEN_RUNS, { higherIsBetter: false, extra }),
      row('integrity check of a 1 GiB store', mbPerSecond(bytes, check.durationMs), 'MB/s', 1, {
        higherIsBetter: true,
        extra: { durationMs: Math.round(check.durationMs) },
      }),
      row('prune a 1 GiB store whole', mbPerSecond(bytes, pruneMs), 'MB/s', 1, {
        higherIsBetter: true,
        extra: { durationMs: Math.round(pruneMs), blobs: pruned.blobs, entries: pruned.entries },
      }),
    ]
  })
}

/**
 * Sustained ingest: SUSTAINED_BLOBS stores of one node's share, `inFlight` at a time, on a fresh store, as when
 * several sequencers disperse at once. Includes LevelDB's memtable flushes, which a single put does not pay.
 */
async function sustainedWriteRows(fixture: Fixture): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  for (const inFlight of [1, SUSTAINED_IN_FLIGHT]) {
    const ms = await withTempDir(async (dir) => {
      const store = await ShardStore.open(dir, { backgroundPrune: false })
      let next = 0
      const start = performance.now()
      const worker = async () => {
        while (next < SUSTAINED_BLOBS) {
          await store.putBlob(headerFor(fixture, next++), fixture.share, { attestation: SUSTAINED_ATTESTATION })
        }
      }
      await Promise.all(Array.from({ length: inFlight }, worker))
      const elapsed = performance.now() - start
      await store.close()
      return elapsed
    })
    const name = `sustained sync puts, ${inFlight} at a time (${SUSTAINED_BLOBS} shares of 16 MiB blobs)`
    rows.push(
      row(name, mbPerSecond(SUSTAINED_BLOBS * fixture.shareBytes, ms), 'MB/s', 1, {
        higherIsBetter: true,
        extra: { inFlight, totalMs: Math.round(ms) },
      }),
    )
  }
  return rows
}

/**
 * Long ingest: one member's shares (the 3 KiB shape) stored 4 at a time until the store holds LONG_INGEST_BYTES, as
 * a node that has been up for a while sees it. Once LevelDB holds several levels, its compactions (rewriting tables
 * into the level below) are the larger part of a store's CPU, and how often they rewrite a byte depends on the key
 * order (STORAGE.md, "Buckets and keys"). CPU is the whole process's (LevelDB's threads included), per GiB stored;
 * write amplification is what the process wrote to disk (`/proc/self/io`) over the logical bytes, through close.
 */
async function longIngestRows(fixture: Fixture): Promise<BenchRow[]> {
  return withTempDir(async (dir) => {
    const store = await ShardStore.open(dir, { backgroundPrune: false })
    const written0 = diskWrites()
    const cpu0 = ownCpuSeconds()
    const start = performance.now()
    let epoch = 0
    const worker = async () => {
      while (store.stats().bytes < LONG_INGEST_BYTES) {
        await store.putBlob(headerFor(fixture, epoch++), fixture.share, { attestation: SUSTAINED_ATTESTATION })
      }
    }
    await Promise.all(Array.from({ length: SUSTAINED_IN_FLIGHT }, worker))
    const ms = performance.now() - start
    const { bytes } = store.stats()
    await store.close()
    const cpuSeconds = ownCpuSeconds() - cpu0
    const written = diskWrites()
    const gib = bytes / (1024 * MiB)
    const extra = { logicalBytes: bytes, blobs: epoch, ms: Math.round(ms) }
    const name = `long ingest to ${Math.round(gib)} GiB (${fixture.share.length} x 3 KiB shards a blob)`
    const rows = [
      row(name, mbPerSecond(bytes, ms), 'MB/s', 1, { higherIsBetter: true, extra }),
      row(`${name}: CPU per GiB stored`, cpuSeconds / gib, 'CPU-s', 1, { higherIsBetter: false, extra }),
    ]
    if (written !== undefined && written0 !== undefined) {
      rows.push(row(`${name}: bytes written to disk / logical`, (written - written0) / bytes, 'x', 1, { extra }))
    }
    return rows
  })
}

/** Bytes this process has caused to be written to storage (Linux), or undefined where /proc does not say. */
function diskWrites(): number | undefined {
  try {
    const match = /write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

export const storageBench: BenchSuite = async () => {
  const fixture = makeFixture()
  const large = await writeRows(fixture, `one node's share of a 16 MiB blob (${fixture.share.length} x 64 KiB shards)`)
  const rows = [...large.rows]
  const small = smallShardFixture()
  const smallWrite = await writeRows(
    small,
    `one of 16 members' share of a 16 MiB blob (${small.share.length} x 3 KiB shards)`,
  )
  rows.push(...smallWrite.rows)
  await rm(smallWrite.store, { recursive: true, force: true })
  // Reads on a settled store: reopened, so no memtable flush from the writes above competes for the two cores
  // (right after a write burst, p50 is ~30 µs higher here until LevelDB's background compaction is done).
  const readStore = await ShardStore.open(join(large.store, 'store'), { backgroundPrune: false })
  const readRows = await readLatencyRows(readStore, fixture, large.epoch)
  await readStore.close()
  // The default reads recent blobs (all of these) synchronously; this is the thread-pool path older blobs take.
  const asyncStore = await ShardStore.open(join(large.store, 'store'), { backgroundPrune: false, syncReads: false })
  const asyncRows = await readLatencyRows(asyncStore, fixture, large.epoch)
  await asyncStore.close()
  await rm(large.store, { recursive: true, force: true })
  readRows.push(...asyncRows.map((r) => ({ ...r, impl: 'dacnet-asyncReads', goal: undefined })))
  rows.push(...(await sustainedWriteRows(fixture)))
  rows.push(...(await longIngestRows(small)))
  return [...rows, ...readRows, ...(await smallShardReadRows()), ...(await largeStoreRows(fixture))]
}

if (import.meta.main) {
  for (const r of await storageBench()) process.stdout.write(`${JSON.stringify(r)}\n`)
}
