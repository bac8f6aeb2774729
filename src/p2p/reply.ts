import type { Stream } from '@libp2p/interface'
import type { DacnetError } from '../errors.ts'
import { writeFrame } from './framing.ts'
import { Reply, ReplyKind } from './pb/dacnet.js'
import { sanitizeCode, truncateMessage } from './wire.ts'

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
