import type { PeerId } from '@libp2p/interface'
import type { Certificate } from '../attest/certificate.ts'
import { decodeCertificate } from '../attest/certificate-codec.ts'
import { verifyCertificate } from '../attest/verify-certificate.ts'
import { assignShards } from '../committee/assignment.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { type BlobId, blobIdOf, parseBlobId } from '../erasure/blob-id.ts'
import { type BadEncodingEvidence, type BadEncodingReason, checkShard } from '../erasure/decode.ts'
import { type BlobHeader, encodeHeader } from '../erasure/header.ts'
import { ErasurePool } from '../erasure/pool.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { isDacnetError } from '../errors.ts'
import { type Logger, silentLogger } from '../logger.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { openRetrieve } from '../p2p/retrieve.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { memberPeer } from './peers.ts'

/** Holders streamed from at once. */
export const DEFAULT_RETRIEVE_CONCURRENCY = 4
/** Time to find providers in the DHT when only a blob id is known. */
export const DEFAULT_PROVIDER_LOOKUP_MS = 10_000
/** Time allowed for one holder's whole stream. */
export const DEFAULT_HOLDER_TIMEOUT_MS = 60_000

export interface RetrieverInit {
  libp2p: DacnetLibp2p
  committees: CommitteeSource
  pool?: ErasurePool
  logger?: Logger
}

export interface RetrieveOptions {
  signal?: AbortSignal
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

interface Holder {
  peer: PeerId
  /** Original shards it is assigned (used to prefer holders of originals). */
  originals: number
}

/**
 * Gets a blob back from any k of its shards. Holders come from the assignment of the blob's epoch and from
 * DHT provider records; holders of original shards are asked first (their shards need no arithmetic), a few
 * at a time, each streaming what it holds, until k shards with valid proofs are in hand. Decoding then
 * re-encodes and checks the commitment, so the result is the blob or a BadEncoding verdict with evidence.
 */
export class Retriever {
  readonly #init: RetrieverInit
  readonly #pool: ErasurePool
  readonly #ownsPool: boolean
  readonly #logger: Logger

  constructor(init: RetrieverInit) {
    this.#init = init
    this.#ownsPool = init.pool === undefined
    this.#pool = init.pool ?? new ErasurePool()
    this.#logger = init.logger ?? silentLogger
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.close()
  }

  async retrieve(
    target: BlobId | string | Certificate | Uint8Array,
    opts: RetrieveOptions = {},
  ): Promise<RetrieveResult> {
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
    const holders = await this.#holders(blobId, header, opts)
    const found = await this.#collect(blobId, header, holders, opts)
    const result = await this.#pool.decodeBlob(found.header, found.shards.values())
    const used = [...found.from]
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

  /** Assigned holders (originals first) when the header is known, then DHT providers. */
  async #holders(blobId: BlobId, header: BlobHeader | undefined, opts: RetrieveOptions): Promise<Holder[]> {
    const holders = new Map<string, Holder>()
    if (header) {
      const committee = await this.#init.committees.getCommittee(header.epoch)
      const assignment = assignShards(committee, blobId.bytes)
      for (const member of committee.members) {
        const shards = assignment.shardsOf(member.index)
        if (shards.length === 0) continue
        const originals = shards.filter((i) => i < header.k).length
        holders.set(member.peerId, { peer: await memberPeer(this.#init.libp2p, member), originals })
      }
    }
    const signal = AbortSignal.any([
      AbortSignal.timeout(DEFAULT_PROVIDER_LOOKUP_MS),
      ...(opts.signal ? [opts.signal] : []),
    ])
    // With the header known, providers only add to the assigned holders; without it they are all we have.
    if (!header || holders.size === 0) {
      try {
        for await (const provider of this.#init.libp2p.contentRouting.findProviders(blobId, { signal })) {
          const id = provider.id.toString()
          if (id === this.#init.libp2p.peerId.toString() || holders.has(id)) continue
          if (provider.multiaddrs.length > 0)
            await this.#init.libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
          holders.set(id, { peer: provider.id, originals: 0 })
        }
      } catch (err) {
        this.#logger.debug('provider lookup ended', { blobId: blobId.toString(), error: err })
      }
    }
    if (holders.size === 0) {
      // No provider record (yet): any member of a known epoch may hold it; newest epochs first.
      const epochs = (await this.#init.committees.epochs()).reverse()
      for (const epoch of epochs) {
        for (const member of (await this.#init.committees.getCommittee(epoch)).members) {
          if (!holders.has(member.peerId)) {
            holders.set(member.peerId, { peer: await memberPeer(this.#init.libp2p, member), originals: 0 })
          }
        }
      }
    }
    if (holders.size === 0) throw nodeError(NodeErrorCode.BLOB_NOT_FOUND, `no holder of ${blobId} could be found`)
    return [...holders.values()].sort((a, b) => b.originals - a.originals)
  }

  /** Streams from holders, a few at a time, until k valid shards are in hand. */
  async #collect(
    blobId: BlobId,
    knownHeader: BlobHeader | undefined,
    holders: Holder[],
    opts: RetrieveOptions,
  ): Promise<{ header: BlobHeader; shards: Map<number, ShardWithProof>; from: Set<string> }> {
    const shards = new Map<number, ShardWithProof>()
    const from = new Set<string>()
    const errors: string[] = []
    let header = knownHeader
    const done = new AbortController()
    const signal = opts.signal ? AbortSignal.any([opts.signal, done.signal]) : done.signal
    const enough = () => header !== undefined && shards.size >= header.k
    const queue = [...holders]
    const worker = async () => {
      while (!enough() && queue.length > 0) {
        const holder = queue.shift()!
        try {
          const session = await openRetrieve(this.#init.libp2p, holder.peer, blobId, {
            signal,
            timeoutMs: opts.holderTimeoutMs ?? DEFAULT_HOLDER_TIMEOUT_MS,
          })
          header ??= session.header
          for await (const shard of session.shards) {
            if (shards.has(shard.index) || checkShard(header, shard) !== null) continue
            shards.set(shard.index, shard)
            from.add(holder.peer.toString())
            if (enough()) break
          }
        } catch (err) {
          if (signal.aborted && enough()) return
          errors.push(`${holder.peer}: ${isDacnetError(err) ? err.code : (err as Error).message}`)
        }
      }
      if (enough()) done.abort()
    }
    await Promise.all(Array.from({ length: opts.concurrency ?? DEFAULT_RETRIEVE_CONCURRENCY }, worker))
    opts.signal?.throwIfAborted()
    if (!header) throw nodeError(NodeErrorCode.BLOB_NOT_FOUND, `no holder returned ${blobId}`, { errors })
    if (shards.size < header.k) {
      throw nodeError(NodeErrorCode.NOT_ENOUGH_SHARDS, `found ${shards.size} of the ${header.k} shards needed`, {
        found: shards.size,
        needed: header.k,
        errors,
      })
    }
    return { header, shards, from }
  }
}

function isBlobIdLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'multihash' in value && 'version' in value
}
