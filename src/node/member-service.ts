import type { PeerId } from '@libp2p/interface'
import { attestationSignature } from '../attest/attestation.ts'
import type { SecretKey } from '../attest/bls.ts'
import { attestationContextOf } from '../attest/message.ts'
import { assignShards } from '../committee/assignment.ts'
import type { Committee } from '../committee/committee.ts'
import type { Member } from '../committee/member.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { type BlobId, blobIdOf } from '../erasure/blob-id.ts'
import type { BlobHeader } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import type { Logger } from '../logger.ts'
import type { RetrieveService } from '../p2p/retrieve.ts'
import type { SampleService } from '../p2p/sample.ts'
import type { StoreIntake, StoreService } from '../p2p/store.ts'
import { type BlobIntake, MAX_RETENTION_MS } from '../storage/index.ts'
import type { ShardStore } from '../storage/store.ts'
import { StoreEpochs } from './epochs.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { headerMisfit } from './header-fit.ts'
import { MemberIntake } from './member-intake.ts'
import { ShardReads } from './shard-reads.ts'

export interface MemberServiceInit {
  store: ShardStore
  committees: CommitteeSource
  secretKey: SecretKey
  /** This node's compressed BLS public key: how it finds itself in each epoch's committee. */
  publicKey: Uint8Array
  maxBlobSize: number
  logger: Logger
  /**
   * Called after a blob was stored and signed. `announce`: this member is one of the blob's DHT announcers
   * (the first `providersPerBlob` members of its run order) and the store was fresh.
   */
  onStored?: (
    blobId: BlobId,
    header: BlobHeader,
    stored: { shards: number; bytes: number; fresh: boolean; announce: boolean },
  ) => void
  /** Called when a store is admitted: its shards are about to arrive. */
  onStoreAdmitted?: () => void
  /** Members that publish a provider record for each blob. Default DEFAULT_PROVIDERS_PER_BLOB. */
  providersPerBlob?: number
  /**
   * The node's shard reads, shared with its other readers (the HTTP API). Absent: a service of its own over
   * `store`, sized by the two options below.
   */
  reads?: ShardReads
  /** Without `reads`: shard reads under way at once. Default DEFAULT_MAX_CONCURRENT_SHARD_READS. */
  maxConcurrentShardReads?: number
  /** Without `reads`: how long a read waits for a free slot before NODE_BUSY. Default DEFAULT_SHARD_READ_WAIT_MS. */
  shardReadWaitMs?: number
  /** Without `reads`: reads one requester has under way at once. Default DEFAULT_MAX_SHARD_READS_PER_REQUESTER. */
  maxShardReadsPerRequester?: number
  /** Without `reads`: shard bytes served per second, node-wide, shared fairly. Default DEFAULT_SERVING_BYTES_PER_SECOND. */
  servingBytesPerSecond?: number
  /** Stores for the epoch before the one in force are taken this long after it changed. Default DEFAULT_PREVIOUS_EPOCH_GRACE_MS. */
  previousEpochGraceMs?: number
  /**
   * Share bytes of stores being received and committed at once, past which a new store is refused NODE_BUSY (one is
   * always taken). Default INTAKE_BLOBS_AT_ONCE × maxBlobSize.
   */
  maxIntakeBytes?: number
  /** This node's libp2p peer id: its own share (the node dispersing itself) is not held to maxIntakeBytes. */
  selfPeerId?: PeerId
}

/**
 * Default bound of the share bytes a member receives at once, in largest blobs: each open store holds its share in
 * a LevelDB batch until it commits, and a member's share of a blob is at most n/k (about 3.4) times the blob. An
 * honest sequencer has a blob or two in flight to a member; a hostile one opening stores on every stream it may
 * would otherwise make the member hold shares without limit.
 */
export const INTAKE_BLOBS_AT_ONCE = 8

/**
 * Members that publish a DHT provider record per blob. A record goes to each of the ~20 closest DHT servers, which
 * keep it (after a DHT lookup on a network of more than 20 servers); each is a stream to every member of a small
 * committee. One record finds a holder, whose header gives the whole assignment,
 * and a retriever always knows the committee, so it falls back to asking the members (PROTOCOL.md §3.7).
 */
export const DEFAULT_PROVIDERS_PER_BLOB = 1

/**
 * What a committee member does with each protocol, in the order of a celestia-style server handler:
 * authorise, validate against the committee, store durably, and only then sign.
 */
export class MemberService implements StoreService, SampleService, RetrieveService {
  readonly #init: MemberServiceInit
  readonly #reads: ShardReads
  readonly #epochs: StoreEpochs
  readonly #providersPerBlob: number
  #accepting = true
  #inFlight = new Set<Promise<unknown>>()
  readonly #maxIntakeBytes: number
  /** Share bytes of the stores admitted and not yet ended. */
  #intakeBytes = 0

  constructor(init: MemberServiceInit) {
    this.#init = init
    this.#reads =
      init.reads ??
      new ShardReads(init.store, {
        maxConcurrentShardReads: init.maxConcurrentShardReads,
        shardReadWaitMs: init.shardReadWaitMs,
        maxShardReadsPerRequester: init.maxShardReadsPerRequester,
        servingBytesPerSecond: init.servingBytesPerSecond,
        logger: init.logger,
      })
    this.#epochs = new StoreEpochs(init.committees, { previousEpochGraceMs: init.previousEpochGraceMs })
    this.#maxIntakeBytes = init.maxIntakeBytes ?? INTAKE_BLOBS_AT_ONCE * init.maxBlobSize
    if (!Number.isSafeInteger(this.#maxIntakeBytes) || this.#maxIntakeBytes < 1) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'maxIntakeBytes must be a positive whole number')
    }
    this.#providersPerBlob = init.providersPerBlob ?? DEFAULT_PROVIDERS_PER_BLOB
    if (!Number.isInteger(this.#providersPerBlob) || this.#providersPerBlob < 0) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, 'providersPerBlob must be a non-negative integer')
    }
  }

  /** Stops taking stores and waits for the ones under way to finish (their answers still go out). */
  async drain(): Promise<void> {
    this.#accepting = false
    await Promise.allSettled([...this.#inFlight])
  }

  /**
   * At a store stream's opening, before anything is read: the sender must be a registered sequencer of an epoch
   * this member takes stores for (NODE_UNREGISTERED_SEQUENCER otherwise). `admit` checks it against the header's
   * epoch again.
   */
  async acceptsFrom(remotePeer: PeerId): Promise<void> {
    if (!this.#accepting) throw nodeError(NodeErrorCode.SHUTTING_DOWN, 'this node is shutting down')
    const peer = remotePeer.toString()
    if (await this.#epochs.anyAccepted((committee) => committee.isSequencer({ peerId: peer }))) return
    throw nodeError(
      NodeErrorCode.UNREGISTERED_SEQUENCER,
      `${peer} is not a registered sequencer of an epoch this member takes stores for`,
    )
  }

  /**
   * Admits a store (the sender is a sequencer of the header's epoch, the header fits the committee, the count is
   * this member's assignment) and opens the shard store's intake for it: the shards go to disk as they arrive.
   */
  async admit(
    remotePeer: PeerId,
    header: BlobHeader,
    headerBytes: Uint8Array,
    shardCount: number,
  ): Promise<StoreIntake> {
    if (!this.#accepting) throw nodeError(NodeErrorCode.SHUTTING_DOWN, 'this node is shutting down')
    const committee = await this.#currentCommittee(header.epoch)
    const peer = remotePeer.toString()
    if (!committee.isSequencer({ peerId: peer })) {
      throw nodeError(
        NodeErrorCode.UNREGISTERED_SEQUENCER,
        `${peer} is not a registered sequencer of epoch ${header.epoch}`,
      )
    }
    const member = this.#self(committee)
    const misfit = headerMisfit(header, committee, this.#init.maxBlobSize)
    if (misfit !== undefined) throw nodeError(NodeErrorCode.HEADER_MISMATCH, misfit)
    const blobId = blobIdOf(headerBytes)
    const assignment = assignShards(committee, blobId.bytes, header.n)
    const assigned = assignment.shardsOf(member.index)
    if (shardCount !== assigned.length) {
      throw nodeError(
        NodeErrorCode.WRONG_SHARDS,
        `member ${member.index} is assigned ${assigned.length} shards, got ${shardCount}`,
      )
    }
    if (assigned.length === 0) {
      this.#init.onStoreAdmitted?.()
      return this.#emptyShare(remotePeer, header, blobId)
    }
    // Data and proof (at most 32 bytes a tree level) of each assigned shard. The node's own share is not counted: its
    // dispersal stores it from memory it already holds, and must not wait behind other sequencers' stores.
    const own = this.#init.selfPeerId !== undefined && remotePeer.equals(this.#init.selfPeerId)
    const reserved = own ? 0 : assigned.length * (header.shardSize + 32 * Math.ceil(Math.log2(header.n)))
    if (!own && this.#intakeBytes > 0 && this.#intakeBytes + reserved > this.#maxIntakeBytes) {
      throw nodeError(NodeErrorCode.BUSY, `${this.#intakeBytes} bytes of shares are being received; retry shortly`, {
        receiving: this.#intakeBytes,
        limit: this.#maxIntakeBytes,
      })
    }
    this.#intakeBytes += reserved
    const release = () => {
      this.#intakeBytes -= reserved
    }
    let intake: BlobIntake
    try {
      intake = await this.#init.store.openIntake(headerBytes, {
        // A committee may ask for longer than a store keeps anything (a registry's retention is any u64): a hundred
        // years is as good as forever, and every store of the epoch would be refused otherwise.
        retentionMs: Math.min(committee.retentionSeconds * 1000, MAX_RETENTION_MS),
        expectedShards: shardCount,
      })
    } catch (err) {
      release()
      throw err
    }
    this.#init.onStoreAdmitted?.()
    const announcer = assignment.announcers(this.#providersPerBlob).includes(member.index)
    return new MemberIntake(
      intake,
      assigned,
      member.index,
      (taken, counts) => this.#finish(remotePeer, header, taken, { ...counts, announcer }),
      release,
    )
  }

  /**
   * A member whose stake is under S/n may be assigned no shard of a blob (PROTOCOL.md §2.4: c_i = ⌊n·s_i/S⌋ = 0 and
   * no leftover shard). It holds nothing of the blob, so it stores nothing, and it signs, so that its stake counts:
   * the certificate's bound (§2.3) already takes a signer's count to be as low as ⌊n·s_i/S⌋, here 0.
   */
  #emptyShare(remotePeer: PeerId, header: BlobHeader, blobId: BlobId): StoreIntake {
    return {
      add: (shards) => {
        if (shards.length > 0) throw nodeError(NodeErrorCode.WRONG_SHARDS, 'this member is assigned no shard')
      },
      finish: async () => {
        if (!this.#accepting) throw nodeError(NodeErrorCode.SHUTTING_DOWN, 'this node is shutting down')
        const signature = attestationSignature(this.#init.secretKey, attestationContextOf(header))
        this.#init.logger.debug('attested a blob of which it is assigned no shard', {
          blobId: blobId.toString(),
          sequencer: remotePeer.toString(),
        })
        return signature
      },
      abort: () => undefined,
    }
  }

  /** Every shard is in the intake: commit it, and sign once it is on disk. */
  async #finish(
    remotePeer: PeerId,
    header: BlobHeader,
    intake: BlobIntake,
    taken: { shards: number; bytes: number; announcer: boolean },
  ): Promise<Uint8Array> {
    // Admitted before the drain began, but done after it: the store may be closing, so refuse cleanly.
    if (!this.#accepting) throw nodeError(NodeErrorCode.SHUTTING_DOWN, 'this node is shutting down')
    const work = this.#commit(remotePeer, header, intake, taken)
    this.#inFlight.add(work)
    try {
      return await work
    } finally {
      this.#inFlight.delete(work)
    }
  }

  async #commit(
    remotePeer: PeerId,
    header: BlobHeader,
    intake: BlobIntake,
    taken: { shards: number; bytes: number; announcer: boolean },
  ): Promise<Uint8Array> {
    // Durable first: the commit resolves only after one synced batch put the shards (each proof verified as it
    // arrived) and the attestation on disk together; only then does the signature leave this node. BLS signatures
    // are deterministic, so signing before the write gives the bytes any earlier store of this blob kept.
    const signed = attestationSignature(this.#init.secretKey, attestationContextOf(header))
    const { blobId, stored, attestation } = await intake.commit({ attestation: signed })
    const signature = attestation ?? signed
    this.#init.logger.info('stored and attested', {
      blobId: blobId.toString(),
      shards: taken.shards,
      sequencer: remotePeer.toString(),
      fresh: stored,
    })
    const announce = stored && taken.announcer
    this.#init.onStored?.(blobId, header, { shards: taken.shards, bytes: taken.bytes, fresh: stored, announce })
    return signature
  }

  /**
   * Sample and retrieve read through the node's ShardReads: its read slots bound them with every other reader,
   * fairly between requesters (the remote peer's id; absent: UNNAMED_REQUESTER).
   */
  holdings(blobId: BlobId, requester?: string): Promise<{ headerBytes: Uint8Array; indices: number[] } | null> {
    return this.#reads.holdings(blobId, requester)
  }

  /** See ShardReads.readShard: undefined when not held; NODE_BUSY when no read slot comes free in time. */
  readShard(blobId: BlobId, index: number, requester?: string): Promise<ShardWithProof | undefined> {
    return this.#reads.readShard(blobId, index, requester)
  }

  /** See ShardReads.readShards: the held ones of `indices`, in one multi-get under one read slot. */
  readShards(blobId: BlobId, indices: readonly number[], requester?: string): Promise<ShardWithProof[]> {
    return this.#reads.readShards(blobId, indices, requester)
  }

  /** See ShardReads.withShards: `use` frames and sends the run while its read slot is held. */
  withShards<T>(
    blobId: BlobId,
    indices: readonly number[],
    requester: string,
    use: (shards: ShardWithProof[]) => T,
  ): Promise<T> {
    return this.#reads.withShards(blobId, indices, requester, use)
  }

  /** The committee of `epoch` if this member takes stores for it now: the epoch in force, or the one before in its grace. */
  async #currentCommittee(epoch: number): Promise<Committee> {
    return this.#epochs.committeeFor(epoch)
  }

  #self(committee: Committee): Member {
    const member = committee.memberByPublicKey(this.#init.publicKey)
    if (!member) throw nodeError(NodeErrorCode.NOT_A_MEMBER, `this node is not a member of epoch ${committee.epoch}`)
    return member
  }
}
