import type { Certificate } from '../attest/certificate.ts'
import { decodeCertificate } from '../attest/certificate-codec.ts'
import { verifyCertificate } from '../attest/verify-certificate.ts'
import { assignShards } from '../committee/assignment.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { type BlobId, blobIdOf, parseBlobId } from '../erasure/blob-id.ts'
import type { BadEncodingEvidence, BadEncodingReason } from '../erasure/decode.ts'
import { type BlobHeader, encodeHeader } from '../erasure/header.ts'
import { HASH_SIZE } from '../erasure/merkle.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../erasure/params.ts'
import { ErasurePool } from '../erasure/pool.ts'
import { type Logger, silentLogger } from '../logger.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { isTimerDelay, MAX_TIMER_MS } from '../timer-limit.ts'
import { closableCall, NodeErrorCode, nodeError } from './errors.ts'
import { headerMisfit } from './header-fit.ts'
import { memberPeer } from './peers.ts'
import { collectShards, type Holder, holdersOf, type PassContext } from './retrieve-pass.ts'

export { DEFAULT_HOLDER_TIMEOUT_MS, DEFAULT_RETRIEVE_CONCURRENCY } from './retrieve-pass.ts'

/** Time to find providers in the DHT when only a blob id is known. */
export const DEFAULT_PROVIDER_LOOKUP_MS = 10_000

export interface RetrieverInit {
  libp2p: DacnetLibp2p
  committees: CommitteeSource
  pool?: ErasurePool
  logger?: Logger
  /**
   * Largest blob retrieved from a bare BlobId: a holder's header announcing more is refused before any shard is
   * read (NODE_HEADER_MISMATCH). Default DEFAULT_MAX_BLOB_SIZE (32 MiB). A certificate's header is vouched for
   * by the committee and is not held to it.
   */
  maxBlobSize?: number
}

export interface RetrieveOptions {
  signal?: AbortSignal
  /** Holders streamed from at once; default DEFAULT_RETRIEVE_CONCURRENCY. */
  concurrency?: number
  holderTimeoutMs?: number
}

export type RetrieveResult =
  | { kind: 'ok'; blobId: string; header: BlobHeader; data: Uint8Array; holders: string[] }
  | {
      kind: 'bad-encoding'
      blobId: string
      header: BlobHeader
      reason: BadEncodingReason
      evidence: BadEncodingEvidence
      holders: string[]
    }

/**
 * Gets a blob back from any k of its shards. Holders come from the assignment of the blob's epoch and, with a
 * bare BlobId, from DHT provider records; holders of original shards are asked first (their shards need no
 * arithmetic), a few at a time, each streaming what it holds, until k shards are in hand (retrieve-pass.ts).
 * Decoding then re-encodes and checks the commitment, so the result is the blob or a BadEncoding verdict with
 * evidence.
 *
 * Provider records are unauthenticated: anyone can announce any blob id. So committee members are always asked
 * before providers that are not members, a header learned from a holder is checked against the committee of its
 * epoch before any shard is read, and once it is known the members it assigns shards to go to the front of the
 * queue: providers that stall or lie cost a stream slot each, never the retrieval.
 */
export class Retriever {
  readonly #init: RetrieverInit
  readonly #pool: ErasurePool
  /** Aborted by close(): calls after it are refused, and calls under way end (NODE_SHUTTING_DOWN). */
  readonly #closing = new AbortController()
  readonly #ownsPool: boolean
  readonly #logger: Logger
  readonly #maxBlobSize: number

  constructor(init: RetrieverInit) {
    const maxBlobSize = init.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE
    if (!Number.isSafeInteger(maxBlobSize) || maxBlobSize < 1) {
      throw nodeError(NodeErrorCode.INVALID_OPTIONS, `maxBlobSize must be a positive integer, got ${maxBlobSize}`)
    }
    this.#init = init
    this.#maxBlobSize = maxBlobSize
    this.#ownsPool = init.pool === undefined
    this.#pool = init.pool ?? new ErasurePool()
    this.#logger = init.logger ?? silentLogger
  }

  /** Refuses new retrievals and ends those under way (NODE_SHUTTING_DOWN); close() does it too. */
  stopCalls(): void {
    this.#closing.abort(nodeError(NodeErrorCode.SHUTTING_DOWN, 'the retriever was closed'))
  }

  async close(): Promise<void> {
    this.stopCalls()
    if (this.#ownsPool) await this.#pool.close()
  }

  async retrieve(
    target: BlobId | string | Certificate | Uint8Array,
    opts: RetrieveOptions = {},
  ): Promise<RetrieveResult> {
    const { concurrency, holderTimeoutMs } = opts
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw nodeError(
        NodeErrorCode.INVALID_OPTIONS,
        `concurrency must be a whole number of at least 1, got ${concurrency}`,
      )
    }
    if (holderTimeoutMs !== undefined && !isTimerDelay(holderTimeoutMs)) {
      throw nodeError(
        NodeErrorCode.INVALID_OPTIONS,
        `holderTimeoutMs must be a whole number of milliseconds in 1..${MAX_TIMER_MS}, got ${holderTimeoutMs}`,
      )
    }
    // Closed, its pool and connections are gone: a retrieval now would find too few shards and call the blob gone.
    return closableCall(this.#closing.signal, opts.signal, 'the retrieval', (signal) =>
      this.#retrieve(target, { ...opts, signal }),
    )
  }

  async #retrieve(target: BlobId | string | Certificate | Uint8Array, opts: RetrieveOptions): Promise<RetrieveResult> {
    let header: BlobHeader | undefined
    let blobId: BlobId
    if (typeof target === 'string' || isBlobIdLike(target)) {
      blobId = parseBlobId(target as string | BlobId)
    } else {
      const cert = target instanceof Uint8Array ? decodeCertificate(target) : (target as Certificate)
      verifyCertificate(cert, await this.#init.committees.getCommittee(cert.epoch))
      header = cert.header
      blobId = blobIdOf(encodeHeader(header))
    }
    const holders = header ? await this.#assigned(blobId, header) : await this.#candidates(blobId, opts)
    if (holders.length === 0) throw nodeError(NodeErrorCode.BLOB_NOT_FOUND, `no holder of ${blobId} could be found`)
    // The blob's memory, its pages faulted in by a worker while the shards are fetched rather than after.
    const output = header ? this.#pool.prefault(header.dataSize).catch(() => undefined) : undefined
    const received = await collectShards(this.#pass(blobId), header, holders, opts)
    // The root vouches for k shards at once: decoded and re-encoded, their leaves hash up to it or they do not.
    const data = await this.#pool.decodeUncheckedBlob(
      received.header,
      [...received.shards.values()].map((r) => r.shard),
      output,
    )
    if (data !== null) {
      return { kind: 'ok', blobId: blobId.toString(), header: received.header, data, holders: holdersOf(received) }
    }
    // A holder sent a shard that is not the committed one, or the commitment is no honest encoding: only shards
    // with checked proofs tell which, and only they make portable evidence.
    this.#logger.warn('shards of a retrieval do not re-encode to the root: checking every proof', {
      blobId: blobId.toString(),
    })
    const found = await collectShards(this.#pass(blobId), received.header, holders, opts, received.shards)
    const shards = [...found.shards.values()].map((r) => r.shard)
    const leaves = new Uint8Array(shards.length * HASH_SIZE)
    shards.forEach((shard, i) => {
      leaves.set(found.leaves.get(shard.index)!, i * HASH_SIZE)
    })
    const result = await this.#pool.decodeCheckedBlob(found.header, shards, leaves)
    const used = holdersOf(found)
    if (result.kind === 'ok') {
      return { kind: 'ok', blobId: blobId.toString(), header: found.header, data: result.data, holders: used }
    }
    return {
      kind: 'bad-encoding',
      blobId: blobId.toString(),
      header: found.header,
      reason: result.reason,
      evidence: result.evidence,
      holders: used,
    }
  }

  /** What a pass of collectShards needs of this retriever, for `blobId`. */
  #pass(blobId: BlobId): PassContext {
    return {
      libp2p: this.#init.libp2p,
      blobId,
      checkHeader: (header) => this.#checkHeader(header),
      assigned: (header) => this.#assigned(blobId, header),
    }
  }

  /** The members the assignment gives shards of the blob to, holders of original shards first. */
  async #assigned(blobId: BlobId, header: BlobHeader): Promise<Holder[]> {
    const committee = await this.#init.committees.getCommittee(header.epoch)
    const assignment = assignShards(committee, blobId.bytes, header.n)
    const holders: Holder[] = []
    for (const member of committee.members) {
      const count = assignment.counts[member.index]!
      if (count === 0) continue
      const from = assignment.starts[member.index]!
      const originals = Math.max(0, Math.min(from + count, header.k) - from)
      const peer = await memberPeer(this.#init.libp2p, member)
      holders.push({ peer, originals, provider: false, run: { from, to: from + count } })
    }
    return holders.sort((a, b) => b.originals - a.originals)
  }

  /**
   * Whom to ask for a bare BlobId, whose epoch is not known yet: members that announced it, then every other
   * member of a known epoch (newest epochs first; one that holds nothing answers at once), then the providers
   * that are no members. A provider record proves nothing, so sybil providers come last.
   */
  async #candidates(blobId: BlobId, opts: RetrieveOptions): Promise<Holder[]> {
    const self = this.#init.libp2p.peerId.toString()
    const providers = new Map<string, Holder>()
    const signal = AbortSignal.any([
      AbortSignal.timeout(DEFAULT_PROVIDER_LOOKUP_MS),
      ...(opts.signal ? [opts.signal] : []),
    ])
    try {
      for await (const provider of this.#init.libp2p.contentRouting.findProviders(blobId, { signal })) {
        const id = provider.id.toString()
        if (id === self || providers.has(id)) continue
        if (provider.multiaddrs.length > 0)
          await this.#init.libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
        providers.set(id, { peer: provider.id, originals: 0, provider: true })
      }
    } catch (err) {
      this.#logger.debug('provider lookup ended', { blobId: blobId.toString(), error: err })
    }
    opts.signal?.throwIfAborted()
    const members = new Map<string, Holder>()
    for (const epoch of (await this.#init.committees.epochs()).reverse()) {
      for (const member of (await this.#init.committees.getCommittee(epoch)).members) {
        if (members.has(member.peerId)) continue
        const peer = await memberPeer(this.#init.libp2p, member)
        members.set(member.peerId, { peer, originals: 0, provider: providers.has(member.peerId) })
      }
    }
    const memberList = [...members.values()]
    return [
      ...memberList.filter((m) => m.provider),
      ...memberList.filter((m) => !m.provider),
      ...[...providers.values()].filter((p) => !members.has(p.peer.toString())),
    ]
  }

  /**
   * A header a holder sent for a bare BlobId: it hashes to the id, but whoever made the id chose it. It must be
   * for a known epoch, match that committee's network and its shape for the blob's size (the only one members
   * store), and be within the maximum blob size, which bounds its shard size and so every frame still to be read.
   */
  async #checkHeader(header: BlobHeader): Promise<void> {
    const committee = await this.#init.committees.getCommittee(header.epoch)
    const misfit = headerMisfit(header, committee, this.#maxBlobSize)
    if (misfit === undefined) return
    throw nodeError(NodeErrorCode.HEADER_MISMATCH, `a holder's header for this blob id is refused: ${misfit}`, {
      epoch: header.epoch,
      networkId: header.networkId,
      k: header.k,
      n: header.n,
      dataSize: header.dataSize,
    })
  }
}

function isBlobIdLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'multihash' in value && 'version' in value
}
