import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BatchOp, writeBatch } from '../../src/storage/db.ts'
import { openRaw, tempDir } from './fixtures/temp.ts'

const key = (n: number) => Uint8Array.of(9, n)

describe('writeBatch', () => {
  let cleanup: () => Promise<void>
  let db: Awaited<ReturnType<typeof openRaw>>

  beforeEach(async () => {
    const temp = await tempDir()
    cleanup = temp.cleanup
    db = await openRaw(temp.dir)
  })
  afterEach(async () => {
    await db.close()
    await cleanup()
  })

  it('writes puts and deletes together, in order', async () => {
    await writeBatch(
      db,
      [1, 2, 3].map((n) => ({ type: 'put', key: key(n), value: Uint8Array.of(n) })),
      { sync: true },
    )
    await writeBatch(
      db,
      [
        { type: 'del', key: key(1) },
        { type: 'put', key: key(2), value: Uint8Array.of(20) },
        { type: 'put', key: key(4), value: Uint8Array.of(4) },
        { type: 'del', key: key(4) },
      ],
      { sync: true },
    )
    const values = await db.getMany([1, 2, 3, 4].map(key))
    expect(values.map((v) => (v === undefined ? undefined : [...v]))).toEqual([undefined, [20], [3], undefined])
  })

  it('writes nothing of a batch with an op it cannot take', async () => {
    const ops = [
      { type: 'put', key: key(7), value: Uint8Array.of(7) },
      { type: 'put', key: undefined, value: Uint8Array.of(8) },
    ] as unknown as BatchOp[]
    await expect(writeBatch(db, ops, { sync: true })).rejects.toThrow()
    expect(await db.get(key(7))).toBeUndefined()
  })
})
