import { BLOB_ID_SIZE } from '../erasure/blob-id.ts'
import {
  BLOB_KEY_SIZE,
  BUCKET_SIZE,
  Bucket,
  bucketRange,
  INDEX_SIZE,
  type KeyRange,
  LAST_BUCKET,
  SHARD_BY_EXPIRY_KEY_SIZE,
  SHARD_KEY_SIZE,
  TIME_SIZE,
} from './buckets.ts'
import type { CheckOptions, IncompleteBlob, IntegrityReport, ReportList } from './check-report.ts'
import { blobIdKey, readU64, viewOf } from './codec.ts'
import type { StoreCore } from './core.ts'
import { type CorruptEntry, CorruptValue } from './corruption.ts'
import type { Snapshot } from './db.ts'
import { Peekable } from './peekable.ts'
import { blobIdString, describe, type QuarantineTarget, quarantine } from './quarantine.ts'
import { type BlobRecord, BlobState, rawRecordState } from './repositories/blobs.ts'
import { shardPlace } from './repositories/shards.ts'
import { STORAGE_SCHEMA_VERSION } from './schema.ts'

/** Default length of each list in the report; counts are complete regardless. */
export const DEFAULT_MAX_LISTED = 100

type Entry = [Uint8Array, Uint8Array]

/** Bucket, expiresAt and blob id: the prefix all shard keys of one schema-2 blob share. */
const SHARD_BY_EXPIRY_PREFIX_SIZE = SHARD_BY_EXPIRY_KEY_SIZE - INDEX_SIZE

/**
 * Reads every entry of the store from one snapshot, re-verifies every header hash and shard proof, and checks
 * the cross-entry invariants: an attestation implies all shards present, every stored blob is complete and
 * indexed for expiry, and the usage counters equal what the data adds up to. Constant memory: blob records are
 * walked in blob-id order, each blob's schema-2 shards read as its one range (expiry, blob id), schema-1 shards
 * merged in (they sort by blob id too), and a last pass over the schema-2 keys finds the shards no record
 * claims; only quarantine records (a handful) are held in memory.
 */
export async function checkStore(core: StoreCore, opts: CheckOptions = {}): Promise<IntegrityReport> {
  core.assertOpen()
  const snapshot = core.db.snapshot()
  try {
    return await new Checker(core, snapshot, opts).run()
  } finally {
    await snapshot.close()
  }
}

class Checker {
  readonly core: StoreCore
  readonly snapshot: Snapshot
  readonly quarantineFound: boolean
  readonly maxListed: number
  readonly startedAt = performance.now()
  readonly now: number
  readonly report: IntegrityReport
  /** Blob id key -> earlier quarantine records of that blob. */
  readonly quarantinedBy = new Map<string, { record: boolean; shards: number }>()
  scannedBytes = 0
  scannedBlobs = 0
  scannedShards = 0

  constructor(core: StoreCore, snapshot: Snapshot, opts: CheckOptions) {
    this.core = core
    this.snapshot = snapshot
    this.quarantineFound = opts.quarantine ?? false
    this.maxListed = opts.maxListed ?? DEFAULT_MAX_LISTED
    this.now = core.opts.now()
    const list = <T>(): ReportList<T> => ({ count: 0, items: [] })
    this.report = {
      ok: false,
      complete: true,
      schemaVersion: STORAGE_SCHEMA_VERSION,
      checkedAt: this.now,
      durationMs: 0,
      blobs: 0,
      pruningBlobs: 0,
      expiredBlobs: 0,
      shards: 0,
      attestations: 0,
      certificates: 0,
      corrupt: list(),
      quarantinedNow: 0,
      quarantined: 0,
      attestedMissingShards: list(),
      incompleteBlobs: list(),
      orphanShards: 0,
      schemaOneShards: 0,
      missingExpiry: 0,
      unknownEntries: 0,
      usage: {
        recorded: core.usage,
        scanned: { bytes: 0, blobs: 0, shards: 0, quarantined: 0 },
        consistent: false,
      },
    }
  }

  async run(): Promise<IntegrityReport> {
    const { report } = this
    report.usage.recorded = (await this.core.repos.meta.usage({ snapshot: this.snapshot })) ?? report.usage.recorded
    try {
      await this.scanQuarantine()
      await this.scanBlobsAndShards()
      await this.scanAttestations()
      report.certificates = await this.countBucket(Bucket.certificate)
      await this.countBucket(Bucket.expiry)
      // Entries past the last bucket were not written by this schema; they are reported but not accounted.
      report.unknownEntries += await this.countRange({ gte: Uint8Array.of(LAST_BUCKET + 1) }, false)
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      report.complete = false
      this.addCorrupt({ bucket: 'unknown', blobId: '', reason: err.reason, detail: err.message })
    }
    const { scanned, recorded } = report.usage
    Object.assign(scanned, {
      bytes: this.scannedBytes,
      blobs: this.scannedBlobs,
      shards: this.scannedShards,
      quarantined: report.quarantined,
    })
    report.usage.consistent =
      scanned.bytes === recorded.bytes &&
      scanned.blobs === recorded.blobs &&
      scanned.shards === recorded.shards &&
      scanned.quarantined === recorded.quarantined
    report.ok =
      report.complete &&
      report.corrupt.count === 0 &&
      report.attestedMissingShards.count === 0 &&
      report.incompleteBlobs.count === 0 &&
      report.missingExpiry === 0 &&
      report.usage.consistent
    report.durationMs = performance.now() - this.startedAt
    return report
  }

  async scanQuarantine(): Promise<void> {
    const { quarantine: repo } = this.core.repos
    for await (const [key, value] of repo.entries(bucketRange(Bucket.quarantine), { snapshot: this.snapshot })) {
      this.scannedBytes += key.length + value.length
      this.report.quarantined++
      const original = repo.originalKeyOf(key)
      const idAt = original[0] === Bucket.shardByExpiry ? BUCKET_SIZE + TIME_SIZE : BUCKET_SIZE
      if (original.length < idAt + BLOB_ID_SIZE) continue
      const id = blobIdKey(original.subarray(idAt, idAt + BLOB_ID_SIZE))
      const entry = this.quarantinedBy.get(id) ?? { record: false, shards: 0 }
      if (original[0] === Bucket.blob) entry.record = true
      else entry.shards++
      this.quarantinedBy.set(id, entry)
    }
  }

  async scanBlobsAndShards(): Promise<void> {
    const { blobs } = this.core.repos
    const opts = { snapshot: this.snapshot }
    const shardEntries = new Peekable(this.core.repos.shards.entries(bucketRange(Bucket.shard), opts))
    try {
      for await (const [key, value] of blobs.entries(bucketRange(Bucket.blob), opts)) {
        this.scannedBytes += key.length + value.length
        if (key.length !== BLOB_KEY_SIZE) {
          this.report.unknownEntries++
          continue
        }
        const id = key.subarray(1)
        if (rawRecordState(value) !== BlobState.pruning) this.scannedBlobs++
        const record = await this.decodeRecord(key, id, value)
        // Shards of blob ids before this one have no record: orphans.
        for await (const e of shardEntries.takeWhile((e) => Buffer.compare(shardBlobId(e), id) < 0)) this.countOrphan(e)
        let present = 0
        for await (const e of shardEntries.takeWhile((e) => Buffer.compare(shardBlobId(e), id) === 0)) {
          // A blob stored under schema 2 has none here: these are a quarantined schema-1 record's leftovers.
          if (record === undefined || record.shardsByExpiry) {
            this.countOrphan(e)
            continue
          }
          this.countShard(e)
          present++
          await this.verifyShard(id, record, e)
        }
        if (record?.shardsByExpiry) present = await this.scanShardsByExpiry(id, record)
        if (record !== undefined) await this.checkBlob(id, record, present)
      }
      for await (const e of shardEntries.takeWhile(() => true)) this.countOrphan(e)
    } finally {
      await shardEntries.close()
    }
    await this.scanUnclaimedByExpiry()
  }

  /** Counts and verifies a schema-2 blob's shards (one range under its expiry); returns how many there are. */
  async scanShardsByExpiry(id: Uint8Array, record: BlobRecord): Promise<number> {
    const { shards } = this.core.repos
    let present = 0
    for await (const e of shards.entries(shards.rangeOf(shardPlace(id, record)), { snapshot: this.snapshot })) {
      this.countShard(e)
      present++
      await this.verifyShard(id, record, e)
    }
    return present
  }

  /**
   * Shards keyed by expiry that no record claims: a quarantined record's leftovers (kept until their expiry), or
   * entries no blob names. A blob's shards share one key prefix (expiry, blob id), so each run of keys costs one
   * record lookup; only unclaimed entries have their values read, for their size.
   */
  async scanUnclaimedByExpiry(): Promise<void> {
    const { shards } = this.core.repos
    const opts = { snapshot: this.snapshot }
    let run: Uint8Array | undefined
    let claimed = false
    // From just past the fence, which is no entry (and not counted in usage).
    const range = { ...bucketRange(Bucket.shardByExpiry), gte: Uint8Array.of(Bucket.shardByExpiry, 0) }
    for await (const key of shards.keys(range, opts)) {
      const prefix = key.length > SHARD_BY_EXPIRY_PREFIX_SIZE ? key.subarray(0, SHARD_BY_EXPIRY_PREFIX_SIZE) : key
      if (run === undefined || Buffer.compare(prefix, run) !== 0) {
        run = prefix.slice()
        claimed = await this.claims(run)
      }
      if (claimed) continue
      this.countOrphan([key, (await shards.getRaw(key, opts)) ?? new Uint8Array(0)])
    }
  }

  /** Whether `prefix` (bucket, expiresAt, blob id) is the shard range of a record that decodes. */
  async claims(prefix: Uint8Array): Promise<boolean> {
    if (prefix.length !== SHARD_BY_EXPIRY_PREFIX_SIZE) return false
    const { blobs } = this.core.repos
    const id = prefix.subarray(BUCKET_SIZE + TIME_SIZE)
    try {
      const value = await blobs.getRaw(blobs.key(id), { snapshot: this.snapshot })
      if (value === undefined) return false
      const record = blobs.decode(id, value)
      return record.shardsByExpiry && record.expiresAt === readU64(viewOf(prefix), BUCKET_SIZE)
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      return false
    }
  }

  async decodeRecord(key: Uint8Array, id: Uint8Array, value: Uint8Array): Promise<BlobRecord | undefined> {
    try {
      return this.core.repos.blobs.decode(id, value)
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      await this.corruptFound({ key, blobId: id, reason: err.reason, detail: err.message, badValue: value })
      return undefined
    }
  }

  async verifyShard(id: Uint8Array, record: BlobRecord, [key, value]: Entry): Promise<void> {
    const { shards } = this.core.repos
    const index = shards.indexOf(key)
    try {
      shards.open(value, index, record.header)
      this.report.shards++
    } catch (err) {
      if (!(err instanceof CorruptValue)) throw err
      await this.corruptFound({
        key,
        blobId: id,
        index,
        reason: err.reason,
        detail: err.message,
        badValue: value,
        header: record.header,
      })
    }
  }

  /** Completeness and indexing of one blob whose record decoded. */
  async checkBlob(id: Uint8Array, record: BlobRecord, present: number): Promise<void> {
    const { report } = this
    if (record.state === BlobState.pruning) {
      report.pruningBlobs++
      return
    }
    report.blobs++
    if (record.expiresAt <= this.now) report.expiredBlobs++
    const opts = { snapshot: this.snapshot }
    const { expiry, attestations } = this.core.repos
    if ((await expiry.getRaw(expiry.key(record.expiresAt, id), opts)) === undefined) report.missingExpiry++
    const quarantinedShards = this.quarantinedBy.get(blobIdKey(id))?.shards ?? 0
    // Corrupt entries found now were counted in `present`; earlier ones are in quarantine.
    if (present + quarantinedShards >= record.shardCount) return
    const attested = (await attestations.get(id, opts)) !== undefined
    const blob: IncompleteBlob = {
      blobId: blobIdString(id),
      expectedShards: record.shardCount,
      presentShards: present,
      quarantinedShards,
      attested,
    }
    this.list(report.incompleteBlobs, blob)
    if (attested) this.list(report.attestedMissingShards, blob)
  }

  /** Attestations whose blob record is gone entirely (and was not quarantined) also break the invariant. */
  async scanAttestations(): Promise<void> {
    const { attestations, blobs } = this.core.repos
    const opts = { snapshot: this.snapshot }
    for await (const [key, value] of attestations.entries(bucketRange(Bucket.attestation), opts)) {
      this.scannedBytes += key.length + value.length
      this.report.attestations++
      if (key.length !== BLOB_KEY_SIZE) continue
      const id = key.subarray(1)
      if (this.quarantinedBy.get(blobIdKey(id))?.record) continue
      if ((await blobs.getRaw(blobs.key(id), opts)) !== undefined) continue
      const blob: IncompleteBlob = {
        blobId: blobIdString(id),
        expectedShards: null,
        presentShards: 0,
        quarantinedShards: 0,
        attested: true,
      }
      this.list(this.report.attestedMissingShards, blob)
    }
  }

  countShard([key, value]: Entry): void {
    this.scannedBytes += key.length + value.length
    this.scannedShards++
    if (key[0] === Bucket.shard) this.report.schemaOneShards++
    if (key.length !== (key[0] === Bucket.shard ? SHARD_KEY_SIZE : SHARD_BY_EXPIRY_KEY_SIZE))
      this.report.unknownEntries++
  }

  countOrphan(entry: Entry): void {
    this.countShard(entry)
    this.report.orphanShards++
  }

  async countBucket(bucket: Bucket): Promise<number> {
    return this.countRange(bucketRange(bucket))
  }

  async countRange(range: KeyRange, accounted = true): Promise<number> {
    let count = 0
    for await (const [key, value] of this.core.repos.meta.entries(range, { snapshot: this.snapshot })) {
      if (accounted) this.scannedBytes += key.length + value.length
      count++
    }
    return count
  }

  async corruptFound(target: QuarantineTarget): Promise<void> {
    this.addCorrupt(describe(target))
    if (!this.quarantineFound) return
    await quarantine(this.core, target)
    this.report.quarantinedNow++
  }

  addCorrupt(entry: CorruptEntry): void {
    this.list(this.report.corrupt, entry)
  }

  list<T>(listed: ReportList<T>, item: T): void {
    listed.count++
    if (listed.items.length < this.maxListed) listed.items.push(item)
  }
}

function shardBlobId([key]: Entry): Uint8Array {
  return key.subarray(1, BLOB_KEY_SIZE)
}
