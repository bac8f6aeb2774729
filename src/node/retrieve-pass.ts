/**
 * One pass of a retrieval: streams from holders until k shards are in hand (Retriever; the asks and the hedge are
 * retrieve-asks.ts).
 */
import type { BlobId } from '../erasure/blob-id.ts'
import { checkShards, hasShardShape } from '../erasure/decode.ts'
import type { BlobHeader } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { type DacnetError, isDacnetError } from '../errors.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { openRetrieve } from '../p2p/retrieve.ts'
import { NodeErrorCode, nodeError } from './errors.ts'
import { type Ask, type Holder, OriginalsHedge, originalsFirst } from './retrieve-asks.ts'

/** Holders streamed from at once for parity shards, or for whole shares when the header is not known yet. */
export const DEFAULT_RETRIEVE_CONCURRENCY = 4
/**
 * Holders asked for their original shards at once when the header is known: every holder of some, up to this many
 * (a committee of more members holds few originals each, and the first to answer complete k).
 */
export const MAX_ORIGINALS_STREAMS = 64
/** Time allowed for one holder's whole stream. */
export const DEFAULT_HOLDER_TIMEOUT_MS = 60_000
/** Shards of one holder checked together (one batched proof check), or fewer when they complete k. */
const RETRIEVE_CHECK_RUN = 256

/** What a pass needs of its retriever. */
export interface PassContext {
  libp2p: DacnetLibp2p
  blobId: BlobId
  /** Judges a header a holder sent for a bare BlobId; throws to refuse it. */
  checkHeader(header: BlobHeader): Promise<void>
  /** The holders `header`'s assignment gives shards of the blob to, holders of originals first. */
  assigned(header: BlobHeader): Promise<Holder[]>
}

export interface PassOptions {
  signal?: AbortSignal | undefined
  /** Default DEFAULT_RETRIEVE_CONCURRENCY. */
  concurrency?: number | undefined
  /** Default DEFAULT_HOLDER_TIMEOUT_MS. */
  holderTimeoutMs?: number | undefined
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
export async function collectShards(
  ctx: PassContext,
  knownHeader: BlobHeader | undefined,
  asks: Ask[],
  opts: PassOptions,
  pass: Pass = {},
): Promise<Collected> {
  const { blobId } = ctx
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
  let hedge = pass.hedged ? hedgeFor(asks) : undefined
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
      for (const received of run) if (hasShardShape(header, received.shard)) shards.set(received.shard.index, received)
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
  const running: Promise<void>[] = []
  const spawn = (workers: number) => {
    for (let i = 0; i < workers; i++) running.push(worker())
  }
  let admitted: Promise<void> | undefined = knownHeader ? Promise.resolve() : undefined
  const admitHeader = async (candidate: BlobHeader): Promise<void> => {
    admitted ??= (async () => {
      try {
        await ctx.checkHeader(candidate)
        const assigned = await ctx.assigned(candidate)
        const ids = new Set(assigned.map((h) => h.peer.toString()))
        // The members not asked yet: each for its originals, all at once, as with a certificate.
        const members = originalsFirst(
          assigned.filter((h) => !asked.has(h.peer.toString())),
          candidate.k,
        )
        queue = [...members, ...queue.filter((a) => a.holder.provider && !ids.has(a.holder.peer.toString()))]
        hedge = hedgeFor(members)
        header = candidate
        spawn(Math.min(hedge.streams, MAX_ORIGINALS_STREAMS))
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
      /** The hedge this stream counts in: an originals stream's (whole shares and parity count in none). */
      const counted = ask.parity || ask.range === undefined ? undefined : hedge
      if (counted) streaming.add(from)
      asked.add(from)
      // In a checked pass proofs are checked a run at a time: one batched check costs about a node hash per
      // shard. What a holder sent before its stream broke still counts.
      let run: Received[] = []
      let complete = false
      try {
        const session = await openRetrieve(ctx.libp2p, holder.peer, blobId, {
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
        if (counted) {
          streaming.delete(from)
          counted.ended(from, complete)
        }
        if (ask.parity) parityStreams--
      }
    }
    if (enough()) done.abort()
  }
  try {
    spawn(Math.min(hedge?.streams ?? 0, MAX_ORIGINALS_STREAMS) + concurrency)
    // Admitting a header adds workers for its originals streams: wait for those too.
    for (let seen = 0; seen < running.length; ) {
      const batch = running.slice(seen)
      seen = running.length
      await Promise.all(batch)
    }
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

/** How one pass asks and ends. */
export interface Pass {
  /** The shards of an earlier pass whose re-encoding missed the root: a checked pass, every proof checked. */
  seed?: ReadonlyMap<number, Received>
  /** Asks from originalsFirst: parity asks wait for the OriginalsHedge. */
  hedged?: boolean
}

/** A shard as a holder sent it, and which holder. */
export interface Received {
  shard: ShardWithProof
  holder: string
}

/** What one pass gathered: k shards or more by index, and (checked pass) their leaf hashes. */
export interface Collected {
  header: BlobHeader
  shards: Map<number, Received>
  leaves: Map<number, Uint8Array>
}

/** The hedge of the originals asks among `asks`. */
function hedgeFor(asks: readonly Ask[]): OriginalsHedge {
  const owners = asks.filter((a) => !a.parity)
  return new OriginalsHedge(new Map(owners.map((a) => [a.holder.peer.toString(), a.holder.originals])))
}

/** The holders whose shards a pass kept. */
export function holdersOf(collected: Collected): string[] {
  return [...new Set([...collected.shards.values()].map((r) => r.holder))]
}
