import { describe, expect, it } from 'vitest'
import { GroupCommitter, MAX_GROUP_BYTES } from '../../src/storage/committer.ts'
import type { BatchOp } from '../../src/storage/db.ts'
import { ShardStore, StorageErrorCode } from '../../src/storage/index.ts'
import { emptyUsage, type Usage } from '../../src/storage/usage.ts'
import { makeBlob, pick, range } from './fixtures/blobs.ts'
import { tempDir } from './fixtures/temp.ts'

/**
 * A committer over recording batches whose writes the test completes, one write at a time. An op with key 0xee
 * cannot be added (as LevelDB's batch refuses an op once the database is closed).
 */
function recorder() {
  const writes: { ops: BatchOp[]; finish: (err?: Error) => void }[] = []
  const closed: BatchOp[][] = []
  const committer = new GroupCommitter(
    () => {
      const ops: BatchOp[] = []
      return {
        add: (op) => {
          if (keyOf(op)[0] === 0xee) throw new Error('op refused')
          ops.push(op)
        },
        write: () =>
          new Promise<void>((resolve, reject) => {
            writes.push({ ops, finish: (err) => (err ? reject(err) : resolve()) })
          }),
        close: async () => {
          closed.push(ops)
        },
      }
    },
    (usage: Usage) => ({ type: 'put', key: Uint8Array.of(0xff), value: Uint8Array.of(usage.blobs, usage.bytes) }),
    emptyUsage(),
  )
  return { committer, writes, closed }
}

const put = (tag: number, size = 1): BatchOp => ({ type: 'put', key: Uint8Array.of(tag), value: new Uint8Array(size) })
const keyOf = (op: BatchOp) => (op.type === 'putShards' ? op.keyPrefix : op.key)
const tags = (ops: BatchOp[]) => ops.map((op) => keyOf(op)[0])
const flush = () => new Promise((resolve) => setImmediate(resolve))

describe('GroupCommitter (group commit of planned batches)', () => {
  it('writes batches submitted during a write as one group after it, each with the running counters', async () => {
    const { committer, writes } = recorder()
    const settled: string[] = []
    const a = committer.submit([put(1)], { blobs: 1, bytes: 10 }, 'a').then(() => settled.push('a'))
    const b = committer.submit([put(2), put(3)], { blobs: 1, bytes: 20 }, 'b').then(() => settled.push('b'))
    const c = committer.submit([put(4)], { blobs: 1, bytes: 30 }, 'c').then(() => settled.push('c'))
    await flush()
    expect(writes).toHaveLength(1)
    expect(tags(writes[0]!.ops)).toEqual([1, 0xff])
    expect(writes[0]!.ops.at(-1)).toMatchObject({ value: Uint8Array.of(1, 10) })
    expect([committer.holds('a'), committer.holds('b'), committer.holds('z')]).toEqual([true, true, false])
    expect([committer.pending, committer.pendingGrowth]).toEqual([3, 60])

    writes[0]!.finish()
    await a
    await flush()
    expect(settled).toEqual(['a'])
    expect(committer.usage).toMatchObject({ blobs: 1, bytes: 10 })
    expect(writes).toHaveLength(2)
    expect(tags(writes[1]!.ops)).toEqual([2, 3, 4, 0xff])
    expect(writes[1]!.ops.at(-1)).toMatchObject({ value: Uint8Array.of(3, 60) })

    let idle = false
    const idled = committer.idle().then(() => {
      idle = true
    })
    await flush()
    expect(idle).toBe(false)
    writes[1]!.finish()
    await Promise.all([b, c, idled])
    expect(settled).toEqual(['a', 'b', 'c'])
    expect(committer.usage).toMatchObject({ blobs: 3, bytes: 60 })
    expect([committer.pending, committer.holds('b')]).toEqual([0, false])
  })

  it('commits a batch filled beforehand in its turn, starting a group that later batches join, not another filled one', async () => {
    const { committer, writes } = recorder()
    const filled = (tag: number) => {
      const ops: BatchOp[] = [put(tag)]
      const closed = { value: false }
      const batch = {
        add: (op: BatchOp) => {
          ops.push(op)
        },
        write: () => new Promise<void>((resolve) => writes.push({ ops, finish: () => resolve() })),
        close: async () => {
          closed.value = true
        },
      }
      return { batch, closed }
    }
    const first = filled(7)
    const second = filled(8)
    const settled: string[] = []
    const a = committer.submit([put(1)], { blobs: 1, bytes: 10 }, 'a').then(() => settled.push('a'))
    const b = committer.submit([put(2)], { blobs: 1, bytes: 20 }, 'b', undefined, first.batch)
    const c = committer.submit([put(3)], { blobs: 1, bytes: 30 }, 'c')
    const d = committer.submit([put(4)], { blobs: 1, bytes: 40 }, 'd', undefined, second.batch)
    const e = committer.submit([put(5)], { blobs: 1, bytes: 50 }, 'e')
    for (const [name, done] of [
      ['b', b],
      ['c', c],
      ['d', d],
      ['e', e],
    ] as const)
      void done.then(() => settled.push(name))
    await flush()
    expect(tags(writes[0]!.ops)).toEqual([1, 0xff])
    writes[0]!.finish()
    await a
    await flush()
    // The filled batch, its shards first, then its ops, the batch submitted after it, and the counters as of both.
    expect(tags(writes[1]!.ops)).toEqual([7, 2, 3, 0xff])
    expect(writes[1]!.ops.at(-1)).toMatchObject({ value: Uint8Array.of(3, 60) })
    expect(committer.holds('d')).toBe(true)
    writes[1]!.finish()
    await Promise.all([b, c])
    await flush()
    // The second filled batch could not join the first's group: it went next, with the batch after it.
    expect(tags(writes[2]!.ops)).toEqual([8, 4, 5, 0xff])
    writes[2]!.finish()
    await Promise.all([d, e])
    await flush()
    expect(settled).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(committer.usage).toMatchObject({ blobs: 5, bytes: 150 })

    // A filled batch refused by its check before it is queued is dropped by the committer.
    const refused = filled(9)
    expect(() =>
      committer.submit(
        [put(6)],
        { blobs: 1 },
        'f',
        () => {
          throw new Error('no')
        },
        refused.batch,
      ),
    ).toThrow('no')
    await flush()
    expect(refused.closed.value).toBe(true)
    expect(writes).toHaveLength(3)
  })

  it('rejects every batch of a failed group, keeps the counters, and goes on with the next', async () => {
    const { committer, writes } = recorder()
    const first = committer.submit([put(1)], { blobs: 1, bytes: 5 })
    const failing = [committer.submit([put(2)], { blobs: 1, bytes: 7 }), committer.submit([put(3)], { bytes: -9 })]
    await flush()
    // Space a batch frees is not counted before it is on disk: that batch may still fail.
    expect(committer.pendingGrowth).toBe(5 + 7)
    writes[0]!.finish()
    await first
    await flush()
    writes[1]!.finish(new Error('disk full'))
    for (const p of failing) await expect(p).rejects.toThrow('disk full')
    expect(committer.usage).toMatchObject({ blobs: 1, bytes: 5 })
    const next = committer.submit([put(4)], { blobs: 1, bytes: 1 })
    await flush()
    expect(writes[2]!.ops.at(-1)).toMatchObject({ value: Uint8Array.of(2, 6) })
    writes[2]!.finish()
    await next
    expect(committer.usage).toMatchObject({ blobs: 2, bytes: 6 })
  })

  it('runs a batch check as it is submitted: one that throws queues nothing, the others go on', async () => {
    const { committer, writes } = recorder()
    const checked: number[] = []
    const first = committer.submit([put(1)], { blobs: 1 }, 'a', () => checked.push(1))
    expect(checked).toEqual([1])
    expect(() =>
      committer.submit([put(2)], { blobs: 1 }, 'b', () => {
        throw new Error('bad proof')
      }),
    ).toThrow('bad proof')
    const third = committer.submit([put(3)], { blobs: 1 }, 'c')
    expect([committer.pending, committer.holds('b')]).toEqual([2, false])
    await flush()
    writes[0]!.finish()
    await first
    await flush()
    writes[1]!.finish()
    await third
    expect(writes.map((w) => tags(w.ops))).toEqual([
      [1, 0xff],
      [3, 0xff],
    ])
    expect(committer.usage).toMatchObject({ blobs: 2 })
  })

  it('fails the whole group when an op cannot go into its batch, drops that batch, and goes on', async () => {
    const { committer, writes, closed } = recorder()
    const first = committer.submit([put(1)], { blobs: 1 })
    await flush()
    // The next group: a batch whose second op is refused leaves it incomplete, so no batch of it is written.
    const group = [
      committer.submit([put(2)], { blobs: 1 }),
      committer.submit([put(3), put(0xee), put(4)], { blobs: 1 }),
      committer.submit([put(5)], { blobs: 1 }),
    ]
    writes[0]!.finish()
    await first
    for (const p of group) await expect(p).rejects.toThrow('op refused')
    expect(closed.map(tags)).toEqual([[2, 3]])
    expect(committer.usage).toMatchObject({ blobs: 1 })
    const next = committer.submit([put(6)], { blobs: 1 })
    await flush()
    expect(tags(writes.at(-1)!.ops)).toEqual([6, 0xff])
    writes.at(-1)!.finish()
    await next
    expect([writes.length, committer.usage.blobs]).toEqual([2, 2])
  })

  it('starts a new group rather than pass the group size limit, and never splits a batch', async () => {
    const { committer, writes } = recorder()
    // Only value lengths count toward the limit: stand-ins with a length, not hundreds of MiB.
    const sized = (tag: number, length: number): BatchOp => ({
      type: 'put',
      key: Uint8Array.of(tag),
      value: { length } as Uint8Array,
    })
    const half = MAX_GROUP_BYTES / 2
    const all = [
      committer.submit([sized(1, 1)], {}),
      committer.submit([sized(2, half), sized(3, half)], {}),
      committer.submit([sized(4, 1)], {}),
      committer.submit([sized(5, 2 * MAX_GROUP_BYTES)], {}),
      committer.submit([sized(6, 1)], {}),
    ]
    for (let i = 0; i < 5 && writes.length > i; i++) {
      await flush()
      writes[i]!.finish()
      await flush()
    }
    await Promise.all(all)
    expect(writes.map((w) => tags(w.ops))).toEqual([
      [1, 0xff],
      [2, 3, 0xff],
      [4, 0xff],
      [5, 0xff],
      [6, 0xff],
    ])
  })
})

describe('group commit in the store', () => {
  it('stores concurrent puts of one blob with different shard sets as their union, counted once', async () => {
    const { dir, cleanup } = await tempDir()
    const store = await ShardStore.open(dir, { backgroundPrune: false })
    try {
      const blob = makeBlob({ k: 4, n: 12 })
      const other = makeBlob({ k: 4, n: 12 })
      const results = await Promise.all([
        store.putBlob(other.headerBytes, pick(other, [0, 1])),
        store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2])),
        store.putBlob(blob.headerBytes, pick(blob, [2, 3, 4])),
        store.putBlob(blob.headerBytes, pick(blob, [0, 1, 2])),
      ])
      expect(results.map((r) => r.added)).toEqual([2, 3, 2, 0])
      expect((await store.getAllShards(blob.blobId)).map((s) => s.index)).toEqual(range(0, 5))
      expect(store.stats()).toMatchObject({ blobs: 2, shards: 7 })
      const report = await store.check()
      expect([report.ok, report.usage.consistent]).toEqual([true, true])
    } finally {
      await store.close()
      await cleanup()
    }
  })

  it('closes with batches in flight: every put either lands whole or fails with STORAGE_CLOSED', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      let store = await ShardStore.open(dir, { backgroundPrune: false })
      const blobs = range(0, 24).map(() => makeBlob({ k: 4, n: 8, dataSize: 64 * 1024 }))
      const puts = blobs.map((b) =>
        store.putBlob(b.headerBytes, b.shards).then(
          () => 'stored',
          (err: { code?: string }) => err.code,
        ),
      )
      // Close as soon as the first is on disk: the others are queued, being planned, or in a group being written.
      expect(await puts[0]).toBe('stored')
      await store.close()
      const outcomes = await Promise.all(puts)
      expect(
        outcomes.every((o) => o === 'stored' || o === StorageErrorCode.CLOSED),
        outcomes.join(),
      ).toBe(true)
      store = await ShardStore.open(dir, { backgroundPrune: false })
      try {
        for (const [i, blob] of blobs.entries()) {
          const held = (await store.getAllShards(blob.blobId)).length
          expect(held, `blob ${i}: ${outcomes[i]}`).toBe(outcomes[i] === 'stored' ? 8 : 0)
        }
        const report = await store.check()
        expect([report.ok, report.usage.consistent, report.blobs]).toEqual([
          true,
          true,
          outcomes.filter((o) => o === 'stored').length,
        ])
      } finally {
        await store.close()
      }
    } finally {
      await cleanup()
    }
  })

  it('refuses writes past maxPendingWrites with STORAGE_BUSY, and takes them again once the queue drains', async () => {
    const { dir, cleanup } = await tempDir()
    const store = await ShardStore.open(dir, { backgroundPrune: false, maxPendingWrites: 4 })
    try {
      const blobs = range(0, 10).map(() => makeBlob({ k: 4, n: 8 }))
      const settled = Promise.allSettled(blobs.map((b) => store.putBlob(b.headerBytes, b.shards)))
      // Upkeep is not refused with the queue full: a prune step queued now runs after the stores ahead of it.
      expect(store.stats().pendingWrites).toBe(4)
      await expect(store.prune()).resolves.toMatchObject({ blobs: 0 })
      const outcomes = await settled
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(4)
      for (const o of outcomes.filter((o) => o.status === 'rejected')) {
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: StorageErrorCode.BUSY })
      }
      expect(store.stats().pendingWrites).toBe(0)
      // Nothing of a refused store was written; storing it now works.
      const refused = blobs.filter((_, i) => outcomes[i]!.status === 'rejected')
      expect(await store.hasBlob(refused[0]!.blobId)).toBe(false)
      expect(await store.putBlob(refused[0]!.headerBytes, refused[0]!.shards)).toMatchObject({ stored: true })
      expect(store.stats().blobs).toBe(5)
    } finally {
      await store.close()
      await cleanup()
    }
  })

  it('counts batches still being written against the quota: of concurrent puts, only those that fit land', async () => {
    const { dir, cleanup } = await tempDir()
    const blobs = range(0, 6).map(() => makeBlob({ k: 4, n: 8, dataSize: 4096 }))
    // Each store is four 1 KiB shards plus proofs, keys and the record: about 4.6 KB. Room for three.
    let store = await ShardStore.open(dir, { backgroundPrune: false })
    await store.putBlob(blobs[0]!.headerBytes, pick(blobs[0]!, range(0, 4)))
    const perBlob = store.stats().bytes
    await store.close()
    store = await ShardStore.open(dir, { backgroundPrune: false, quotaBytes: 3 * perBlob + perBlob / 2 })
    try {
      const outcomes = await Promise.allSettled(
        blobs.slice(1).map((b) => store.putBlob(b.headerBytes, pick(b, range(0, 4)))),
      )
      const refused = outcomes.filter((o) => o.status === 'rejected')
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2)
      expect(refused).toHaveLength(3)
      for (const r of refused)
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: StorageErrorCode.QUOTA_EXCEEDED })
      expect(store.stats()).toMatchObject({ blobs: 3, bytes: 3 * perBlob })
      expect((await store.check()).usage.consistent).toBe(true)
    } finally {
      await store.close()
      await cleanup()
    }
  })
})
