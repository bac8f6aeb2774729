import { isDacnetError } from '../errors.ts'
import { P2pErrorCode } from '../p2p/errors.ts'
import { NodeErrorCode } from './errors.ts'

// What a failed sample request says about its holder (PROTOCOL.md §3.4).

/**
 * A failure that says nothing about the holder's data, worth asking once more after a pause: a stream that ended
 * before any reply (a connection dropped under it), NODE_BUSY (every shard-read slot taken), or P2P_RATE_LIMITED
 * (the client passed the holder's per-peer rate; the refusal comes when its one-second window ends).
 */
export function worthAskingAgain(err: unknown): boolean {
  return isDacnetError(err, P2pErrorCode.STREAM_ENDED, NodeErrorCode.BUSY, P2pErrorCode.RATE_LIMITED)
}

/** An ERROR reply of the holder's own (NODE_BUSY, P2P_RATE_LIMITED, …): it refused, so it is not silent. */
export function refusedByHolder(err: unknown): boolean {
  return isDacnetError(err) && err.meta['remote'] === true
}
