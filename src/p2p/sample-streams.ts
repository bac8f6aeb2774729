import type { PeerId, Stream } from '@libp2p/interface'
import type { BlobId } from '../erasure/blob-id.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import { DacnetError } from '../errors.ts'
import { asError, P2pErrorCode, p2pError, toWireError } from './errors.ts'
import { FrameReader, settleFinished, writeFrame } from './framing.ts'
import { DEFAULT_SAMPLE_STREAM_IDLE_MS, MAX_IDLE_SAMPLE_STREAMS_PER_PEER } from './limits.ts'
import type { DacnetLibp2p } from './node.ts'
import { SampleRequest } from './pb/dacnet.js'
import { SAMPLE_PROTOCOL, SAMPLE_SESSION_PROTOCOL } from './protocols.ts'
import { checkAskedIndices, readSampleReplies, type SampleAnswer, sampleSignal } from './sample.ts'

export interface SampleStreamsOptions {
  /** How long a session stream is kept unused before it is closed. Default DEFAULT_SAMPLE_STREAM_IDLE_MS. */
  idleMs?: number
}

export interface SampleRequestOptions {
  /** The blob's shard size (from its header): it bounds every reply frame. */
  shardSize: number
  signal?: AbortSignal
  /** Default DEFAULT_SAMPLE_TIMEOUT_MS. */
  timeoutMs?: number
  /** Hears of every SHARD frame as it arrives, before any check (what a caller counts as downloaded). */
  onShard?: (shard: ShardWithProof) => void
}

/** How long closing a session waits for the holder to close its side before the stream is reset. */
const END_GRACE_MS = 1_000

function endedUnanswered(): Error {
  return p2pError(P2pErrorCode.STREAM_ENDED, 'the holder did not close its side of an ended sample session')
}

/** An open session stream with the reader that stays on it between requests. */
interface Session {
  stream: Stream
  reader: FrameReader
  /** The session protocol; false when the holder only speaks /dacnet/sample/1.0.0 (one request, then closed). */
  reusable: boolean
  idleTimer?: ReturnType<typeof setTimeout>
}

/**
 * The client side of sampling, with streams kept between requests: each holder is asked on a
 * /dacnet/sample/2.0.0 session stream left open after its last request (at most MAX_IDLE_SAMPLE_STREAMS_PER_PEER
 * per holder, each closed after `idleMs` unused), so a light client checking one blob after another opens a
 * stream per holder, not one per request. A holder that only offers /dacnet/sample/1.0.0 is asked on a stream per
 * request, as that protocol has it. A request on a kept stream that the holder closed or reset before answering
 * anything (it reset the session as idle, or the connection went) is sent once more on a new stream: asking for
 * samples has no effect on the holder, so repeating one is safe.
 */
export class SampleStreams {
  readonly #libp2p: DacnetLibp2p
  readonly #idleMs: number
  readonly #idle = new Map<string, Session[]>()
  #closed = false

  constructor(libp2p: DacnetLibp2p, opts: SampleStreamsOptions = {}) {
    const idleMs = opts.idleMs ?? DEFAULT_SAMPLE_STREAM_IDLE_MS
    if (!(idleMs >= 0)) throw p2pError(P2pErrorCode.MALFORMED_MESSAGE, `idleMs must be 0 or more, got ${idleMs}`)
    this.#libp2p = libp2p
    this.#idleMs = idleMs
  }

  /**
   * Asks `peer` for shards of a blob. Returns an answer for every requested index (null: not held); proofs are
   * the caller's to check. Throws the holder's ERROR code, P2P_TIMEOUT / P2P_ABORTED, P2P_DIAL_FAILED or
   * P2P_STREAM_ENDED / P2P_MALFORMED_MESSAGE for a broken exchange.
   */
  async request(
    peer: PeerId,
    blobId: BlobId,
    indices: number[],
    opts: SampleRequestOptions,
  ): Promise<Map<number, SampleAnswer>> {
    checkAskedIndices(indices)
    const signal = sampleSignal(opts)
    const key = peer.toString()
    const kept = this.#take(key)
    if (kept !== undefined) {
      let replied = false
      try {
        return await this.#exchange(key, kept, blobId, indices, opts, signal, () => {
          replied = true
        })
      } catch (err) {
        // A kept stream can be closed under the request by the holder's idle reset: nothing was answered, so ask
        // again on a new stream. Anything else stands.
        if (replied || signal.aborted || (err as DacnetError).code !== P2pErrorCode.STREAM_ENDED) throw err
      }
    }
    return this.#exchange(key, await this.#open(peer, signal), blobId, indices, opts, signal)
  }

  /** Closes every kept stream. Requests under way finish on theirs, which are then closed too. */
  close(): void {
    this.#closed = true
    const sessions = [...this.#idle.values()].flat()
    this.#idle.clear()
    for (const session of sessions) this.#end(session)
  }

  /** Streams kept for `peer` now (for tests and the node's status). */
  keptFor(peer: PeerId): number {
    return this.#idle.get(peer.toString())?.length ?? 0
  }

  async #open(peer: PeerId, signal: AbortSignal): Promise<Session> {
    let stream: Stream
    try {
      stream = await this.#libp2p.dialProtocol(peer, [SAMPLE_SESSION_PROTOCOL, SAMPLE_PROTOCOL], { signal })
    } catch (err) {
      throw toWireError(err, `dialling ${peer.toString()}`)
    }
    return { stream, reader: new FrameReader(stream), reusable: stream.protocol === SAMPLE_SESSION_PROTOCOL }
  }

  async #exchange(
    key: string,
    session: Session,
    blobId: BlobId,
    indices: number[],
    opts: SampleRequestOptions,
    signal: AbortSignal,
    onReply?: () => void,
  ): Promise<Map<number, SampleAnswer>> {
    const { stream, reader } = session
    try {
      await writeFrame(stream, SampleRequest.encode({ blobId: blobId.bytes, indices }), { signal })
      if (!session.reusable) await stream.close({ signal })
      const answers = await readSampleReplies(reader, indices, {
        shardSize: opts.shardSize,
        signal,
        peer: key,
        onShard: opts.onShard,
        onReply,
      })
      if (session.reusable) this.#keep(key, session)
      else settleFinished(stream, reader)
      return answers
    } catch (err) {
      reader.release()
      const failure = err instanceof DacnetError ? err : toWireError(err, 'sample')
      stream.abort(asError(failure))
      throw failure
    }
  }

  /** A kept stream for `key` still fit to carry a request, or undefined; unfit ones are closed on the way. */
  #take(key: string): Session | undefined {
    const sessions = this.#idle.get(key)
    while (sessions !== undefined && sessions.length > 0) {
      const session = sessions.pop()!
      clearTimeout(session.idleTimer)
      const { stream, reader } = session
      // The holder closed or reset it, or sent something unasked: it cannot carry a request.
      if (stream.status === 'open' && stream.remoteWriteStatus === 'writable' && reader.buffered === 0) {
        if (sessions.length === 0) this.#idle.delete(key)
        return session
      }
      this.#end(session)
    }
    this.#idle.delete(key)
    return undefined
  }

  #keep(key: string, session: Session): void {
    const sessions = this.#idle.get(key) ?? []
    if (this.#closed || sessions.length >= MAX_IDLE_SAMPLE_STREAMS_PER_PEER) {
      this.#end(session)
      return
    }
    sessions.push(session)
    this.#idle.set(key, sessions)
    session.idleTimer = setTimeout(() => {
      const at = sessions.indexOf(session)
      if (at >= 0) sessions.splice(at, 1)
      if (sessions.length === 0 && this.#idle.get(key) === sessions) this.#idle.delete(key)
      this.#end(session)
    }, this.#idleMs)
    // Closing an idle stream never needs to keep the process alive.
    session.idleTimer.unref?.()
  }

  /** Closes a session's stream: our side first, the holder closes its own in answer; a reset if that fails. */
  #end(session: Session): void {
    clearTimeout(session.idleTimer)
    session.reader.release()
    const { stream } = session
    if (stream.status !== 'open') return
    stream
      .close({ signal: AbortSignal.timeout(END_GRACE_MS) })
      .then(() => {
        // A holder that never closes its side in answer does not keep the stream: reset after the grace.
        if (stream.status === 'open') setTimeout(() => stream.abort(endedUnanswered()), END_GRACE_MS).unref?.()
      })
      .catch((err: unknown) => stream.abort(asError(err)))
  }
}
