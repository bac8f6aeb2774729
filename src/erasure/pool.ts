import { availableParallelism } from 'node:os'
import { blobIdOf } from './blob-id.ts'
import {
  allParts,
  type CodewordLayout,
  columnRange,
  type DecodeVerdict,
  partRange,
  parts,
  shardViews,
} from './columns.ts'
import {
  type BadEncodingEvidence,
  type BadEncodingReason,
  checkedShards,
  chooseShards,
  type DecodeOptions,
  type DecodeResult,
  type EvidenceCheckOptions,
  uncheckedSelection,
} from './decode.ts'
import { type CommittedBlob, type EncodedBlob, type EncodeParams, validateParams } from './encode.ts'
import type { BlobHeader } from './header.ts'
import { checkBlobSize, shardSizeFor } from './layout.ts'
import { HASH_SIZE } from './merkle.ts'
import { DEFAULT_MAX_BLOB_SIZE } from './params.ts'
import type { ShardWithProof } from './shard.ts'
import { copyInChunks, copyShardsInto, copyToShared, shareShards } from './shared-copy.ts'
import { holdsSharedView, SharedStaging } from './staging.ts'
import { type Payload, WorkerThreads } from './workers.ts'

/**
 * Leave one core to the event loop (network, storage), use up to four for erasure work, and at least two: a
 * large blob's encoding (and a retriever's check of it) is split between all the workers (SPLIT_ENCODE_MIN_BYTES),
 * and the event loop mostly waits for it meanwhile. On two cores, 16 MiB at n = 16,384: encode 218 → 171 ms, a
 * retriever's decode 202 → 115 ms (p50 of seven, one worker against two, memory kept between tasks).
 */
export const DEFAULT_POOL_SIZE = Math.max(2, Math.min(4, availableParallelism() - 1))

export interface ErasurePoolOptions {
  /** Worker threads. Default DEFAULT_POOL_SIZE. */
  size?: number
}

/**
 * Shared memory kept between tasks (SharedStaging): the codewords of split encodings and checks, and the shards staged
 * for a decode. A 32 MiB blob's codeword is ~98 MiB at n = 32,768 and its staged shards ~35 MiB, so this keeps one
 * such of each; fresh, that codeword's page faults doubled its encoding (two workers, in one process: 736 → 365 ms
 * p50 kept, a retriever's check 750 → 460 ms). Kept memory is dropped after DEFAULT_STAGING_IDLE_DROP_MS unused.
 */
export const STAGING_KEEP_BYTES = 160 * 1024 * 1024

/**
 * Blobs of at least this many bytes are encoded by all the workers of a pool of two or more, each extending its
 * columns of the shards and then hashing its range of leaves (src/erasure/columns.ts). Below it one worker does
 * all: a part's messages and shared buffers cost more than the part saves.
 */
export const SPLIT_ENCODE_MIN_BYTES = 1024 * 1024

/**
 * A fixed pool of worker threads for encoding, decoding and BadEncoding checks, so that a 32 MiB blob never
 * stalls the event loop. Workers start lazily and are unref'd while idle, so an idle pool never keeps the
 * process alive; `close()` terminates them.
 */
export class ErasurePool {
  private readonly size: number
  /** Shared memory for decode inputs, reused between tasks. */
  readonly staging: SharedStaging
  readonly #workers: WorkerThreads
  /** Encodings whose shards live in memory the pool keeps once they are released. */
  readonly #lent = new WeakMap<EncodedBlob, SharedArrayBuffer>()
  /** The proofs' memory of the last released encoding, for the next one's (7 MiB for 16 MiB at n = 16,384). */
  #proofArena: ArrayBuffer | undefined

  constructor(opts: ErasurePoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? DEFAULT_POOL_SIZE))
    this.#workers = new WorkerThreads(this.size)
    this.staging = new SharedStaging({ maxKeptBytes: STAGING_KEEP_BYTES, maxKeptBuffers: this.size + 1 })
  }

  /**
   * Starts every worker now rather than on first use (~0.35 s each, which the first encode or decode waits for), so
   * that a caller with other waiting to do first (a client connecting) overlaps the two. Idle workers keep no process alive.
   */
  warm(): void {
    this.#workers.startAll()
  }

  /** True when this pool works on a blob of `bytes` in parts, all its workers at once (SPLIT_ENCODE_MIN_BYTES). */
  #splits(bytes: number): boolean {
    return this.size >= 2 && bytes >= SPLIT_ENCODE_MIN_BYTES
  }

  /**
   * encodeBlob in the pool's workers: by one, or split between all of them for a blob of SPLIT_ENCODE_MIN_BYTES or
   * more when the pool has two or more (the same bytes either way). The shards are views of shared memory.
   */
  async encodeBlob(data: Uint8Array, params: EncodeParams): Promise<EncodedBlob> {
    if (data instanceof Uint8Array && this.#splits(data.length)) {
      return this.#encodeInParts(data, params)
    }
    const shared = await copyToShared(data)
    const result = (await this.submit({ op: 'encode', data: shared, params: { ...params } }, [])) as Omit<
      EncodedBlob,
      'blobId'
    >
    return { ...result, blobId: blobIdOf(result.headerBytes) }
  }

  /** decodeBlob in a worker, with its limits (`opts`). */
  async decodeBlob(
    header: BlobHeader,
    shards: Iterable<ShardWithProof>,
    opts: DecodeOptions = {},
  ): Promise<DecodeResult> {
    const staged = await shareShards(shards, this.staging)
    return (await this.#withStaged(
      staged.buffer,
      this.submit({ op: 'decode', header, shards: staged.shards, opts: { ...opts } }, []),
    )) as DecodeResult
  }

  /**
   * The encoding split between the pool's workers: the blob is laid out as the codeword's originals in one shared
   * buffer, each worker extends its columns of every shard, then hashes its range of the leaves, and one builds
   * the tree and the proofs.
   */
  async #encodeInParts(data: Uint8Array, params: EncodeParams): Promise<EncodedBlob> {
    validateParams(params)
    checkBlobSize(data.length, params.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE)
    const { k, n } = params
    const layout: CodewordLayout = { k, n, shardSize: shardSizeFor(data.length, k) }
    const buffer = this.staging.acquire(n * layout.shardSize)
    try {
      const codeword = new Uint8Array(buffer, 0, n * layout.shardSize)
      await copyInChunks(data, codeword)
      // Kept memory holds an earlier codeword: the originals' padding is zero again; the rest is all overwritten.
      codeword.fill(0, data.length, k * layout.shardSize)
      const leaves = new Uint8Array(new SharedArrayBuffer(n * HASH_SIZE))
      await this.#extendAndHash(codeword, layout, leaves)
      const arena = this.#proofArena
      this.#proofArena = undefined
      const committed = (await this.submit(
        { op: 'commitLeaves', leaves, dataSize: data.length, params: { ...params }, ...(arena ? { arena } : {}) },
        arena ? [arena] : [],
      )) as CommittedBlob
      const encoded = { ...committed, blobId: blobIdOf(committed.headerBytes), shards: shardViews(codeword, layout) }
      this.#lent.set(encoded, buffer)
      return encoded
    } catch (err) {
      this.staging.release(buffer, false)
      throw err
    }
  }

  /**
   * Says that `encoded`, from this pool's `encodeBlob`, is no longer used, nor any view of its shards or proofs: the
   * memory they live in is kept for a later task instead of allocated again (first writes to fresh memory cost a
   * page fault per 4 KiB, ~3 ms a MiB here); the proofs' buffer goes to the next encoding's worker, which leaves the
   * old views empty. Without this call the memory is simply garbage once unreferenced. 16 MiB blobs, alternating
   * with and without the proofs' buffer kept: encode 144 / 155 and 144 / 162 ms p50.
   */
  release(encoded: EncodedBlob): void {
    const buffer = this.#lent.get(encoded)
    if (buffer === undefined) return
    this.#lent.delete(encoded)
    this.staging.release(buffer, false)
    const arena = encoded.proofs[0]?.buffer
    if (arena instanceof ArrayBuffer && arena.byteLength > (this.#proofArena?.byteLength ?? 0)) this.#proofArena = arena
  }

  /**
   * Every worker extends its columns of `codeword`'s shards; once all have, each hashes its range of the leaves into
   * `leaves`, but for those flagged in `known`.
   */
  async #extendAndHash(
    codeword: Uint8Array,
    layout: CodewordLayout,
    leaves: Uint8Array,
    known?: Uint8Array,
  ): Promise<void> {
    const count = this.size
    await allParts(
      parts(count).map((part) => {
        const [from, to] = columnRange(layout.shardSize, part, count)
        return this.submit({ op: 'extendColumns', codeword, layout, from, to }, [])
      }),
    )
    await allParts(
      parts(count).map((part) => {
        const [first, end] = partRange(layout.n, 1, part, count)
        return this.submit({ op: 'hashLeaves', codeword, layout, leaves, first, end, ...(known ? { known } : {}) }, [])
      }),
    )
  }

  /**
   * decodeCheckedBlob split between the pool's workers, for large blobs: the k chosen shards' originals are put in
   * place in one shared codeword (copied, or recovered by every worker, a range of columns each), then re-encoded
   * and hashed in parts as `#encodeInParts` does, the chosen shards' leaves taken as checked; one worker compares the
   * root and joins the blob. The same verdicts as one worker's, with the same evidence.
   */
  async #decodeInParts(
    header: BlobHeader,
    shards: readonly ShardWithProof[],
    checkedLeaves: Uint8Array,
  ): Promise<DecodeResult> {
    const { valid, leafOf } = checkedShards(header, shards, checkedLeaves)
    const selected = chooseShards(header, valid).map((index) => valid.get(index)!)
    const verdict = await this.#decodeSelected(header, selected, leafOf)
    if (verdict.reason !== null) {
      return { kind: 'bad-encoding', reason: verdict.reason, evidence: { shards: selected }, rejected: [] }
    }
    return { kind: 'ok', data: verdict.data, used: selected.map((shard) => shard.index), rejected: [] }
  }

  /**
   * The k shards `selected` (in index order) decoded, re-encoded and hashed in parts, in a codeword of kept shared
   * memory: the verdict of finishDecode. `leafOf`: leaf hashes of selected shards whose proofs were checked; every
   * other leaf is hashed.
   */
  async #decodeSelected(
    header: BlobHeader,
    selected: ShardWithProof[],
    leafOf: ReadonlyMap<number, Uint8Array>,
    into?: Promise<ArrayBuffer | undefined>,
  ): Promise<DecodeVerdict> {
    const { n, shardSize } = header
    const buffer = this.staging.acquire(n * shardSize)
    try {
      return await this.#decodeInto(new Uint8Array(buffer, 0, n * shardSize), header, selected, leafOf, into)
    } finally {
      // The verdict holds no view of it: its blob is the worker's own buffer.
      this.staging.release(buffer, false)
    }
  }

  /** #decodeSelected in `codeword`, memory that may hold an earlier task's bytes (all of them overwritten). */
  async #decodeInto(
    codeword: Uint8Array,
    header: BlobHeader,
    selected: ShardWithProof[],
    leafOf: ReadonlyMap<number, Uint8Array>,
    into?: Promise<ArrayBuffer | undefined>,
  ): Promise<DecodeVerdict> {
    const { k, n, shardSize } = header
    const layout: CodewordLayout = { k, n, shardSize }
    const leaves = new Uint8Array(new SharedArrayBuffer(n * HASH_SIZE))
    const known = new Uint8Array(new SharedArrayBuffer(n))
    for (const { index } of selected) {
      const leaf = leafOf.get(index)
      if (leaf === undefined) continue
      leaves.set(leaf, index * HASH_SIZE)
      known[index] = 1
    }
    if (selected[k - 1]!.index < k) {
      // Every original is at hand: copied into place.
      await copyShardsInto(shardViews(codeword, layout), selected)
    } else {
      // The missing originals recovered by every worker, each its range of columns.
      const staged = await shareShards(selected, this.staging)
      const count = this.size
      const recovered = allParts(
        parts(count).map((part) => {
          const [from, to] = columnRange(shardSize, part, count)
          return this.submit({ op: 'recoverInto', codeword, layout, shards: staged.shards, from, to }, [])
        }),
      )
      await this.#withStaged(staged.buffer, recovered)
    }
    await this.#extendAndHash(codeword, layout, leaves, known)
    const output = await into
    const { root, dataSize } = header
    return (await this.submit(
      { op: 'finishDecode', codeword, layout, leaves, root, dataSize, ...(output ? { into: output } : {}) },
      output ? [output] : [],
    )) as DecodeVerdict
  }

  /**
   * decodeUnchecked in the pool (split between its workers for large blobs): the blob from k shards whose proofs were
   * not checked, if their re-encoding hashes up to the root; null if it does not (a shard not the committed one, or
   * no honest encoding: check the proofs, then decodeCheckedBlob, to tell which).
   */
  async decodeUncheckedBlob(
    header: BlobHeader,
    shards: readonly ShardWithProof[],
    into?: Promise<ArrayBuffer | undefined>,
  ): Promise<Uint8Array | null> {
    if (this.#splits(header.dataSize)) {
      const verdict = await this.#decodeSelected(header, uncheckedSelection(header, shards), new Map(), into)
      return verdict.reason === null ? verdict.data : null
    }
    const staged = await shareShards(shards, this.staging)
    return (await this.#withStaged(
      staged.buffer,
      this.submit({ op: 'decodeUnchecked', header, shards: staged.shards }, []),
    )) as Uint8Array | null
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
    if (this.#splits(header.dataSize)) return this.#decodeInParts(header, shards, leaves)
    const staged = await shareShards(shards, this.staging)
    return (await this.#withStaged(
      staged.buffer,
      this.submit({ op: 'decodeChecked', header, shards: staged.shards, leaves }, []),
    )) as DecodeResult
  }

  async checkBadEncoding(
    header: BlobHeader,
    evidence: BadEncodingEvidence,
    opts: EvidenceCheckOptions = {},
  ): Promise<BadEncodingReason> {
    const staged = await shareShards(evidence.shards, this.staging)
    const task = this.submit({ op: 'checkBadEncoding', header, evidence: { shards: staged.shards }, opts }, [])
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

  /**
   * A zeroed buffer of `bytes` whose pages a worker has already faulted in: handed to decodeUncheckedBlob as `into`,
   * the blob is joined there instead of into fresh memory (16 MiB of which costs 50-84 ms of page faults here).
   * Undefined when this pool decodes a blob of that size in one worker (under SPLIT_ENCODE_MIN_BYTES, or a pool of
   * one), which joins it in memory of its own.
   */
  async prefault(bytes: number): Promise<ArrayBuffer | undefined> {
    if (!this.#splits(bytes)) return undefined
    return (await this.submit({ op: 'prefault', bytes }, [])) as ArrayBuffer
  }

  /** Rejects queued and running work with ERASURE_POOL_CLOSED and stops every worker. */
  async close(): Promise<void> {
    await this.#workers.close()
  }

  private submit(payload: Payload, transfer: ArrayBuffer[]): Promise<unknown> {
    return this.#workers.submit(payload, transfer)
  }
}
