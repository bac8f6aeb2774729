import { RateLimiter } from '@libp2p/utils'
import type { BlobId } from '../erasure/blob-id.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { isDacnetError } from '../errors.ts'
import { type Logger, silentLogger } from '../logger.ts'
import { DEFAULT_SAMPLE_RATE_PER_SECOND } from '../p2p/limits.ts'
import { StorageErrorCode } from '../storage/errors.ts'
import type { BlobInfo, ShardStore } from '../storage/store.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { DEFAULT_SERVING_BYTES_PER_SECOND, NOT_ADMITTED, ServingBudget } from './serving-budget.ts'
import { Slots, UNNAMED_REQUESTER } from './slots.ts'

/**
 * Shard reads (sample, retrieve and the HTTP API together) a node runs at once. A read is one shard, or a run of
 * about 60 KiB of them read with one multi-get and handed to the client's stream under the same slot; a flood of
 * requests from many clients queues here instead of loading shards without bound. A slot is never held while a
 * slow client drains its stream or response, so stalled clients cannot keep the node from serving others.
 */
export const DEFAULT_MAX_CONCURRENT_SHARD_READS = 32
/** How long a read waits for a free slot: past this the node is overloaded and says so (NODE_BUSY). */
export const DEFAULT_SHARD_READ_WAIT_MS = 2_000
/**
 * Read slots one requester (a peer, an HTTP client address) holds at once. An honest client reads one shard at a
 * time per stream; a peer with many streams open cannot take more than this of the node's slots, so eight
 * requesters at most fill them all, and waiting requesters take turns (see Slots).
 */
export const DEFAULT_MAX_SHARD_READS_PER_REQUESTER = 4
/**
 * Read slots granted per turn of the event loop at most. A run's work is mostly synchronous (sync LevelDB reads of
 * recent blobs, proof checks, framing, encryption, the socket write: about 1 ms for 60 KiB): granting a few per turn
 * keeps each turn short, so that what arrives meanwhile — a light client's request among a flood — is read and
 * queued within milliseconds. Measured with ten identities flooding a node (test/flood): the honest client's p50
 * stayed within a few ms of its baseline with 1 to 4 per turn, and was 42-52 ms with up to 32.
 */
export const DEFAULT_READ_GRANTS_PER_TURN = 4
/**
 * Read requests per requester per second for clients outside libp2p (HTTP clients, keyed by address): the
 * budget a peer has for sample requests (DEFAULT_SAMPLE_RATE_PER_SECOND), so no door into the store is wider.
 */
export const DEFAULT_READ_RATE_PER_SECOND = DEFAULT_SAMPLE_RATE_PER_SECOND

export interface ShardReadsOptions {
  /** Reads under way at once, node-wide. Default DEFAULT_MAX_CONCURRENT_SHARD_READS. */
  maxConcurrentShardReads?: number
  /** How long a read waits for a free slot before refusing with NODE_BUSY. Default DEFAULT_SHARD_READ_WAIT_MS. */
  shardReadWaitMs?: number
  /** Reads one requester has under way at once (at most `maxConcurrentShardReads`). Default DEFAULT_MAX_SHARD_READS_PER_REQUESTER. */
  maxShardReadsPerRequester?: number
  /** Read slots granted per turn of the event loop at most. Default DEFAULT_READ_GRANTS_PER_TURN. */
  readGrantsPerTurn?: number
  /** Requests per requester per second on the requester path; more are NODE_RATE_LIMITED. Default DEFAULT_READ_RATE_PER_SECOND. */
  requestsPerSecond?: number
  /**
   * Shard bytes (data and proofs) served per second node-wide, shared fairly between requesters: past it, reads of
   * requesters beyond their fair share wait (NODE_BUSY after `shardReadWaitMs`). Infinity: no budget. Default
   * DEFAULT_SERVING_BYTES_PER_SECOND (8 MiB/s).
   */
  servingBytesPerSecond?: number
  logger?: Logger
}

/** The store reads this service makes, and nothing else of the store. */
export type ShardSource = Pick<
  ShardStore,
  'getHeader' | 'getBlobInfo' | 'listShardIndices' | 'getShard' | 'getShards' | 'getAttestation' | 'getCertificate'
>

/** What a node holds of a blob: what GET /v1/blobs/{id} shows. */
export interface BlobHoldings {
  info: BlobInfo
  heldShards: number[]
  attested: boolean
  /** The kept certificate's bytes, if any. */
  certificate: Uint8Array | undefined
}

/** The answer to one shard asked for by index. */
export type ShardLookup =
  | { found: 'shard'; shard: ShardWithProof }
  /** No shard of the blob is held. */
  | { found: 'no-blob' }
  /** The index is at or above the blob's n. */
  | { found: 'outside'; n: number }
  /** The blob is held, that shard is not. */
  | { found: 'not-held'; n: number }

/**
 * Reads for a requester outside libp2p (an HTTP client). Every call counts one request against the
 * requester's rate (NODE_RATE_LIMITED above it), then takes a node-wide read slot (NODE_BUSY when none comes
 * free in time). `requester` is an opaque key, e.g. `http:203.0.113.7`.
 */
export interface RequesterReads {
  blob(requester: string, blobId: BlobId): Promise<BlobHoldings | undefined>
  shard(requester: string, blobId: BlobId, index: number): Promise<ShardLookup>
}

/**
 * The one way into a node's stored shards for anyone but the node itself: libp2p's sample and retrieve (through
 * MemberService) and the HTTP API share its read slots. Every read names its requester — the remote peer id for
 * sample and retrieve, the HTTP requester key for the API — and the slots are fair between requesters: each holds
 * at most `maxShardReadsPerRequester` at once, and waiting requesters take turns. Requests over libp2p are rate
 * limited per peer when their stream opens (registerProtocols), so their reads here take a slot only; the
 * requester path adds the per-requester rate with the same default. Reads of shards also draw on a node-wide
 * serving budget (ServingBudget, `servingBytesPerSecond`): once it is spent, requesters beyond their fair share
 * wait for it before they wait for a slot, so that many identities each within the per-peer rate cannot together
 * keep the node's CPU full; reads of what a blob holds (headers, indices) do not.
 */
export class ShardReads implements RequesterReads {
  readonly #store: ShardSource
  readonly #slots: Slots
  readonly #waitMs: number
  readonly #rate: RateLimiter
  readonly #perSecond: number
  readonly #budget: ServingBudget | undefined
  readonly #logger: Logger

  constructor(store: ShardSource, opts: ShardReadsOptions = {}) {
    const maxReads = opts.maxConcurrentShardReads ?? DEFAULT_MAX_CONCURRENT_SHARD_READS
    const waitMs = opts.shardReadWaitMs ?? DEFAULT_SHARD_READ_WAIT_MS
    const perSecond = opts.requestsPerSecond ?? DEFAULT_READ_RATE_PER_SECOND
    const perRequester = opts.maxShardReadsPerRequester ?? DEFAULT_MAX_SHARD_READS_PER_REQUESTER
    const grantsPerTurn = opts.readGrantsPerTurn ?? DEFAULT_READ_GRANTS_PER_TURN
    if (!Number.isSafeInteger(maxReads) || maxReads < 1) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'maxConcurrentShardReads must be a positive integer')
    }
    if (!Number.isSafeInteger(perRequester) || perRequester < 1) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'maxShardReadsPerRequester must be a positive integer')
    }
    if (!Number.isSafeInteger(grantsPerTurn) || grantsPerTurn < 1) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'readGrantsPerTurn must be a positive integer')
    }
    if (!Number.isFinite(waitMs) || waitMs < 0) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'shardReadWaitMs must be a non-negative number')
    }
    if (!Number.isSafeInteger(perSecond) || perSecond < 1) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'the read rate must be a positive integer per second')
    }
    const budget = opts.servingBytesPerSecond ?? DEFAULT_SERVING_BYTES_PER_SECOND
    if (!(budget === Number.POSITIVE_INFINITY || (Number.isSafeInteger(budget) && budget >= 1024))) {
      throw nodeError(
        NodeErrorCode.INVALID_OPTIONS,
        'servingBytesPerSecond must be an integer of at least 1024, or Infinity',
      )
    }
    this.#budget = budget === Number.POSITIVE_INFINITY ? undefined : new ServingBudget(budget)
    this.#store = store
    this.#slots = new Slots(maxReads, { perRequester, grantsPerTurn })
    this.#waitMs = waitMs
    this.#perSecond = perSecond
    this.#rate = new RateLimiter({ points: perSecond, duration: 1, keyPrefix: '' })
    this.#logger = opts.logger ?? silentLogger
  }

  /** Read slots taken right now (a gauge for operators and tests). */
  get slotsTaken(): number {
    return this.#slots.taken
  }

  /** The header bytes and the indices held for a blob, or null when nothing is held. Takes a read slot of `requester`'s. */
  async holdings(
    blobId: BlobId,
    requester: string = UNNAMED_REQUESTER,
  ): Promise<{ headerBytes: Uint8Array; indices: number[] } | null> {
    return this.#underSlot(requester, async () => {
      const info = await this.#store.getBlobInfo(blobId)
      if (!info) return null
      return { headerBytes: info.headerBytes, indices: await this.#store.listShardIndices(blobId) }
    })
  }

  /**
   * One held shard with its proof, or undefined when it is not held. An index outside the blob is the client's
   * mistake: not held, logged at debug. A corrupt entry (quarantined by the store) is not held either, logged at
   * warn. Takes a read slot of `requester`'s.
   */
  async readShard(
    blobId: BlobId,
    index: number,
    requester: string = UNNAMED_REQUESTER,
  ): Promise<ShardWithProof | undefined> {
    const reserved = await this.#take(requester, true)
    let served = 0
    try {
      const shard = await this.#store.getShard(blobId, index)
      if (shard) served = shardBytes(shard)
      return shard
    } catch (err) {
      if (isDacnetError(err, StorageErrorCode.INVALID_SHARD)) {
        this.#logger.debug('shard index outside the blob', { blobId: blobId.toString(), index })
      } else {
        this.#logger.warn('shard read failed', { blobId: blobId.toString(), index, error: err })
      }
      return undefined
    } finally {
      this.#give(requester, reserved, served)
    }
  }

  /**
   * Held shards of a blob among `indices`, in the order asked, read with one multi-get under one read slot of
   * `requester`'s. A failed multi-get (a corrupt entry, quarantined by the store) is retried one shard at a time,
   * so one bad entry costs only itself, as with `readShard`; so is one that names an index outside the blob (the
   * client's mistake: logged at debug, not held).
   */
  async readShards(
    blobId: BlobId,
    indices: readonly number[],
    requester: string = UNNAMED_REQUESTER,
  ): Promise<ShardWithProof[]> {
    return this.withShards(blobId, indices, requester, (shards) => shards)
  }

  /**
   * `readShards`, and `use` gets the shards while the read slot is still held: a server frames them and hands them
   * to its stream there, synchronously, so that a slot covers the work of serving a run of shards — read, checked,
   * framed, encrypted and written to the socket — and not the read alone. Whatever `use` returns (e.g. the wait
   * for a slow stream to drain) is awaited by the caller after the slot is given back, so a stalled client never
   * holds one. After a failed multi-get the shards are read one at a time, each under a slot, and `use` runs after.
   */
  async withShards<T>(
    blobId: BlobId,
    indices: readonly number[],
    requester: string,
    use: (shards: ShardWithProof[]) => T,
  ): Promise<T> {
    let shards: ShardWithProof[] | undefined
    const reserved = await this.#take(requester, true)
    try {
      shards = await this.#store.getShards(blobId, indices)
      return use(shards)
    } catch (err) {
      if (shards !== undefined) throw err
      // Only a bad entry among them is worth reading around; a failing disk, a closing store or a full queue would
      // fail each single read alike, and the holder would look as if it held nothing.
      if (!isDacnetError(err, StorageErrorCode.INVALID_SHARD) && !isDacnetError(err, StorageErrorCode.CORRUPT_ENTRY)) {
        throw err
      }
      if (!isDacnetError(err, StorageErrorCode.INVALID_SHARD)) {
        this.#logger.warn('multi-shard read failed; reading one at a time', { blobId: blobId.toString(), error: err })
      }
    } finally {
      let served = 0
      if (shards !== undefined) for (const shard of shards) served += shardBytes(shard)
      this.#give(requester, reserved, served)
    }
    const found: ShardWithProof[] = []
    for (const index of indices) {
      const shard = await this.readShard(blobId, index, requester)
      if (shard) found.push(shard)
    }
    return use(found)
  }

  async blob(requester: string, blobId: BlobId): Promise<BlobHoldings | undefined> {
    this.#admit(requester)
    return this.#underSlot(requester, async () => {
      const info = await this.#store.getBlobInfo(blobId)
      if (info === undefined) return undefined
      const [heldShards, attestation, certificate] = await Promise.all([
        this.#store.listShardIndices(blobId),
        this.#store.getAttestation(blobId),
        this.#store.getCertificate(blobId),
      ])
      return { info, heldShards, attested: attestation !== undefined, certificate }
    })
  }

  /** One shard by index; store failures (closed, corrupt entry) are thrown with their codes. */
  async shard(requester: string, blobId: BlobId, index: number): Promise<ShardLookup> {
    this.#admit(requester)
    const reserved = await this.#take(requester, true)
    let served = 0
    try {
      const header = await this.#store.getHeader(blobId)
      if (header === undefined) return { found: 'no-blob' }
      if (index >= header.n) return { found: 'outside', n: header.n }
      const shard = await this.#store.getShard(blobId, index)
      if (shard === undefined) return { found: 'not-held', n: header.n }
      served = shardBytes(shard)
      return { found: 'shard', shard }
    } finally {
      this.#give(requester, reserved, served)
    }
  }

  /** Counts one request of `requester`; NODE_RATE_LIMITED above its rate, with the wait until the next window. */
  #admit(requester: string): void {
    try {
      this.#rate.consume(requester)
    } catch (err) {
      const retryAfterMs = Math.max(0, Math.ceil((err as { msBeforeNext?: number }).msBeforeNext ?? 1_000))
      throw nodeError(NodeErrorCode.RATE_LIMITED, `more than ${this.#perSecond} reads per second; slow down`, {
        retryAfterMs,
      })
    }
  }

  /** Reads of what a blob holds (headers, indices, records): a slot, not the serving budget. */
  async #underSlot<T>(requester: string, read: () => Promise<T>): Promise<T> {
    await this.#take(requester, false)
    try {
      return await read()
    } finally {
      this.#slots.give(requester)
    }
  }

  /**
   * Room in the serving budget for a read of shards (`shards`), then a read slot, for `requester`; NODE_BUSY when
   * either does not come its way within the wait. Resolves with the bytes reserved from the budget.
   */
  async #take(requester: string, shards: boolean): Promise<number> {
    let reserved = 0
    let waitMs = this.#waitMs
    if (shards && this.#budget !== undefined) {
      const started = performance.now()
      reserved = await this.#budget.admit(requester, waitMs)
      if (reserved === NOT_ADMITTED) {
        throw nodeError(
          NodeErrorCode.BUSY,
          `this node's serving budget stayed spent for ${this.#waitMs} ms and this requester had its share; try later`,
          { servingBytesPerSecond: this.#budget.bytesPerSecond },
        )
      }
      // The slot's wait is what is left of the one wait.
      waitMs = Math.max(0, waitMs - (performance.now() - started))
    }
    if (!(await this.#slots.take(requester, waitMs))) {
      if (shards) this.#budget?.charge(requester, 0, reserved)
      throw nodeError(NodeErrorCode.BUSY, `this node's shard reads stayed taken for ${this.#waitMs} ms; try later`, {
        maxConcurrentShardReads: this.#slots.size,
        maxShardReadsPerRequester: this.#slots.perRequester,
      })
    }
    return reserved
  }

  /** Gives back a read slot taken for shards, and charges the budget the bytes the read served. */
  #give(requester: string, reserved: number, served: number): void {
    this.#slots.give(requester)
    this.#budget?.charge(requester, served, reserved)
  }
}

/** What serving a shard costs the budget: its data and its proof. */
function shardBytes(shard: ShardWithProof): number {
  return shard.data.length + shard.proof.length
}
