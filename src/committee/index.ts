export { ASSIGNMENT_TAG, Assignment, type AssignmentCommittee, assignmentHash, assignShards } from './assignment.ts'
export {
  Committee,
  type CommitteeInput,
  type CommitteeOptions,
  DEFAULT_ADVERSARY,
  DEFAULT_RETENTION_SECONDS,
  DEFAULT_THRESHOLD,
} from './committee.ts'
export { CommitteeErrorCode } from './errors.ts'
export {
  COMMITTEE_FILE_VERSION,
  type CommitteeEpochJson,
  type CommitteeFileJson,
  type CommitteeRegistry,
  type MemberJson,
  parseCommitteeFile,
  type SequencerJson,
  toCommitteeFile,
} from './file.ts'
export { DEFAULT_MAX_COMMITTEE_FILE_SIZE, FileCommitteeSource, type FileCommitteeSourceOptions } from './file-source.ts'
export { type Fraction, formatFraction, parseFraction } from './fraction.ts'
export type { KeyProblem, Member, MemberInput, MemberKeyVerifier, Sequencer } from './member.ts'
export { POP_SIZE, PUBLIC_KEY_SIZE } from './member.ts'
export {
  blobShape,
  canonicalShardSize,
  type EncodingParams,
  isSafeEncoding,
  isSupportedShape,
  kMax,
  largestSafeK,
  MIN_TOTAL_SHARDS,
  type SafetyInput,
  type ShapeInput,
  TARGET_SHARD_SIZE,
  unsafeEncoding,
} from './params.ts'
export { normalizePeerId } from './peer-id.ts'
export { type CommitteeSource, StaticCommitteeSource } from './source.ts'
export { MAX_MEMBERS, MAX_TOTAL_STAKE } from './validate.ts'
