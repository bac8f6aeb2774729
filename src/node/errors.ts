import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for the roles: what a committee node refuses and why a dispersal, sample or retrieval fails. */
export const NodeErrorCode = {
  /** The storing peer is not a registered sequencer of the blob's epoch. */
  UNREGISTERED_SEQUENCER: 'NODE_UNREGISTERED_SEQUENCER',
  /** The blob's epoch is not the current one, so this node does not accept new stores for it. */
  STALE_EPOCH: 'NODE_STALE_EPOCH',
  /** This node is not a member of the blob's epoch. */
  NOT_A_MEMBER: 'NODE_NOT_A_MEMBER',
  /** The header's network or (k, n) differ from the committee's, or the blob is larger than allowed. */
  HEADER_MISMATCH: 'NODE_HEADER_MISMATCH',
  /** A certificate fetched for one blob (the browser page asks its server by blob id) is another blob's. */
  CERTIFICATE_OF_ANOTHER_BLOB: 'NODE_CERTIFICATE_OF_ANOTHER_BLOB',
  /** The shards sent are not exactly this member's assignment. */
  WRONG_SHARDS: 'NODE_WRONG_SHARDS',
  /** The node is shutting down and takes no new stores. */
  SHUTTING_DOWN: 'NODE_SHUTTING_DOWN',
  /** (sample, retrieve) Every shard-read slot of the holder stayed taken: retry shortly or ask another holder. */
  BUSY: 'NODE_BUSY',
  /** (sample, retrieve) The requester is over its per-client request rate: slow down. */
  RATE_LIMITED: 'NODE_RATE_LIMITED',
  /** (sample) The holder answered but does not have the shard asked for. */
  SHARD_NOT_HELD: 'NODE_SHARD_NOT_HELD',
  /** A member or holder stayed silent past the time its answer was due: no answer, not a refusal. */
  SILENT: 'NODE_SILENT',
  /** A member's store exchange failed for a reason that carried no code of its own. */
  STORE_FAILED: 'NODE_STORE_FAILED',
  /** Members holding too much stake failed: the threshold can no longer be reached. */
  THRESHOLD_UNREACHABLE: 'NODE_THRESHOLD_UNREACHABLE',
  /** The certificate or blob id names nothing a retriever can find (no header, no holders). */
  BLOB_NOT_FOUND: 'NODE_BLOB_NOT_FOUND',
  /** Fewer than k valid shards could be fetched from the holders. */
  NOT_ENOUGH_SHARDS: 'NODE_NOT_ENOUGH_SHARDS',
  /** The role was stopped or the caller aborted. */
  ABORTED: 'NODE_ABORTED',
  /** Options out of range. */
  INVALID_OPTIONS: 'NODE_INVALID_OPTIONS',
} as const

export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode]

export function nodeError(code: NodeErrorCode, message: string, meta?: ErrorMeta): DacnetError<NodeErrorCode> {
  return new DacnetError(code, message, meta)
}

/**
 * What a public call rejects with when it failed because its caller's signal aborted: NODE_ABORTED, with the
 * signal's reason named (a timeout or an abort), rather than the DOMException the signal carries. Other errors, and
 * typed ones, pass through.
 */
export function typedAbort(err: unknown, signal: AbortSignal | undefined, what: string): unknown {
  if (err instanceof DacnetError || signal?.aborted !== true) return err
  const reason = signal.reason as { name?: unknown; message?: unknown } | undefined
  const why = reason?.name === 'TimeoutError' ? 'its time limit passed' : 'it was aborted'
  return nodeError(NodeErrorCode.ABORTED, `${what} stopped: ${why}`, { cause: String(reason?.name ?? 'AbortError') })
}

/**
 * A public call of a role that can be closed (a light client, a retriever): refused once `closing` has aborted
 * (its reason, NODE_SHUTTING_DOWN), ended by it while under way, and an abort of the caller's own `signal` typed
 * (typedAbort). `call` gets the signal of both.
 */
export async function closableCall<T>(
  closing: AbortSignal,
  signal: AbortSignal | undefined,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  closing.throwIfAborted()
  try {
    return await call(signal ? AbortSignal.any([signal, closing]) : closing)
  } catch (err) {
    if (closing.aborted) throw closing.reason
    throw typedAbort(err, signal, what)
  }
}
