/** One pass of a retrieval: streams from holders until k shards are in hand (Retriever). */
import type { PeerId } from '@libp2p/interface'
import type { BlobId } from '../erasure/blob-id.ts'
import { checkShards, hasShardShape } from '../erasure/decode.ts'
import type { BlobHeader } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { type DacnetError, isDacnetError } from '../errors.ts'
import { P2pErrorCode } from '../p2p/errors.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'
import { openRetrieve } from '../p2p/retrieve.ts'
import { NodeErrorCode, nodeError } from './errors.ts'

/** Holders streamed from at once. */
export const DEFAULT_RETRIEVE_CONCURRENCY = 4
/** Time allowed for one holder's whole stream. */
export const DEFAULT_HOLDER_TIMEOUT_MS = 60_000
/** Shards of one holder checked together (one batched proof check), or fewer when they complete k. */
const RETRIEVE_CHECK_RUN = 256
/**
 * Times one pass asks a holder again after it answered P2P_RATE_LIMITED or NODE_BUSY. A holder refuses a request over
 * its per-peer rate only when the peer's one-second window ends (MAX_REFUSAL_DELAY_MS), and a busy one after its
 * read wait, so asking again at once is asking after the wait: a retriever taking blobs back to back from a few
 * living members goes past their ten retrieve requests a second, and must not give them up for it.
 */
export const RETRIEVE_BUSY_RETRIES = 3
/** Codes a holder answers when it will serve, later: ask it again (at the back of the queue). */
const COME_BACK_CODES: readonly string[] = [P2pErrorCode.RATE_LIMITED, NodeErrorCode.BUSY]

/** A holder the retriever may stream from, as the assignment (or a provider record) gives it. */
export interface Holder {
  peer: PeerId
  /** Original shards it is assigned (used to prefer holders of originals). */
  originals: number
  /** Found through a DHT provider record (anyone can publish one), not through the committee. */
  provider: boolean
  /**
   * The run of shard indices the assignment gives this member, [from, to) (PROTOCOL.md §2.4); absent for a provider
   * that is no member, or before the header is known. A pass keeps from a member only shards of its own run.
   */
  run?: { from: number; to: number }
}

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
 * Streams from holders, a few at a time, until k shards are in hand: of the right shape, or with `seed` (the shards
 * of an earlier pass whose re-encoding missed the root), with valid proofs — the seed's checked first, and holders
 * that sent one with a bad proof not asked again. With a bare BlobId the first holder's header is checked before
 * any shard is read; once it passes, the members it assigns shards to go to the front of the queue, and members it
 * assigns nothing are dropped. A refused header ends the retrieval: every holder must send the same bytes (they
 * hash to the blob id), so no other can do better.
 */
export async function collectShards(
  ctx: PassContext,
  knownHeader: BlobHeader | undefined,
  holders: Holder[],
  opts: PassOptions,
  seed?: ReadonlyMap<number, Received>,
): Promise<Collected> {
  const { blobId } = ctx
  const shards = new Map<number, Received>()
  const leaves = new Map<number, Uint8Array>()
  const checked = seed !== undefined
  const distrusted = new Set<string>()
  const errors: string[] = []
  /**
   * Shards of members that could not be asked in full (unreachable, timed out, busy): they may well exist, so a
   * retrieval short of k with these counted is "not reached" rather than "not there" (see NOT_ENOUGH_SHARDS).
   */
  let unreachedShards = 0
  const asked = new Set<string>()
  const busy = new Map<string, number>()
  let header = knownHeader
  let queue = [...holders]
  let refused: DacnetError | undefined
  const done = new AbortController()
  const signal = opts.signal ? AbortSignal.any([opts.signal, done.signal]) : done.signal
  const enough = () => header !== undefined && shards.size >= header.k
  // Each member's run, so that no member can supply another's indices: the first copy of an index would win, and a
  // member sending bytes for indices it does not hold could make every retrieval miss the root and run the checked
  // pass (for nothing it has to store).
  const runs = new Map<string, { from: number; to: number }>()
  const learnRuns = (list: readonly Holder[]) => {
    for (const h of list) if (h.run !== undefined) runs.set(h.peer.toString(), h.run)
  }
  learnRuns(holders)
  const ownRun = (received: Received) => {
    const run = runs.get(received.holder)
    return run === undefined || (received.shard.index >= run.from && received.shard.index < run.to)
  }
  /** Keeps what passes of one holder's `run` (its proofs checked as one batch, in a checked pass). */
  const admit = (run: Received[]) => {
    if (run.length === 0 || header === undefined) return
    if (!checked) {
      for (const received of run) {
        if (ownRun(received) && hasShardShape(header, received.shard)) shards.set(received.shard.index, received)
      }
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
    queue = queue.filter((h) => !distrusted.has(h.peer.toString()))
  }
  let admitted: Promise<void> | undefined = knownHeader ? Promise.resolve() : undefined
  const admitHeader = async (candidate: BlobHeader): Promise<void> => {
    admitted ??= (async () => {
      try {
        await ctx.checkHeader(candidate)
        const assigned = await ctx.assigned(candidate)
        learnRuns(assigned)
        const ids = new Set(assigned.map((h) => h.peer.toString()))
        // Members not asked yet, then those asked already that said to come back (rate-limited or busy, queued
        // again before this header came), then providers that are no members.
        queue = [
          ...assigned.filter((h) => !asked.has(h.peer.toString())),
          ...queue.filter((h) => ids.has(h.peer.toString()) && asked.has(h.peer.toString())),
          ...queue.filter((h) => h.provider && !ids.has(h.peer.toString())),
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
  const worker = async () => {
    while (!enough() && refused === undefined && queue.length > 0) {
      const holder = queue.shift()!
      const from = holder.peer.toString()
      asked.add(from)
      // In a checked pass proofs are checked a run at a time: one batched check costs about a node hash per
      // shard. What a holder sent before its stream broke still counts.
      let run: Received[] = []
      try {
        const session = await openRetrieve(ctx.libp2p, holder.peer, blobId, {
          signal,
          timeoutMs: opts.holderTimeoutMs ?? DEFAULT_HOLDER_TIMEOUT_MS,
          checkHeader: admitHeader,
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
      } catch (err) {
        if (signal.aborted && (enough() || refused !== undefined)) return
        const code = isDacnetError(err) ? err.code : undefined
        const retries = busy.get(from) ?? 0
        if (code !== undefined && COME_BACK_CODES.includes(code) && retries < RETRIEVE_BUSY_RETRIES) {
          busy.set(from, retries + 1)
          queue.push(holder)
          continue
        }
        errors.push(`${from}: ${code ?? (err as Error).message}`)
        // Not reached: the member could not be asked in full (no connection, a timeout, a broken stream) or said to
        // come back (busy). A member that answered with any other refusal (it holds nothing, or sends what it must
        // not) was reached: its shards are not to be waited for.
        const own = runs.get(from)
        const refusal = isDacnetError(err) && err.meta['remote'] === true
        if (own !== undefined && (!refusal || (code !== undefined && COME_BACK_CODES.includes(code)))) {
          let received = run.length
          for (const r of shards.values()) if (r.holder === from) received++
          unreachedShards += Math.max(0, own.to - own.from - received)
        }
      } finally {
        admit(run)
      }
    }
    if (enough()) done.abort()
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? DEFAULT_RETRIEVE_CONCURRENCY }, worker))
  opts.signal?.throwIfAborted()
  if (refused !== undefined) throw refused
  if (!header) throw nodeError(NodeErrorCode.BLOB_NOT_FOUND, `no holder returned ${blobId}`, { errors })
  if (shards.size < header.k) {
    const kind = checked ? ' with valid proofs' : ''
    const reach =
      unreachedShards > 0 ? `; ${unreachedShards} more are with members that could not be asked in full` : ''
    throw nodeError(
      NodeErrorCode.NOT_ENOUGH_SHARDS,
      `found ${shards.size} of the ${header.k} shards needed${kind}${reach}`,
      { found: shards.size, needed: header.k, unreachedShards, errors },
    )
  }
  return { header, shards, leaves }
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

/** The holders whose shards a pass kept. */
export function holdersOf(collected: Collected): string[] {
  return [...new Set([...collected.shards.values()].map((r) => r.holder))]
}
