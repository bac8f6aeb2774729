/**
 * dacnet's public API: what a sequencer, a light client or an operator tool needs. Everything else is internal.
 */

export * from './attest/index.ts'
export {
  addStake,
  ChainCommitteeSource,
  type ChainCommitteeSourceOptions,
  ChainErrorCode,
  type ChainSourceStatus,
  chainClients,
  checkOnchainCertificate,
  type DacnetDeployment,
  dacnetCertificateVerifierAbi,
  dacnetRegistryAbi,
  dacnetTokenAbi,
  decodeOnchainCertificate,
  deployDacnet,
  encodeOnchainCertificate,
  type OnchainVerdict,
  registerMember,
  startAnvil,
  unstake,
  verifyOnchain,
  withdraw,
} from './chain/index.ts'
export * from './committee/index.ts'
export * from './erasure/index.ts'
export { DacnetError, isDacnetError, type SerializedError } from './errors.ts'
export { createLogger, type Logger, type LogLevel, silentLogger } from './logger.ts'
export {
  type ClientChain,
  type ClientOptions,
  createClient,
  DacnetClient,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_GOSSIP_WAIT_MS,
} from './node/client.ts'
export {
  CommitteeNode,
  type CommitteeNodeEvents,
  type CommitteeNodeInit,
  type CommitteeNodeOptions,
  type CommitteeNodeStatus,
} from './node/committee-node.ts'
export {
  availabilityConfidence,
  binomialUpperTail,
  roundAllowance,
  roundEnds,
  samplesForTarget,
} from './node/confidence.ts'
export {
  DEFAULT_SILENCE_MS,
  type DispersalReceipt,
  type DispersalResult,
  type DispersalSent,
  type DisperseOptions,
  Disperser,
  type DisperserInit,
  type DisperserOptions,
  type ExchangePhase,
  type MemberFailure,
  type SilenceChange,
  type UnreachableVerdict,
} from './node/disperser.ts'
export { currentCommittee, currentEpoch } from './node/epochs.ts'
export { NodeErrorCode } from './node/errors.ts'
export {
  DEFAULT_DIAL_AHEAD,
  DEFAULT_MAX_SAMPLES,
  DEFAULT_TARGET_CONFIDENCE,
  LightClient,
  type LightClientInit,
  type SampleFailure,
  type SampleOptions,
  type SampleResult,
  type SampleUnanswered,
} from './node/light-client.ts'
export { type RetrieveOptions, type RetrieveResult, Retriever, type RetrieverInit } from './node/retriever.ts'
export { P2pErrorCode } from './p2p/errors.ts'
export {
  type CertificateVerdict,
  joinCertificateGossip,
  publishCertificate,
} from './p2p/gossip.ts'
export { loadOrCreatePeerKey, parsePeerKey } from './p2p/identity.ts'
export { createDacnetLibp2p, type DacnetLibp2p, type DacnetLibp2pOptions, DEFAULT_LISTEN } from './p2p/node.ts'
export {
  CERTIFICATE_TOPIC,
  DHT_PROTOCOL,
  RETRIEVE_PROTOCOL,
  SAMPLE_PROTOCOL,
  SAMPLE_SESSION_PROTOCOL,
  STORE_PROTOCOL,
} from './p2p/protocols.ts'
export {
  type BlobInfo,
  type CheckOptions,
  type CorruptEntry,
  CorruptionReason,
  checkShardStore,
  DEFAULT_QUOTA_BYTES,
  DEFAULT_RETENTION_MS,
  type IncompleteBlob,
  type IntegrityReport,
  MAX_ATTESTATION_BYTES,
  type PruneProgress,
  type PruneResult,
  type PutBlobOptions,
  type PutBlobResult,
  type ReportList,
  ShardStore,
  type ShardStoreOptions,
  STORAGE_SCHEMA_VERSION,
  StorageErrorCode,
  type StorageUsage,
  type StoreStats,
} from './storage/index.ts'
