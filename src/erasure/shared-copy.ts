/** Copies of a task's input into shared memory for the pool's workers, a slice per turn of the event loop. */
import type { ShardWithProof } from './shard.ts'
import type { SharedStaging } from './staging.ts'

/**
 * Bytes copied per turn of the event loop when handing a blob to a worker: one 32 MiB copy in a single turn
 * can take over 100 ms on a loaded machine, 1 MiB takes a few.
 */
export const COPY_CHUNK_BYTES = 1024 * 1024

/**
 * The caller's bytes in a SharedArrayBuffer, copied in chunks with a yield to the event loop between them.
 * The caller's buffer stays untouched and usable; the worker reads the shared copy without another copy.
 */
export async function copyToShared(data: Uint8Array): Promise<Uint8Array> {
  if (!(data instanceof Uint8Array)) return data
  const shared = new Uint8Array(new SharedArrayBuffer(data.length))
  await copyInChunks(data, shared)
  return shared
}

/** `data` copied to the start of `target`, COPY_CHUNK_BYTES a turn of the event loop. */
export async function copyInChunks(data: Uint8Array, target: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length; offset += COPY_CHUNK_BYTES) {
    if (offset > 0) await new Promise((resolve) => setImmediate(resolve))
    target.set(data.subarray(offset, offset + COPY_CHUNK_BYTES), offset)
  }
}

/**
 * Shards whose data and proofs live in one SharedArrayBuffer from `staging`, copied in chunks like `copyToShared`.
 * Proofs go in it too: a proof is usually a view into a received network chunk, and posting it would clone that
 * whole chunk, once per distinct chunk — for a 16 MiB blob as many bytes again as the shards themselves.
 */
export async function shareShards(
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

/** Each shard's data copied into `views[shard.index]`, COPY_CHUNK_BYTES a turn of the event loop. */
export async function copyShardsInto(views: readonly Uint8Array[], shards: readonly ShardWithProof[]): Promise<void> {
  let sinceYield = 0
  for (const shard of shards) {
    if (sinceYield >= COPY_CHUNK_BYTES) {
      await new Promise((resolve) => setImmediate(resolve))
      sinceYield = 0
    }
    views[shard.index]!.set(shard.data)
    sinceYield += shard.data.length
  }
}
