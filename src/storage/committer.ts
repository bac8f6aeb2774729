import { type BatchOp, type LevelBatch, opValueBytes } from './db.ts'
import { applyDelta, emptyUsage, type Usage, type UsageDelta } from './usage.ts'

/** A group stops taking batches past this many value bytes; the next batch starts a new group. */
export const MAX_GROUP_BYTES = 64 * 1024 * 1024

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
}

interface Group {
  /** LevelDB's batch, opened by the group's first op: ops go into it as they are submitted. */
  batch: LevelBatch | undefined
  /** Ops in the batch. */
  ops: number
  /** Set when an op could not be added: the batch is incomplete, and the whole group fails with this. */
  broken: { error: unknown } | undefined
  delta: Required<UsageDelta>
  /** Sum of the positive byte deltas of its batches: what the group may add to the store (see `pendingGrowth`). */
  growth: number
  bytes: number
  blobs: Set<string>
  waiters: Waiter[]
}

/**
 * Group commit. Batches are committed in the order they were submitted, each group as one LevelDB batch written
 * with sync, with the usage counters of everything committed so far appended to it. Batches submitted while a
 * group is being written wait and then go together: several blobs cost one log write and one fsync, and the next
 * write task plans while the disk works. A blob's batch is never split across groups, so every blob is still
 * all-or-nothing, and a batch's promise resolves only once its group is on disk. A group that fails rejects all of
 * its batches and leaves the counters as they were; later groups do not depend on it (see `holds`).
 *
 * A batch's ops go into its group's LevelDB batch as it is submitted (LevelDB copies their bytes), so what waits
 * for the disk is LevelDB's batch alone and not the submitter's buffers as well.
 */
export class GroupCommitter {
  readonly #open: () => LevelBatch
  readonly #usageOp: (usage: Usage) => BatchOp
  readonly #groups: Group[] = []
  #writing: Group | undefined
  #committed: Usage
  #idleWaiters: (() => void)[] = []

  /** `open` starts an empty LevelDB batch, one a group. */
  constructor(open: () => LevelBatch, usageOp: (usage: Usage) => BatchOp, usage: Usage) {
    this.#open = open
    this.#usageOp = usageOp
    this.#committed = usage
  }

  /** Counters as of the last committed group; replaced, never mutated. */
  get usage(): Usage {
    return this.#committed
  }

  /**
   * Logical bytes that submitted batches not yet on disk may add, for the quota check. Only growth counts: a batch
   * that frees space (a smaller certificate) may still fail, so the space it frees is not lent to others meanwhile.
   */
  get pendingGrowth(): number {
    let bytes = 0
    for (const group of this.#inFlight()) bytes += group.growth
    return bytes
  }

  /** Batches submitted and not yet on disk. */
  get pending(): number {
    let count = 0
    for (const group of this.#inFlight()) count += group.waiters.length
    return count
  }

  /** Whether a batch for this blob (latin1 key) is submitted and not yet on disk: its writes are not visible yet. */
  holds(blobKey: string): boolean {
    for (const group of this.#inFlight()) if (group.blobs.has(blobKey)) return true
    return false
  }

  /**
   * Queues `ops` with their usage delta; resolves once they are on disk. `check`, given, runs first, synchronously
   * with the ops' going into LevelDB's batch, so that what it checked is exactly what is written; when it throws,
   * nothing is queued and submit throws.
   *
   * `into`, given, is a LevelDB batch the caller filled before (a blob intake's shards, put as they arrived): it
   * starts a group, in its turn, with `ops` added to it. Batches submitted after it may join that group as usual;
   * another filled batch cannot (LevelDB's batches do not merge), so two intakes committed at once cost two
   * fsyncs. Its bytes already in it are not counted against MAX_GROUP_BYTES.
   */
  submit(ops: BatchOp[], delta: UsageDelta, blobKey?: string, check?: () => void, into?: LevelBatch): Promise<void> {
    try {
      check?.()
    } catch (err) {
      // Refused before it was queued: a batch handed over is this committer's to drop.
      void into?.close().catch(() => undefined)
      throw err
    }
    let bytes = 0
    for (const op of ops) bytes += opValueBytes(op)
    let group = this.#groups.at(-1)
    if (into !== undefined || group === undefined || (group.ops > 0 && group.bytes + bytes > MAX_GROUP_BYTES)) {
      group = {
        batch: into,
        ops: 0,
        broken: undefined,
        delta: emptyUsage(),
        growth: 0,
        bytes: 0,
        blobs: new Set(),
        waiters: [],
      }
      this.#groups.push(group)
    }
    if (group.broken === undefined) {
      try {
        group.batch ??= this.#open()
        for (const op of ops) group.batch.add(op)
      } catch (error) {
        group.broken = { error }
      }
    }
    group.ops += ops.length
    group.bytes += bytes
    group.growth += Math.max(0, delta.bytes ?? 0)
    for (const field of Object.keys(group.delta) as (keyof Usage)[]) group.delta[field] += delta[field] ?? 0
    if (blobKey !== undefined) group.blobs.add(blobKey)
    const done = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }))
    if (this.#writing === undefined) void this.#pump()
    return done
  }

  /**
   * Resolves once nothing is submitted and not yet on disk (or failed). Every submit comes from a write-queue task,
   * and a task that waits here holds the queue, so nothing new is submitted meanwhile and this always resolves.
   */
  idle(): Promise<void> {
    if (this.#writing === undefined && this.#groups.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  async #pump(): Promise<void> {
    for (let group = this.#groups.shift(); group !== undefined; group = this.#groups.shift()) {
      this.#writing = group
      const usage = applyDelta(this.#committed, group.delta)
      try {
        if (group.broken !== undefined) {
          // Dropped unwritten; what failed is what the group's batches learn, not how the drop went.
          await group.batch?.close().catch(() => undefined)
          throw group.broken.error
        }
        const batch = group.batch ?? this.#open()
        batch.add(this.#usageOp(usage))
        await batch.write({ sync: true })
        this.#committed = usage
        for (const waiter of group.waiters) waiter.resolve()
      } catch (err) {
        for (const waiter of group.waiters) waiter.reject(err)
      }
    }
    this.#writing = undefined
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  *#inFlight(): Generator<Group> {
    if (this.#writing !== undefined) yield this.#writing
    yield* this.#groups
  }
}
