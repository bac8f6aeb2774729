import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { DacnetError } from '../errors.ts'
import { blobIdOf } from './blob-id.ts'
import type { BadEncodingEvidence, BadEncodingReason, DecodeResult } from './decode.ts'
import type { EncodedBlob, EncodeParams } from './encode.ts'
import { ErasureErrorCode, erasureError } from './errors.ts'
import type { BlobHeader } from './header.ts'
import type { ShardWithProof } from './shard.ts'
import { holdsSharedView, SharedStaging } from './staging.ts'
import type { WorkerRequest, WorkerResponse } from './worker-protocol.ts'

/**
 * Leave one core to the event loop (network, storage), use up to four for erasure work: past that a single
 * node gains little, since one blob is one task.
 */
export const DEFAULT_POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1))

export interface ErasurePoolOptions {
  /** Worker threads. Default DEFAULT_POOL_SIZE. */
  size?: number
}

/**
 * Shared memory kept between decodes for their staged shards (SharedStaging): a 32 MiB blob's shards and proofs are
 * about 35 MiB, so this keeps two such at most.
 */
export const STAGING_KEEP_BYTES = 80 * 1024 * 1024

/**
 * Bytes copied per turn of the event loop when handing a blob to a worker: one 32 MiB copy in a single turn
 * can take over 100 ms on a loaded machine, 1 MiB takes a few.
 */
const COPY_CHUNK_BYTES = 1024 * 1024

/**
 * The caller's bytes in a SharedArrayBuffer, copied in chunks with a yield to the event loop between them.
 * The caller's buffer stays untouched and usable; the worker reads the shared copy without another copy.
 */
async function copyToShared(data: Uint8Array): Promise<Uint8Array> {
  if (!(data instanceof Uint8Array)) return data
  const shared = new Uint8Array(new SharedArrayBuffer(data.length))
  for (let offset = 0; offset < data.length; offset += COPY_CHUNK_BYTES) {
    if (offset > 0) await new Promise((resolve) => setImmediate(resolve))
    shared.set(data.subarray(offset, offset + COPY_CHUNK_BYTES), offset)
  }
  return shared
}

/**
 * Shards whose data and proofs live in one SharedArrayBuffer from `staging`, copied in chunks like `copyToShared`.
 * Proofs go in it too: a proof is usually a view into a received network chunk, and posting it would clone that
 * whole chunk, once per distinct chunk — for a 16 MiB blob as many bytes again as the shards themselves.
 */
async function shareShards(
  shards: Iterable<ShardWithProof>,
  staging: SharedStaging,
): Promise<{ shards: ShardWithProof[]; buffer: SharedArrayBuffer }> {
  const list = [...shards]
  let total = 0
  for (const s of list) {
    if (s.data instanceof Uint8Array) total += s.data.length
    if (s.proof instanceof Uint8Array) total += s.proof.length
  }
  const buffer = staging.acquire(total)
  const shared = new Uint8Array(buffer, 0, total)
  let offset = 0
  let sinceYield = 0
  const place = (bytes: Uint8Array): Uint8Array => {
    shared.set(bytes, offset)
    offset += bytes.length
    sinceYield += bytes.length
    return shared.subarray(offset - bytes.length, offset)
  }
  const out: ShardWithProof[] = []
  for (const s of list) {
    if (sinceYield >= COPY_CHUNK_BYTES) {
      await new Promise((resolve) => setImmediate(resolve))
      sinceYield = 0
    }
    out.push({
      index: s.index,
      data: s.data instanceof Uint8Array ? place(s.data) : s.data,
      proof: s.proof instanceof Uint8Array ? place(s.proof) : s.proof,
    })
  }
  return { shards: out, buffer }
}

type Payload = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

interface Task {
  id: number
  payload: Payload
  transfer: ArrayBuffer[]
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  task: Task | null
}

/**
 * A fixed pool of worker threads for encoding, decoding and BadEncoding checks, so that a 32 MiB blob never
 * stalls the event loop. Workers start lazily and are unref'd while idle, so an idle pool never keeps the
 * process alive; `close()` terminates them.
 */
export class ErasurePool {
  private readonly size: number
  /** Shared memory for decode inputs, reused between tasks. */
  readonly staging: SharedStaging
  private readonly slots: Slot[] = []
  private readonly queue: Task[] = []
  private nextId = 1
  private closed = false

  constructor(opts: ErasurePoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? DEFAULT_POOL_SIZE))
    this.staging = new SharedStaging({ maxKeptBytes: STAGING_KEEP_BYTES, maxKeptBuffers: this.size + 1 })
  }

  async encodeBlob(data: Uint8Array, params: EncodeParams): Promise<EncodedBlob> {
    const shared = await copyToShared(data)
    const result = (await this.submit({ op: 'encode', data: shared, params: { ...params } }, [])) as Omit<
      EncodedBlob,
      'blobId'
    >
    return { ...result, blobId: blobIdOf(result.headerBytes) }
  }

  async decodeBlob(header: BlobHeader, shards: Iterable<ShardWithProof>): Promise<DecodeResult> {
    const staged = await shareShards(shards, this.staging)
    return (await this.#withStaged(
      staged.buffer,
      this.submit({ op: 'decode', header, shards: staged.shards }, []),
    )) as DecodeResult
  }

  /**
   * decodeCheckedBlob in a worker: for shards the caller has checked with checkShards, with their leaf hashes
   * (32 bytes per shard, in the order of `shards`), so that the worker does not check them again.
   */
  async decodeCheckedBlob(
    header: BlobHeader,
    shards: readonly ShardWithProof[],
    leaves: Uint8Array,
  ): Promise<DecodeResult> {
    const staged = await shareShards(shards, this.staging)
    return (await this.#withStaged(
      staged.buffer,
      this.submit({ op: 'decodeChecked', header, shards: staged.shards, leaves }, []),
    )) as DecodeResult
  }

  async checkBadEncoding(header: BlobHeader, evidence: BadEncodingEvidence): Promise<BadEncodingReason> {
    const staged = await shareShards(evidence.shards, this.staging)
    const task = this.submit({ op: 'checkBadEncoding', header, evidence: { shards: staged.shards } }, [])
    return (await this.#withStaged(staged.buffer, task)) as BadEncodingReason
  }

  /** `task`'s outcome; its staging buffer goes back for reuse once it is done, unless the result holds a view of it. */
  async #withStaged(buffer: SharedArrayBuffer, task: Promise<unknown>): Promise<unknown> {
    let shares = false
    try {
      const result = await task
      shares = holdsSharedView(result)
      return result
    } finally {
      this.staging.release(buffer, shares)
    }
  }

  /** Rejects queued and running work with ERASURE_POOL_CLOSED and stops every worker. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const closedError = () => erasureError(ErasureErrorCode.POOL_CLOSED, 'the erasure pool was closed')
    for (const task of this.queue.splice(0)) task.reject(closedError())
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.task?.reject(closedError())
        slot.task = null
        await slot.worker.terminate()
      }),
    )
    this.slots.length = 0
  }

  private submit(payload: Payload, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.closed) return Promise.reject(erasureError(ErasureErrorCode.POOL_CLOSED, 'the erasure pool was closed'))
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, payload, transfer, resolve, reject })
      this.dispatch()
    })
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.task === null) ?? this.spawn()
      if (slot === null) return
      const task = this.queue.shift()!
      slot.task = task
      slot.worker.ref()
      slot.worker.postMessage({ ...task.payload, id: task.id }, task.transfer)
    }
  }

  private spawn(): Slot | null {
    if (this.slots.length >= this.size) return null
    const worker = new Worker(new URL('./worker.ts', import.meta.url))
    const slot: Slot = { worker, task: null }
    worker.on('message', (response: WorkerResponse) => this.settle(slot, response))
    worker.on('error', (err) => this.fail(slot, err))
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`worker exited with code ${code}`))
    })
    worker.unref()
    this.slots.push(slot)
    return slot
  }

  private settle(slot: Slot, response: WorkerResponse): void {
    const task = slot.task
    slot.task = null
    slot.worker.unref()
    if (task && task.id === response.id) {
      if (response.ok) task.resolve(response.result)
      else task.reject(DacnetError.fromObject(response.error))
    }
    this.dispatch()
  }

  /** A worker died: fail its task, drop it, and let the next dispatch start a fresh one. */
  private fail(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot)
    if (index < 0) return
    this.slots.splice(index, 1)
    slot.task?.reject(erasureError(ErasureErrorCode.WORKER_FAILED, `erasure worker failed: ${err.message}`))
    slot.task = null
    void slot.worker.terminate()
    this.dispatch()
  }
}
