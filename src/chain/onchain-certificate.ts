/**
 * The on-chain certificate form (PROTOCOL §4.5): the binary certificate of §2.7 followed by a witness that
 * lets the verifier contract check it against nothing but a summary hash in the registry.
 *
 *   offset (witness) size     field
 *   0                1        witness version (= 1)
 *   1                4        record index r, u32
 *   5                96       the signature's y: y.c1 ‖ y.c0
 *   101              196      the committee summary (summary.ts)
 *   297              u × 128  the non-signers in increasing member index: x ‖ y ‖ stake
 *   …                p × 32   the member-tree multiproof for their leaves (member-tree.ts)
 *
 * u and p are fixed by the bitmap (and m), so every length is exact. `checkOnchainCertificate` is a
 * reference of the contract's `checkCertificate`: the same steps, in the same order, with the same reasons.
 */
import { decodeSignature, SIGNATURE_SIZE, type Signature, signatureCoordinates, verify } from '../attest/bls.ts'
import { type Certificate, certificateBlobId, certificateSigners } from '../attest/certificate.ts'
import { CERTIFICATE_FIXED_SIZE, decodeCertificate, encodeCertificate } from '../attest/certificate-codec.ts'
import { aggregateSigners, committeeKeys } from '../attest/committee-keys.ts'
import { attestationMessage } from '../attest/message.ts'
import { bitmapSize } from '../attest/signer-bitmap.ts'
import type { Committee } from '../committee/committee.ts'
import { reaches } from '../committee/fraction.ts'
import { isSafeEncoding } from '../committee/params.ts'
import { MAX_MEMBERS } from '../committee/validate.ts'
import { isDacnetError } from '../errors.ts'
import { ChainErrorCode, chainError } from './errors.ts'
import {
  bytesEqual,
  HASH_SIZE,
  MEMBER_ENTRY_SIZE,
  memberLeaf,
  multiproof,
  multiproofSize,
  verifyMultiproof,
} from './member-tree.ts'
import {
  COMPRESSED_FLAG,
  compressedSign,
  compressedX,
  FP_SIZE,
  fp2IsPositive,
  INFINITY_FLAG,
  P,
  uintFromBytes,
} from './points.ts'
import {
  type CommitteeSummary,
  committeeTree,
  decodeCommitteeSummary,
  encodeCommitteeSummary,
  SUMMARY_SIZE,
  summaryHash,
} from './summary.ts'

/** The only witness layout so far; a new layout gets a new version. */
export const WITNESS_VERSION = 1
/** Version, record index, signature y and summary: the witness before its per-non-signer parts. */
export const WITNESS_FIXED_SIZE = 1 + 4 + 2 * FP_SIZE + SUMMARY_SIZE

/** A member absent from the bitmap, as the witness carries it: key coordinates and stake. */
export interface NonSigner {
  readonly index: number
  readonly x: Uint8Array
  readonly y: Uint8Array
  readonly stake: bigint
}

export interface OnchainWitness {
  readonly version: number
  /** The registry's committee record; `committeeRecordCount()` names the live committee. */
  readonly recordIndex: number
  /** y.c1 ‖ y.c0 of the aggregate signature. */
  readonly signatureY: Uint8Array
  readonly summary: CommitteeSummary
  /** In increasing member index. */
  readonly nonSigners: readonly NonSigner[]
  readonly proof: readonly Uint8Array[]
}

export interface OnchainCertificate {
  readonly certificate: Certificate
  readonly witness: OnchainWitness
}

/**
 * The contract's `checkCertificate` reasons, for the first failing verification step of §4.5. Where a step can
 * fail in more than one way the reason names the kind of failure, as the contract does: an epoch after the
 * current one is an unknown epoch (3, not 2), no signer or U > S is a stake failure (7).
 */
export const OnchainCheckReason = {
  VALID: 0,
  /** Step 1: the certificate layout, the witness version, or a witness length (proof hashes must be whole). */
  MALFORMED: 1,
  /** Step 2: the header names another network. */
  WRONG_NETWORK: 2,
  /** Steps 2–3: an epoch after the current one, or a record that does not hold the certificate's epoch. */
  UNKNOWN_EPOCH: 3,
  /** Step 3: keccak256(summary) is not the record's summary hash. */
  SUMMARY_MISMATCH: 4,
  /** Step 4: member count differs from the summary's, or (k, n) is not safe for the committee. */
  MEMBER_COUNT_OR_ENCODING: 5,
  /** Step 5: the non-signers' leaves and the proof hashes (all of them, no more) do not give the members root. */
  MEMBERS_ROOT: 6,
  /** Steps 5–6: no signer, U > S, signed stake is not S − U, or is below q. */
  STAKE: 7,
  /** Step 7: the signature encoding, the witness y, or the pairing. */
  SIGNATURE: 8,
} as const

export type OnchainCheckReason = (typeof OnchainCheckReason)[keyof typeof OnchainCheckReason]

export interface OnchainEncodeOptions {
  /** The committee record the certificate is checked against (`committeeFor(epoch)`), a u32. */
  recordIndex: number
}

export interface OnchainCheckOptions extends OnchainEncodeOptions {
  /** The record's summary hash as the registry returns it; must be the committee's own. Defaults to it. */
  summaryHash?: Uint8Array | undefined
  /** The chain's current epoch: a later certificate epoch is refused (reason 3). Unchecked when absent. */
  currentEpoch?: number | undefined
}

/**
 * The on-chain form of a certificate of `committee`. The certificate is encoded, not verified (a form of a
 * bad certificate is useful to test the contract with), but its signature must be a valid point so that it
 * has a y, and its bitmap must cover the committee.
 */
export function encodeOnchainCertificate(
  certificate: Certificate,
  committee: Committee,
  options: OnchainEncodeOptions,
): Uint8Array {
  checkRecordIndex(options.recordIndex)
  if (certificate.memberCount !== committee.size) {
    throw chainError(
      ChainErrorCode.COMMITTEE_MISMATCH,
      `certificate covers ${certificate.memberCount} members, the committee has ${committee.size}`,
    )
  }
  const head = encodeCertificate(certificate)
  const tree = committeeTree(committee)
  const absent = nonSignerIndices(certificate.signers, certificate.memberCount)
  const proof = multiproof(tree.leaves, absent)
  const out = new Uint8Array(head.length + WITNESS_FIXED_SIZE + absent.length * MEMBER_ENTRY_SIZE + proof.length * 32)
  const view = new DataView(out.buffer)
  out.set(head, 0)
  let at = head.length
  view.setUint8(at, WITNESS_VERSION)
  view.setUint32(at + 1, options.recordIndex)
  out.set(signatureCoordinates(decodeSignature(certificate.signature)).subarray(2 * FP_SIZE), at + 5)
  out.set(tree.summaryBytes, at + 5 + 2 * FP_SIZE)
  at += WITNESS_FIXED_SIZE
  for (const i of absent) {
    out.set(tree.entries[i]!, at)
    at += MEMBER_ENTRY_SIZE
  }
  for (const hash of proof) {
    out.set(hash, at)
    at += HASH_SIZE
  }
  return out
}

/** Decodes exactly one on-chain form: the strict certificate decoder, then every witness length exactly. */
export function decodeOnchainCertificate(bytes: Uint8Array): OnchainCertificate {
  return parseOnchainCertificate(bytes, true)
}

/**
 * With `exactProof` false, the proof part only has to be whole 32-byte hashes (none when every member signed),
 * as the contract's step 1 checks it; how many the walk needs is left to step 5.
 */
function parseOnchainCertificate(bytes: Uint8Array, exactProof: boolean): OnchainCertificate {
  const bad = (why: string, cause?: unknown) =>
    chainError(
      ChainErrorCode.MALFORMED_ONCHAIN_CERTIFICATE,
      `on-chain certificate ${why}`,
      { length: bytes?.length },
      { cause },
    )
  if (!(bytes instanceof Uint8Array)) throw bad('must be a Uint8Array')
  if (bytes.length < CERTIFICATE_FIXED_SIZE) throw bad(`has ${bytes.length} bytes, fewer than a certificate`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const memberCount = view.getUint32(CERTIFICATE_FIXED_SIZE - 4)
  if (memberCount < 1 || memberCount > MAX_MEMBERS) {
    throw bad(`member count ${memberCount} is outside 1..${MAX_MEMBERS}`)
  }
  const certificateSize = CERTIFICATE_FIXED_SIZE + bitmapSize(memberCount)
  if (bytes.length < certificateSize + WITNESS_FIXED_SIZE) throw bad(`has ${bytes.length} bytes, too few for a witness`)
  let certificate: Certificate
  try {
    certificate = decodeCertificate(bytes.subarray(0, certificateSize))
  } catch (err) {
    throw bad(`certificate: ${(err as Error).message}`, err)
  }
  const absent = nonSignerIndices(certificate.signers, memberCount)
  const entries = certificateSize + WITNESS_FIXED_SIZE
  const hashes = entries + absent.length * MEMBER_ENTRY_SIZE
  const rest = bytes.length - hashes
  const proofSize = exactProof ? multiproofSize(memberCount, absent) : Math.floor(rest / HASH_SIZE)
  if (rest < 0 || rest !== proofSize * HASH_SIZE || (absent.length === 0 && rest !== 0)) {
    const needed = exactProof ? `exactly ${proofSize} proof hashes` : 'whole proof hashes'
    throw bad(`has ${bytes.length} bytes; ${absent.length} non-signers and ${needed} do not fit`)
  }
  const version = view.getUint8(certificateSize)
  if (version !== WITNESS_VERSION) throw bad(`witness version ${version} is not ${WITNESS_VERSION}`)
  const recordIndex = view.getUint32(certificateSize + 1)
  const signatureY = bytes.slice(certificateSize + 5, certificateSize + 5 + 2 * FP_SIZE)
  const summary = decodeCommitteeSummary(bytes.subarray(certificateSize + 5 + 2 * FP_SIZE, entries))
  const nonSigners = absent.map((index, j): NonSigner => {
    const entry = bytes.subarray(entries + j * MEMBER_ENTRY_SIZE, entries + (j + 1) * MEMBER_ENTRY_SIZE)
    return {
      index,
      x: entry.slice(0, FP_SIZE),
      y: entry.slice(FP_SIZE, 2 * FP_SIZE),
      stake: uintFromBytes(entry.subarray(2 * FP_SIZE)),
    }
  })
  const proof = Array.from({ length: proofSize }, (_, j) =>
    bytes.slice(hashes + j * HASH_SIZE, hashes + (j + 1) * HASH_SIZE),
  )
  return { certificate, witness: { version, recordIndex, signatureY, summary, nonSigners, proof } }
}

/**
 * The contract's verification steps 1–7 (§4.5), in its order, returning the first failure's reason.
 * `committee` stands for what the registry holds for the record: its network, the epoch the record covers
 * (the committee's own), and its summary. A summary hash that is not the committee's is a caller's mistake
 * and throws CHAIN_COMMITTEE_MISMATCH. Unlike `decodeOnchainCertificate`, a proof with whole hashes too many
 * or too few is the walk's failure (6), not a length's (1), as on-chain.
 */
export function checkOnchainCertificate(
  bytes: Uint8Array,
  committee: Committee,
  options: OnchainCheckOptions,
): OnchainCheckReason {
  checkRecordIndex(options.recordIndex)
  const own = committeeTree(committee).summaryHash
  if (options.summaryHash !== undefined && !bytesEqual(options.summaryHash, own)) {
    throw chainError(ChainErrorCode.COMMITTEE_MISMATCH, 'the summary hash given is not the committee summary hash')
  }
  let form: OnchainCertificate
  try {
    form = parseOnchainCertificate(bytes, false)
  } catch (err) {
    if (isDacnetError(err, ChainErrorCode.MALFORMED_ONCHAIN_CERTIFICATE)) return OnchainCheckReason.MALFORMED
    throw err
  }
  const { certificate, witness } = form
  const { header } = certificate
  const { summary, nonSigners } = witness
  if (header.networkId !== committee.networkId) return OnchainCheckReason.WRONG_NETWORK
  if (options.currentEpoch !== undefined && certificate.epoch > options.currentEpoch) {
    return OnchainCheckReason.UNKNOWN_EPOCH
  }
  if (witness.recordIndex !== options.recordIndex || certificate.epoch !== committee.epoch) {
    return OnchainCheckReason.UNKNOWN_EPOCH
  }
  if (!bytesEqual(summaryHash(encodeCommitteeSummary(summary)), own)) return OnchainCheckReason.SUMMARY_MISMATCH
  if (certificate.memberCount !== summary.memberCount || !isSafeEncoding(summary, header.k, header.n)) {
    return OnchainCheckReason.MEMBER_COUNT_OR_ENCODING
  }
  if (nonSigners.length === certificate.memberCount) return OnchainCheckReason.STAKE
  if (nonSigners.length > 0) {
    const known = nonSigners.map((n) => ({ index: n.index, leaf: memberLeaf(n.x, n.y, n.stake) }))
    if (!verifyMultiproof(summary.membersRoot, summary.memberCount, known, witness.proof)) {
      return OnchainCheckReason.MEMBERS_ROOT
    }
  }
  const absentStake = nonSigners.reduce((sum, n) => sum + n.stake, 0n)
  if (absentStake > summary.totalStake) return OnchainCheckReason.STAKE
  const signedStake = summary.totalStake - absentStake
  if (certificate.signedStake !== signedStake || !reaches(signedStake, summary.totalStake, summary.threshold)) {
    return OnchainCheckReason.STAKE
  }
  const signature = signatureWithY(certificate.signature, witness.signatureY)
  if (signature === undefined) return OnchainCheckReason.SIGNATURE
  // The contract adds the summary's aggregate and each non-signer's (x, p − y). Those bytes are now proven to
  // be the committee's (summary hash, members root), so the committee's cached keys give the same sum.
  const signersKey = aggregateSigners(committeeKeys(committee), certificateSigners(certificate))
  const message = attestationMessage({
    networkId: header.networkId,
    epoch: certificate.epoch,
    blobId: certificateBlobId(certificate).bytes,
  })
  return verify(message, signersKey, signature) ? OnchainCheckReason.VALID : OnchainCheckReason.SIGNATURE
}

/**
 * Step 7's encoding: flags (compressed, not infinity), x.c1 and x.c0 below p, the witness y below p with the
 * sign flag's sign, and (x, y) the signature's point, on the curve and in the subgroup as the pairing
 * precompile requires.
 */
function signatureWithY(compressed: Uint8Array, y: Uint8Array): Signature | undefined {
  const flags = compressed[0]!
  if ((flags & COMPRESSED_FLAG) === 0 || (flags & INFINITY_FLAG) !== 0) return undefined
  const yc1 = uintFromBytes(y.subarray(0, FP_SIZE))
  const yc0 = uintFromBytes(y.subarray(FP_SIZE))
  const below = [compressedX(compressed), uintFromBytes(compressed.subarray(FP_SIZE, SIGNATURE_SIZE)), yc1, yc0]
  if (below.some((v) => v >= P)) return undefined
  if (fp2IsPositive(yc0, yc1) !== compressedSign(compressed)) return undefined
  let signature: Signature
  try {
    signature = decodeSignature(compressed)
  } catch (err) {
    if (isDacnetError(err)) return undefined
    throw err
  }
  return bytesEqual(signatureCoordinates(signature).subarray(2 * FP_SIZE), y) ? signature : undefined
}

/** Member indices whose bits are clear among the bitmap's first m bits, ascending. */
export function nonSignerIndices(bitmap: Uint8Array, memberCount: number): number[] {
  const absent: number[] = []
  for (let i = 0; i < memberCount; i++) if (((bitmap[i >> 3]! >> (i & 7)) & 1) === 0) absent.push(i)
  return absent
}

function checkRecordIndex(recordIndex: number): void {
  if (!Number.isInteger(recordIndex) || recordIndex < 0 || recordIndex > 0xffff_ffff) {
    throw chainError(ChainErrorCode.INVALID_OPTIONS, `record index ${recordIndex} is not a u32`)
  }
}
