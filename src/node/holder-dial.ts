import type { PeerId } from '@libp2p/interface'
import { DacnetError } from '../errors.ts'
import { P2pErrorCode, p2pError } from '../p2p/errors.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'

/** The light client's dials of holders, and how their failures read. */

/**
 * Opens a connection to `peer`, its failure as P2P_DIAL_FAILED (a refusal on every address libp2p tried, each
 * address's reason kept) or, when the caller's signal ended it, as the abort it is.
 */
export async function dialHolder(libp2p: DacnetLibp2p, peer: PeerId, signal: AbortSignal): Promise<void> {
  try {
    await libp2p.dial(peer, { signal })
  } catch (err) {
    if (signal.aborted) throw signal.reason
    throw dialFailure(err, peer)
  }
}

/**
 * A failed dial as P2P_DIAL_FAILED. libp2p reports a peer whose every address failed as an AggregateError of
 * the addresses' errors; its message names none of them, so they are listed. A dial that libp2p gave up on after
 * its own timeout keeps "timed out" in the message (silenceIn reads it as silence).
 */
export function dialFailure(err: unknown, peer: PeerId): DacnetError {
  if (err instanceof DacnetError) return err
  const inner = err instanceof AggregateError ? err.errors : [err]
  const reasons = inner.map((e) => {
    const { name, message } = (e ?? {}) as { name?: string; message?: string }
    return name === 'TimeoutError' ? `timed out (${message ?? name})` : (message ?? String(e))
  })
  return p2pError(P2pErrorCode.DIAL_FAILED, `dialling ${peer.toString()}: ${[...new Set(reasons)].join('; ')}`)
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it aborts: a stalled exchange that is
 * slow to notice its abort does not hold the round up. The exchange got the same signal and cleans up behind.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {})
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
