import { certificateSigners } from '../attest/certificate.ts'
import { type CertificateJson, certificateToJson } from '../attest/certificate-codec.ts'
import type { ChainSourceStatus } from '../chain/committee-source.ts'
import { toHex } from '../committee/hex.ts'
import type { BlobHeader } from '../erasure/header.ts'
import type { ShardWithProof } from '../erasure/shard.ts'
import type { CommitteeNodeStatus } from '../node/committee-node.ts'
import type { DispersalResult } from '../node/disperser.ts'
import type { BlobInfo } from '../storage/store.ts'
import { protocolLabel } from './metric-set.ts'
import { DACNET_VERSION } from './version.ts'

/**
 * The JSON bodies the API answers with, built from the node's own types. Conventions (also in the OpenAPI
 * document): bytes are 0x-prefixed lower-case hex, as in the committee file; integers that fit 2^53 are
 * numbers; stakes are decimal strings; times are ISO 8601 UTC.
 */

export interface HeaderView {
  version: number
  networkId: number
  epoch: number
  dataSize: number
  k: number
  n: number
  shardSize: number
  root: string
}

export function headerView(header: BlobHeader): HeaderView {
  const { version, networkId, epoch, dataSize, k, n, shardSize } = header
  return { version, networkId, epoch, dataSize, k, n, shardSize, root: toHex(header.root) }
}

export interface BlobView {
  blobId: string
  header: HeaderView
  headerBytes: string
  /** Indices of the shards this node holds, ascending. */
  heldShards: number[]
  storedAt: string
  expiresAt: string
  /** True if this node signed an attestation for the blob. */
  attested: boolean
  /** The certificate this node kept from gossip, or null if it has none. */
  certificate: CertificateJson | null
}

export function blobView(
  info: BlobInfo,
  heldShards: number[],
  attested: boolean,
  certificate: CertificateJson | null,
): BlobView {
  return {
    blobId: info.blobId.toString(),
    header: headerView(info.header),
    headerBytes: toHex(info.headerBytes),
    heldShards,
    storedAt: new Date(info.storedAt).toISOString(),
    expiresAt: new Date(info.expiresAt).toISOString(),
    attested,
    certificate,
  }
}

export interface ShardView {
  index: number
  data: string
  proof: string
}

export function shardView(shard: ShardWithProof): ShardView {
  return { index: shard.index, data: toHex(shard.data), proof: toHex(shard.proof) }
}

export interface StatusView {
  version: string
  peerId: string
  addresses: string[]
  running: boolean
  peers: number
  storage: {
    blobs: number
    shards: number
    bytes: number
    quotaBytes: number
    diskBytes: number | null
    quarantined: number
    corruptDetected: number
    pendingWrites: number
    prune: {
      running: boolean
      lastRunAt: string | null
      blobsPruned: number
      entriesDeleted: number
      lastError: string | null
    }
  }
  /** Inbound exchanges answered in full since start, by protocol (store, sample, retrieve). */
  served: Record<string, number>
  samplesServed: number
  /** Inbound exchanges refused or failed since start, by error code. */
  refused: Record<string, number>
  /** Samples and retrievals the client stopped reading mid-answer, by protocol. */
  cancelled: Record<string, number>
  recentErrors: { time: string; message: string; code?: string }[]
  /** DHT provider records waiting for a quiet moment or being published. */
  providerRecordsPending: number
  disperseEnabled: boolean
}

export function statusView(
  status: CommitteeNodeStatus,
  diskBytes: number | null,
  disperseEnabled: boolean,
): StatusView {
  const { storage } = status
  const served: Record<string, number> = { store: 0, sample: 0, retrieve: 0 }
  for (const [protocol, count] of Object.entries(status.served)) {
    const label = protocolLabel(protocol)
    served[label] = (served[label] ?? 0) + count
  }
  const cancelled: Record<string, number> = { sample: 0, retrieve: 0 }
  for (const [protocol, count] of Object.entries(status.cancelled)) {
    const label = protocolLabel(protocol)
    cancelled[label] = (cancelled[label] ?? 0) + count
  }
  return {
    version: DACNET_VERSION,
    peerId: status.peerId,
    addresses: status.addresses,
    running: status.running,
    peers: status.peers,
    storage: {
      blobs: storage.blobs,
      shards: storage.shards,
      bytes: storage.bytes,
      quotaBytes: storage.quotaBytes,
      diskBytes,
      quarantined: storage.quarantined,
      corruptDetected: storage.corruptDetected,
      pendingWrites: storage.pendingWrites,
      prune: {
        running: storage.prune.running,
        lastRunAt: storage.prune.lastRunAt === undefined ? null : new Date(storage.prune.lastRunAt).toISOString(),
        blobsPruned: storage.prune.blobsPruned,
        entriesDeleted: storage.prune.entriesDeleted,
        lastError: storage.prune.lastError ?? null,
      },
    },
    served,
    samplesServed: served['sample'] ?? 0,
    refused: sortedByCount(status.refused),
    cancelled,
    recentErrors: status.recentErrors,
    providerRecordsPending: status.providerRecordsPending,
    disperseEnabled,
  }
}

export interface DispersalView {
  blobId: string
  header: HeaderView
  certificate: CertificateJson
  /** Member indices whose signatures the certificate aggregates. */
  signers: number[]
  signedStake: string
  totalStake: string | null
  /** Members that failed (after one retry) while the certificate was collected. */
  failures: { member: number; peerId: string; stake: string; code: string; message: string }[]
  timings: { receiveMs: number; encodeMs: number; certifyMs: number; totalMs: number }
}

export function dispersalView(result: DispersalResult, receiveMs: number, totalMs: number): DispersalView {
  const { certificate } = result
  return {
    blobId: result.blob.blobId.toString(),
    header: headerView(result.blob.header),
    certificate: certificateToJson(certificate),
    signers: certificateSigners(certificate),
    signedStake: certificate.signedStake.toString(),
    totalStake: result.receipts[0]?.totalStake.toString() ?? null,
    failures: result.failures.map((f) => ({ ...f, stake: f.stake.toString() })),
    timings: {
      receiveMs: round(receiveMs),
      encodeMs: round(result.encodeMs),
      certifyMs: round(result.certifyMs),
      totalMs: round(totalMs),
    },
  }
}

/** Counts by code, the most frequent first (then by code): what an operator reads top-down. */
function sortedByCount(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)))
}

/** Milliseconds to 0.1 ms: finer digits are noise. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10
}

/** A chain source's sync state as /health shows it. */
export function chainView(status: ChainSourceStatus) {
  return {
    state: status.state,
    safeBlock: status.safeBlock ?? null,
    epoch: status.epoch ?? null,
    lastSyncAt: status.lastSyncAt === undefined ? null : new Date(status.lastSyncAt).toISOString(),
    lastError: status.lastError ?? null,
    deepReorgs: status.deepReorgs,
    registryRereads: status.registryRereads,
  }
}
