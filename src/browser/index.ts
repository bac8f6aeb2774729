/**
 * dacnet in a browser: the light client, certificate checks and decoding, committees from a committee file, and
 * libp2p over WebSockets. scripts/build-browser.ts bundles this entry with the browser's BLS (./bls.ts) and
 * SHA-256 (./node-crypto.ts) in place of blst and node:crypto; everything else is the code Node runs.
 */

export type { Certificate } from '../attest/certificate.ts'
export {
  type CertificateJson,
  certificateFromJson,
  certificateToJson,
  decodeCertificate,
  encodeCertificate,
} from '../attest/certificate-codec.ts'
export { blsKeyVerifier } from '../attest/pop.ts'
export { type VerifiedCertificate, verifyCertificate } from '../attest/verify-certificate.ts'
export type { Committee } from '../committee/committee.ts'
export { parseCommitteeFile } from '../committee/file.ts'
export { type CommitteeSource, StaticCommitteeSource } from '../committee/source.ts'
export { DacnetError, isDacnetError } from '../errors.ts'
export {
  DEFAULT_MAX_SAMPLES,
  DEFAULT_SAMPLE_REQUEST_TIMEOUT_MS,
  DEFAULT_TARGET_CONFIDENCE,
  LightClient,
  type LightClientInit,
  type SampleFailure,
  type SampleOptions,
  type SampleOutcome,
  type SampleResult,
} from '../node/light-client.ts'
export { committeesFromFile, HttpCommitteeSource } from './committees.ts'
export { type BrowserLibp2pOptions, createBrowserLibp2p } from './libp2p.ts'
