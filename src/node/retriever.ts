import type { Certificate } from '../attest/certificate.ts'
import { decodeCertificate } from '../attest/certificate-codec.ts'
import { verifyCertificate } from '../attest/verify-certificate.ts'
import { assignShards } from '../committee/assignment.ts'
import type { CommitteeSource } from '../committee/source.ts'
import { type BlobId, blobIdOf, parseBlobId } from '../erasure/blob-id.ts'
import { type BadEncodingEvidence, type BadEncodingReason, checkShards, hasShardShape } from '../erasure/decode.ts'
import { type BlobHeader, encodeHeader } from '../erasure/header.ts'
import { HASH_SIZE } from '../erasure/merkle.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../erasure/params.ts'
import { ErasurePool } from '../erasure/pool.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { type DacnetError, isDacnetError } from '../errors.ts'
import { type Logger, silentLogger } from '../logger.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { openRetrieve } from '../p2p/retrieve.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { headerMisfit } from './header-fit.ts'
import { memberPeer } from './peers.ts'
import { type Ask, type Holder, OriginalsHedge, originalsFirst, wholeShares } from './retrieve-asks.ts'

/** Holders streamed from at once for parity shards, or for whole shares when the header is not known yet. */
export const DEFAULT_RETRIEVE_CONCURRENCY = 4
/**
 * Holders asked for their original shards at once when the header is known: every holder of some, up to this many
 * (a committee of more members holds few originals each, and the first to answer complete k).
 */
export const MAX_ORIGINALS_STREAMS = 64
/** Time to find providers in the DHT when only a blob id is known. */
export const DEFAULT_PROVIDER_LOOKUP_MS = 10_000
/** Shards of one holder checked together (one batched proof check), or fewer when they complete k. */
const RETRIEVE_CHECK_RUN = 256
/** Time allowed for one holder's whole stream. */
export const DEFAULT_HOLDER_TIMEOUT_MS = 60_000

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
  /**
   * Holders streamed from at once when originals are missing (their parity shards) or the header is not known
   * yet (whole shares); default DEFAULT_RETRIEVE_CONCURRENCY. Originals are asked of all their holders at once.
   */
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
 * bare BlobId, from DHT provider records. With the header known (a certificate) every holder of original shards
 * sends those alone, all at once, and parity shards are asked for only when that pass drags on (retrieve-asks.ts);
 * from a bare BlobId holders stream their whole shares, a few at a time, holders of originals first. Once k shards
 * are in hand, decoding re-encodes and checks the commitment, so the result is the blob or a BadEncoding verdict
 * with evidence.
 *
 * Provider records are unauthenticated: anyone can announce any blob id. So committee members are always asked
 * before providers that are not members, a header learned from a holder is checked against the committee of its
 * epoch before any shard is read, and once it is known the members it assigns shards to go to the front of the
 * queue: providers that stall or lie cost a stream slot each, never the retrieval.
 */
export class Retriever {
  readonly #init: RetrieverInit
  readonly #pool: ErasurePool
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
    const holders = header ? await this.#assigned(blobId, header) : await this.#candidates(blobId, opts)
    if (holders.length === 0) throw nodeError(NodeErrorCode.BLOB_NOT_FOUND, `no holder of ${blobId} could be found`)
    const received = header
      ? await this.#collect(blobId, header, originalsFirst(holders, header.k), opts, { hedged: true })
      : await this.#collect(blobId, header, wholeShares(holders), opts)
    // The root vouches for k shards at once: decoded and re-encoded, their leaves hash up to it or they do not.
    const data = await this.#pool.decodeUncheckedBlob(
      received.header,
      [...received.shards.values()].map((r) => r.shard),
    )
    if (data !== null) {
      return { kind: 'ok', blobId: blobId.toString(), header: received.header, data, holders: holdersOf(received) }
    }
    // A holder sent a shard that is not the committed one, or the commitment is no honest encoding: only shards
    // with checked proofs tell which, and only they make portable evidence.
    this.#logger.warn('shards of a retrieval do not re-encode to the root: checking every proof', {
      blobId: blobId.toString(),
    })
    const found = await this.#collect(blobId, received.header, wholeShares(holders), opts, {
      seed: received.shards,
    })
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

  /** The members the assignment gives shards of the blob to, holders of original shards first. */
  async #assigned(blobId: BlobId, header: BlobHeader): Promise<Holder[]> {
    const committee = await this.#init.committees.getCommittee(header.epoch)
    const assignment = assignShards(committee, blobId.bytes, header.n)
    const holders: Holder[] = []
    for (const member of committee.members) {
      const shards = assignment.shardsOf(member.index)
      if (shards.length === 0) continue
      const originals = shards.filter((i) => i < header.k).length
      const peer = await memberPeer(this.#init.libp2p, member)
      holders.push({ peer, originals, parity: shards.length - originals, provider: false })
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
        providers.set(id, { peer: provider.id, originals: 0, parity: 0, provider: true })
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
        members.set(member.peerId, { peer, originals: 0, parity: 0, provider: providers.has(member.peerId) })
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

  /**
   * Streams from holders until k shards are in hand: of the right shape, or with `seed` (the shards of an earlier
   * pass whose re-encoding missed the root), with valid proofs — the seed's checked first, and holders that sent one
   * with a bad proof not asked again. `asks` are taken in order, `concurrency` streams at a time; a `hedged` pass
   * (originalsFirst) opens every originals stream at once and holds its parity asks until the OriginalsHedge opens,
   * then takes them from holders whose originals stream has ended first. With a bare BlobId the first holder's
   * header is checked before any shard is read; once it passes, the members it assigns shards to go to the front of
   * the queue, and members it assigns nothing are dropped. A refused header ends the retrieval: every holder must
   * send the same bytes (they hash to the blob id), so no other can do better.
   */
  async #collect(
    blobId: BlobId,
    knownHeader: BlobHeader | undefined,
    asks: Ask[],
    opts: RetrieveOptions,
    pass: Pass = {},
  ): Promise<Collected> {
    const { seed } = pass
    const shards = new Map<number, Received>()
    const leaves = new Map<number, Uint8Array>()
    const checked = seed !== undefined
    const distrusted = new Set<string>()
    const errors: string[] = []
    const asked = new Set<string>()
    let header = knownHeader
    let queue = [...asks]
    let refused: DacnetError | undefined
    const done = new AbortController()
    const signal = opts.signal ? AbortSignal.any([opts.signal, done.signal]) : done.signal
    const owners = pass.hedged ? asks.filter((a) => !a.parity) : []
    const hedge = pass.hedged
      ? new OriginalsHedge(new Map(owners.map((a) => [a.holder.peer.toString(), a.holder.originals])))
      : undefined
    const stopped = new Promise<void>((resolve) =>
      signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
    )
    const concurrency = opts.concurrency ?? DEFAULT_RETRIEVE_CONCURRENCY
    let parityStreams = 0
    /** Holders whose originals stream is still open: their parity is asked of them last. */
    const streaming = new Set<string>()
    const enough = () => header !== undefined && shards.size >= header.k
    /** Keeps what passes of one holder's `run` (its proofs checked as one batch, in a checked pass). */
    const admit = (run: Received[]) => {
      if (run.length === 0 || header === undefined) return
      if (!checked) {
        for (const received of run)
          if (hasShardShape(header, received.shard)) shards.set(received.shard.index, received)
        return
      }
      const byIndex = new Map(run.map((r) => [r.shard.index, r] as const))
      const result = checkShards(
        header,
        run.map((r) => r.shard),
        shards,
      )
      for (const shard of result.valid) {
        shards.set(shard.index, byIndex.get(shard.index)!)
        leaves.set(shard.index, result.leaves.get(shard.index)!)
      }
      for (const rejected of result.rejected) {
        const holder = byIndex.get(rejected.index)?.holder
        if (holder !== undefined) distrusted.add(holder)
      }
    }
    if (seed !== undefined) {
      admit([...seed.values()])
      queue = queue.filter((a) => !distrusted.has(a.holder.peer.toString()))
    }
    let admitted: Promise<void> | undefined = knownHeader ? Promise.resolve() : undefined
    const admitHeader = async (candidate: BlobHeader): Promise<void> => {
      admitted ??= (async () => {
        try {
          await this.#checkHeader(candidate)
          const assigned = await this.#assigned(blobId, candidate)
          const ids = new Set(assigned.map((h) => h.peer.toString()))
          queue = [
            ...wholeShares(assigned.filter((h) => !asked.has(h.peer.toString()))),
            ...queue.filter((a) => a.holder.provider && !ids.has(a.holder.peer.toString())),
          ]
          header = candidate
        } catch (err) {
          refused = isDacnetError(err)
            ? err
            : nodeError(NodeErrorCode.HEADER_MISMATCH, `a holder's header could not be checked: ${err}`)
          done.abort()
          throw refused
        }
      })()
      return admitted
    }
    /**
     * The next ask, or undefined for a worker to stop: parity asks only once the hedge is open and `concurrency` at
     * a time, from holders not streaming originals first.
     */
    const next = async (): Promise<Ask | undefined> => {
      while (queue[0]?.parity && hedge !== undefined && !hedge.isOpen) {
        await Promise.race([hedge.opened, stopped])
        if (signal.aborted || enough()) return undefined
      }
      if (queue[0]?.parity && parityStreams >= concurrency) return undefined
      const free = queue.findIndex((a) => !streaming.has(a.holder.peer.toString()))
      const ask = queue.splice(Math.max(free, 0), 1)[0]
      if (ask?.parity) parityStreams++
      return ask
    }
    const worker = async () => {
      while (!enough() && refused === undefined && queue.length > 0) {
        const ask = await next()
        if (ask === undefined) break
        const { holder, range } = ask
        const from = holder.peer.toString()
        const originals = hedge !== undefined && !ask.parity
        if (originals) streaming.add(from)
        asked.add(from)
        // In a checked pass proofs are checked a run at a time: one batched check costs about a node hash per
        // shard. What a holder sent before its stream broke still counts.
        let run: Received[] = []
        let complete = false
        try {
          const session = await openRetrieve(this.#init.libp2p, holder.peer, blobId, {
            signal,
            timeoutMs: opts.holderTimeoutMs ?? DEFAULT_HOLDER_TIMEOUT_MS,
            checkHeader: admitHeader,
            ...(range ? { range } : {}),
          })
          const k = header!.k
          for await (const shard of session.shards) {
            if (shards.has(shard.index)) continue
            run.push({ shard, holder: from })
            if (run.length >= RETRIEVE_CHECK_RUN || shards.size + run.length >= k) {
              admit(run)
              run = []
            }
            if (enough()) break
          }
          complete = true
        } catch (err) {
          if (signal.aborted && (enough() || refused !== undefined)) return
          errors.push(`${from}: ${isDacnetError(err) ? err.code : (err as Error).message}`)
        } finally {
          admit(run)
          if (originals) {
            streaming.delete(from)
            hedge.ended(from, complete)
          }
          if (ask.parity) parityStreams--
        }
      }
      if (enough()) done.abort()
    }
    const streams = Math.min(owners.length, MAX_ORIGINALS_STREAMS) + concurrency
    try {
      await Promise.all(Array.from({ length: streams }, worker))
    } finally {
      hedge?.close()
    }
    opts.signal?.throwIfAborted()
    if (refused !== undefined) throw refused
    if (!header) throw nodeError(NodeErrorCode.BLOB_NOT_FOUND, `no holder returned ${blobId}`, { errors })
    if (shards.size < header.k) {
      const kind = checked ? ' with valid proofs' : ''
      throw nodeError(NodeErrorCode.NOT_ENOUGH_SHARDS, `found ${shards.size} of the ${header.k} shards needed${kind}`, {
        found: shards.size,
        needed: header.k,
        errors,
      })
    }
    return { header, shards, leaves }
  }
}

/** How one pass of #collect asks and ends. */
interface Pass {
  /** The shards of an earlier pass whose re-encoding missed the root: a checked pass, every proof checked. */
  seed?: ReadonlyMap<number, Received>
  /** Asks from originalsFirst: parity asks wait for the OriginalsHedge. */
  hedged?: boolean
}

/** A shard as a holder sent it, and which holder. */
interface Received {
  shard: ShardWithProof
  holder: string
}

/** What one pass of #collect gathered: k shards or more by index, and (checked pass) their leaf hashes. */
interface Collected {
  header: BlobHeader
  shards: Map<number, Received>
  leaves: Map<number, Uint8Array>
}

/** The holders whose shards a pass kept. */
function holdersOf(collected: Collected): string[] {
  return [...new Set([...collected.shards.values()].map((r) => r.holder))]
}

function isBlobIdLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'multihash' in value && 'version' in value
}
