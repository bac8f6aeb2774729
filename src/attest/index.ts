export {
  Aggregator,
  type AggregatorEvents,
  type AggregatorInit,
  type AggregatorOptions,
  type AttestationOutcome,
  DEFAULT_MAX_BATCH_SIZE,
  type Receipt,
  type Rejection,
} from './aggregator.ts'
export { type Attestation, signAttestation, verifyAttestation } from './attestation.ts'
export {
  type PublicKey,
  type SecretKey,
  SIGNATURE_DST,
  SIGNATURE_SIZE,
  secretKeyFromBytes,
} from './bls.ts'
export {
  CERTIFICATE_VERSION,
  type Certificate,
  certificateBlobId,
  certificateSigners,
  MAX_SIGNED_STAKE,
} from './certificate.ts'
export {
  CERTIFICATE_FIXED_SIZE,
  type CertificateJson,
  certificateFromJson,
  certificateToJson,
  decodeCertificate,
  encodeCertificate,
  MAX_CERTIFICATE_SIZE,
} from './certificate-codec.ts'
export { AttestErrorCode } from './errors.ts'
export { DEFAULT_KEY_PATH, generateSecretKey, publicKeyOf, secretKeyFromMnemonic, secretKeyFromSeed } from './keys.ts'
export {
  DEFAULT_KEYSTORE_KDF,
  decryptKeystore,
  type EncryptKeystoreOptions,
  encryptKeystore,
  type KeystoreJson,
  type KeystoreKdf,
} from './keystore.ts'
export { ATTESTATION_TAG, type AttestationContext, attestationContextOf, attestationMessage } from './message.ts'
export { blsKeyVerifier, createProofOfPossession, POP_TAG, popMessage, verifyProofOfPossession } from './pop.ts'
export { bitmapFromSigners, bitmapSize, signersOf } from './signer-bitmap.ts'
export { type VerifiedCertificate, verifyCertificate } from './verify-certificate.ts'
