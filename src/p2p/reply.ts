import type { Stream } from '@libp2p/interface'
import type { DacnetError } from '../errors.ts'
import { asError, P2pErrorCode, toWireError } from './errors.ts'
import { type FrameBatch, writeFrame } from './framing.ts'
import { Reply, ReplyKind } from './pb/dacnet.js'
import { CANCELLED, type ServedOutcome, sanitizeCode, truncateMessage } from './wire.ts'

/** Server side of the Reply-framed protocols (sample, retrieve). */

const EMPTY = new Uint8Array(0)

export function replyFrame(fields: Partial<Reply>): Uint8Array {
  return Reply.encode({
    kind: ReplyKind.SHARD,
    index: 0,
    header: EMPTY,
    count: 0,
    errorCode: '',
    errorMessage: '',
    ...fields,
  })
}

/** Sends an ERROR reply and closes; a broken stream is simply aborted. */
export async function replyError(stream: Stream, error: DacnetError, signal: AbortSignal): Promise<void> {
  try {
    await writeFrame(
      stream,
      replyFrame({
        kind: ReplyKind.ERROR,
        errorCode: sanitizeCode(error.code),
        errorMessage: truncateMessage(error.message),
      }),
      { signal },
    )
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

/**
 * Ends a sample or retrieve exchange that failed, and returns the outcome to count. A stream that ended or timed
 * out is aborted (CANCELLED when the client stopped reading its answers, `answering`); any other failure sends the
 * answers already batched, then an ERROR with its code in place of the rest, and closes.
 */
export async function endFailedExchange(
  stream: Stream,
  batch: FrameBatch,
  err: unknown,
  what: string,
  answering: boolean,
  signal: AbortSignal,
): Promise<ServedOutcome> {
  const failure = toWireError(err, what)
  if (failure.code === P2pErrorCode.STREAM_ENDED || failure.code === P2pErrorCode.TIMEOUT) {
    stream.abort(asError(failure))
    return answering && failure.code === P2pErrorCode.STREAM_ENDED ? CANCELLED : failure.code
  }
  await batch.flush().catch(() => {})
  await replyError(stream, failure, signal)
  return failure.code
}
