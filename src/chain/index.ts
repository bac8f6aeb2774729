export { type Anvil, type AnvilOptions, startAnvil } from './anvil.ts'
export { dacnetCertificateVerifierAbi } from './artifacts/DacnetCertificateVerifier.ts'
export { dacnetRegistryAbi } from './artifacts/DacnetRegistry.ts'
export { dacnetTokenAbi } from './artifacts/DacnetToken.ts'
export {
  ChainCommitteeSource,
  type ChainCommitteeSourceOptions,
  type ChainSourceStatus,
  DEFAULT_CONFIRMATIONS,
  DEFAULT_POLL_INTERVAL_MS,
} from './committee-source.ts'
export { type DacnetDeployment, type DeployDacnetOptions, deployDacnet } from './deploy.ts'
export { ChainErrorCode } from './errors.ts'
export {
  HASH_SIZE,
  MEMBER_ENTRY_SIZE,
  memberEntry,
  memberLeaf,
  membersRoot,
  multiproof,
  multiproofSize,
  treeDepth,
  verifyMultiproof,
  ZERO_HASHES,
} from './member-tree.ts'
export {
  checkOnchainCertificate,
  decodeOnchainCertificate,
  encodeOnchainCertificate,
  type NonSigner,
  type OnchainCertificate,
  type OnchainCheckOptions,
  OnchainCheckReason,
  type OnchainEncodeOptions,
  type OnchainWitness,
  WITNESS_FIXED_SIZE,
  WITNESS_VERSION,
} from './onchain-certificate.ts'
export {
  EIP2537_FP_SIZE,
  EIP2537_G1_SIZE,
  EIP2537_G2_SIZE,
  eip2537Fp,
  eip2537G1,
  eip2537G2,
  FP_SIZE,
  fp2IsPositive,
  fpFromEip2537,
  fpIsPositive,
  g1FromEip2537,
  g2FromEip2537,
  negateG1Coordinates,
  P,
  publicKeyY,
  signatureY,
} from './points.ts'
export {
  addStake,
  chainClients,
  type OnchainVerdict,
  type Registration,
  type RegistryWriter,
  registerMember,
  unstake,
  verifyOnchain,
  withdraw,
} from './registry-client.ts'
export {
  type CommitteeSummary,
  type CommitteeTree,
  committeeSummary,
  committeeTree,
  decodeCommitteeSummary,
  encodeCommitteeSummary,
  SUMMARY_SIZE,
  summaryHash,
} from './summary.ts'
