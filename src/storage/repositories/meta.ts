import { Bucket } from '../buckets.ts'
import { readU64, viewOf, writeU64 } from '../codec.ts'
import type { BatchOp, RawDb } from '../db.ts'
import type { Usage } from '../usage.ts'
import { type ReadOptions, Repository } from './repository.ts'

/** Meta keys: `0x00 || id`. Like buckets, a retired id is never reused. */
export const MetaKey = {
  /** u32 schema version of the whole key and value layout. */
  schemaVersion: 0x01,
  /** Usage counters: bytes, blobs, shards, quarantined, corruptDetected, each u64. */
  usage: 0x02,
} as const

const USAGE_FIELDS = ['bytes', 'blobs', 'shards', 'quarantined', 'corruptDetected'] as const
const USAGE_SIZE = USAGE_FIELDS.length * 8

/** Store-wide facts. Undecodable meta means the directory is not (or no longer) a usable store. */
export class MetaRepository extends Repository {
  constructor(db: RawDb) {
    super(db, Bucket.meta)
  }

  key(id: number): Uint8Array {
    return Uint8Array.of(Bucket.meta, id)
  }

  /** The schema version, undefined if none was written, null if the value is not a u32. */
  async schemaVersion(): Promise<number | undefined | null> {
    const value = await this.getRaw(this.key(MetaKey.schemaVersion))
    if (value === undefined) return undefined
    return value.length === 4 ? viewOf(value).getUint32(0) : null
  }

  schemaVersionOp(version: number): BatchOp {
    const value = new Uint8Array(4)
    viewOf(value).setUint32(0, version)
    return this.putOp(this.key(MetaKey.schemaVersion), value)
  }

  /** The usage counters, undefined if absent or not decodable. */
  async usage(opts?: ReadOptions): Promise<Usage | undefined> {
    const value = await this.getRaw(this.key(MetaKey.usage), opts)
    if (value === undefined || value.length !== USAGE_SIZE) return undefined
    const view = viewOf(value)
    const usage = {} as Usage
    USAGE_FIELDS.forEach((field, i) => {
      usage[field] = readU64(view, i * 8)
    })
    return usage
  }

  usageOp(usage: Usage): BatchOp {
    const value = new Uint8Array(USAGE_SIZE)
    const view = viewOf(value)
    USAGE_FIELDS.forEach((field, i) => {
      writeU64(view, i * 8, usage[field])
    })
    return this.putOp(this.key(MetaKey.usage), value)
  }
}
