import type { Receipt } from '../attest/aggregator.ts'
import type { Certificate } from '../attest/certificate.ts'
import type { CommitteeSource } from '../committee/source.ts'
import type { EncodedBlob } from '../erasure/encode.ts'
import type { ErasurePool } from '../erasure/pool.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import type { Logger } from '../logger.ts'
import type { DacnetLibp2p } from '../p2p/node.ts'

/** One store attempt to one member: dial, send its share, wait for the signature. */
export const DEFAULT_MEMBER_TIMEOUT_MS = 60_000
/** Pause before the single retry of a failed member. */
export const DEFAULT_RETRY_DELAY_MS = 500
/** After the threshold, wait this long for more signatures before certifying (0: certify at once). */
export const DEFAULT_GRACE_MS = 0
/**
 * A member whose exchange shows no progress for this long is counted silent (NODE_SILENT) when deciding whether q
 * can still be reached. Progress is what the member's side of the exchange does, not how long it takes: its
 * addresses found, the connection up (noise and yamux handshakes done), the store stream agreed, bytes of its share
 * taken (within the window it granted), its answer arriving. Once the share flows, a member is held to its own pace
 * instead when that is slower (SILENCE_PACE_FACTOR), and its answer gets this long again after the last byte. A
 * silent member's exchange goes on (counted again as soon as it makes progress); silence only lets the round give up
 * early. With more than a third of the stake silent from the start, or stopped with the connection open, dispersal
 * fails about this long after sending begins (PROTOCOL.md §3.9).
 */
export const DEFAULT_SILENCE_MS = 3_000

/**
 * The committee member running in the same process as the disperser (a node that is also a sequencer):
 * libp2p cannot dial itself, so its own share is stored directly, and it keeps the certificates it makes.
 */
export interface LocalMember {
  peerId: string
  /** Stores this member's shards exactly as the store protocol would, and returns its signature. */
  storeOwnShare(headerBytes: Uint8Array, shards: ShardWithProof[]): Promise<Uint8Array>
  keepCertificate(bytes: Uint8Array): Promise<void>
}

export interface DisperserInit {
  /** Started; its peer id must be a registered sequencer. */
  libp2p: DacnetLibp2p
  /** Set when this process is also a committee member (see LocalMember). */
  localMember?: LocalMember
  committees: CommitteeSource
  /** Encodes off the main thread; the disperser creates (and closes) its own if none is given. */
  pool?: ErasurePool
  logger?: Logger
}

export interface DisperserOptions {
  /** Deadline of one store attempt to one member. Default DEFAULT_MEMBER_TIMEOUT_MS. */
  memberTimeoutMs?: number
  /** Default DEFAULT_RETRY_DELAY_MS. */
  retryDelayMs?: number
  /** Default DEFAULT_GRACE_MS. */
  graceMs?: number
  /** Quiet time after which a member counts as silent; 0 turns silence off. Default DEFAULT_SILENCE_MS. */
  silenceMs?: number
  /**
   * Member exchanges run at once, largest stake first; the next starts as one ends (answered or failed for good) or
   * falls silent. Default `defaultSendLanes`: the fewest members whose stake reaches q, half as many again
   * (PROTOCOL.md §3.9). Infinity sends to every member at once.
   */
  sendLanes?: number
  maxBlobSize?: number
  /** Publish each certificate on the gossip topic. Default true. */
  publish?: boolean
}

/** A member's attestation as it arrives, before the aggregate exists. */
export interface DispersalReceipt extends Receipt {
  /** Shards the member stored. */
  shards: number
  /** Milliseconds from the start of sending to this attestation. */
  ms: number
  totalStake: bigint
}

export interface MemberFailure {
  member: number
  peerId: string
  stake: bigint
  code: string
  message: string
}

/** Where a member's exchange stands: what it was doing when it went quiet. */
export type ExchangePhase = 'connecting' | 'negotiating' | 'sending' | 'answering'

/** A member counted silent (nothing from it for `silenceMs`), or counted again because it made progress. */
export interface SilenceChange {
  member: number
  peerId: string
  stake: bigint
  /** True: counted silent from now on. False: it made progress again and counts as reachable. */
  silent: boolean
  phase: ExchangePhase
  /** Milliseconds without progress (when `silent`), or that it was quiet before it resumed. */
  quietMs: number
  /** Milliseconds from the start of sending. */
  ms: number
}

/**
 * q can no longer be reached: the members that failed or are silent hold too much stake. Reported as soon as it is
 * known, with other members' exchanges still under way; they are then aborted and `disperse` rejects with
 * NODE_THRESHOLD_UNREACHABLE. Nothing is certified.
 */
export interface UnreachableVerdict {
  /** Members that failed (their code) or are silent (NODE_SILENT), in the order they were counted out. */
  lost: MemberFailure[]
  lostStake: bigint
  signedStake: bigint
  totalStake: bigint
  /** Members still being waited for at the verdict (neither signed, failed nor silent). */
  outstanding: { member: number; peerId: string; stake: bigint }[]
  /** Milliseconds from the start of sending. */
  ms: number
}

/** A member's whole share has left this node (written and flushed to the stream); its answer is pending. */
export interface DispersalSent {
  member: number
  shards: number
  /** Shard and proof bytes sent. */
  bytes: number
  /** Milliseconds from the start of sending. */
  ms: number
}

/** A dispersal's progress, as it happens. A handler that throws is logged as a warning and otherwise ignored. */
export interface DispersalEvents {
  onEncoded?: (info: { blobId: string; encodeMs: number; shards: number }) => void
  /** Once per member, the first time its share has been sent in full (a retry does not report it again). */
  onSent?: (sent: DispersalSent) => void
  onReceipt?: (receipt: DispersalReceipt) => void
  onFailure?: (failure: MemberFailure) => void
  /** A member counted silent, or counted again after it made progress (until the certificate or the verdict). */
  onSilence?: (change: SilenceChange) => void
  /** Once, at the moment q becomes unreachable, before `disperse` rejects. */
  onUnreachable?: (verdict: UnreachableVerdict) => void
}

export interface DisperseOptions extends DispersalEvents {
  signal?: AbortSignal
}

export interface DispersalResult {
  certificate: Certificate
  blob: Omit<EncodedBlob, 'shards' | 'proofs'>
  receipts: DispersalReceipt[]
  failures: MemberFailure[]
  /**
   * Members counted silent when the certificate was made (code NODE_SILENT): their exchanges are let go then (see
   * PROTOCOL.md §3.9), each reported to `onFailure` as it ends.
   */
  silent: MemberFailure[]
  encodeMs: number
  /** Milliseconds from the start of sending to the certificate. */
  certifyMs: number
}
