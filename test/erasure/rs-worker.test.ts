/** The codec loads (synchronously) and gives the same output inside a worker thread. */
import { Worker } from 'node:worker_threads'
import { expect, it } from 'vitest'
import { rsEncode } from '../../src/erasure/rs/index.ts'
import { firstDifference, Rng } from './rs-helpers/random.ts'

it('encodes in a worker thread exactly as in the main thread', async () => {
  const rng = new Rng(42)
  const original = Array.from({ length: 10 }, () => rng.bytes(256))
  const worker = new Worker(new URL('./rs-helpers/encode-worker.ts', import.meta.url))
  try {
    const reply = new Promise<Uint8Array[]>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    worker.postMessage({ original, recoveryCount: 7 })
    expect(firstDifference(await reply, rsEncode(original, 7))).toBe(-1)
  } finally {
    await worker.terminate()
  }
})
