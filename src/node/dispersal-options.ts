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
  memberTimeoutMs?: number
  retryDelayMs?: number
  graceMs?: number
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

/** A member's whole share has left this node (written and flushed to the stream); its answer is pending. */
export interface DispersalSent {
  member: number
  shards: number
  /** Shard and proof bytes sent. */
  bytes: number
  /** Milliseconds from the start of sending. */
  ms: number
}

export interface DispersalEvents {
  onEncoded?: (info: { blobId: string; encodeMs: number; shards: number }) => void
  /** Once per member, the first time its share has been sent in full (a retry does not report it again). */
  onSent?: (sent: DispersalSent) => void
  onReceipt?: (receipt: DispersalReceipt) => void
  onFailure?: (failure: MemberFailure) => void
}

export interface DisperseOptions extends DispersalEvents {
  signal?: AbortSignal
}

export interface DispersalResult {
  certificate: Certificate
  blob: Omit<EncodedBlob, 'shards' | 'proofs'>
  receipts: DispersalReceipt[]
  failures: MemberFailure[]
  encodeMs: number
  /** Milliseconds from the start of sending to the certificate. */
  certifyMs: number
}
