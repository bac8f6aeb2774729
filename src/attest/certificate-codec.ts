import { fromHex, toHex } from '../committee/hex.ts'
import { MAX_MEMBERS } from '../committee/validate.ts'
import { parseBlobId } from '../erasure/blob-id.ts'
import { decodeHeader, encodeHeader, HEADER_SIZE } from '../erasure/header.ts'
import { SIGNATURE_SIZE } from './bls.ts'
import { type Certificate, certificateBlobId, checkCertificateShape } from './certificate.ts'
import { AttestErrorCode, attestError } from './errors.ts'
import { bitmapSize } from './signer-bitmap.ts'

/**
 * Version-1 binary layout, integers big-endian:
 *
 *   offset size  field
 *   0      1     version (= 1)
 *   1      8     epoch           u64
 *   9      65    blob header     (erasure/header.ts, version 1)
 *   74     32    signedStake     u256
 *   106    96    signature       compressed G2
 *   202    4     memberCount     u32
 *   206    B     signer bitmap   B = ceil(memberCount / 8)
 */
export const CERTIFICATE_FIXED_SIZE = 1 + 8 + HEADER_SIZE + 32 + SIGNATURE_SIZE + 4
/** The largest certificate: a bitmap over MAX_MEMBERS. Receivers check a length against it before decoding. */
export const MAX_CERTIFICATE_SIZE = CERTIFICATE_FIXED_SIZE + bitmapSize(MAX_MEMBERS)

const OFFSET_HEADER = 9
const OFFSET_STAKE = OFFSET_HEADER + HEADER_SIZE
const OFFSET_SIGNATURE = OFFSET_STAKE + 32
const OFFSET_MEMBERS = OFFSET_SIGNATURE + SIGNATURE_SIZE

export function encodeCertificate(certificate: Certificate): Uint8Array {
  checkCertificateShape(certificate)
  const out = new Uint8Array(CERTIFICATE_FIXED_SIZE + certificate.signers.length)
  const view = new DataView(out.buffer)
  view.setUint8(0, certificate.version)
  view.setBigUint64(1, BigInt(certificate.epoch))
  out.set(encodeHeader(certificate.header), OFFSET_HEADER)
  for (let word = 0; word < 4; word++) {
    view.setBigUint64(
      OFFSET_STAKE + 8 * word,
      (certificate.signedStake >> BigInt(64 * (3 - word))) & 0xffff_ffff_ffff_ffffn,
    )
  }
  out.set(certificate.signature, OFFSET_SIGNATURE)
  view.setUint32(OFFSET_MEMBERS, certificate.memberCount)
  out.set(certificate.signers, CERTIFICATE_FIXED_SIZE)
  return out
}

/** Decodes exactly one canonical certificate: wrong lengths, trailing bytes and set padding bits are refused. */
export function decodeCertificate(bytes: Uint8Array): Certificate {
  const bad = (why: string, cause?: unknown) =>
    attestError(AttestErrorCode.MALFORMED_CERTIFICATE, `certificate ${why}`, { length: bytes?.length }, { cause })
  if (!(bytes instanceof Uint8Array)) throw bad('must be a Uint8Array')
  if (bytes.length < CERTIFICATE_FIXED_SIZE)
    throw bad(`has ${bytes.length} bytes, fewer than ${CERTIFICATE_FIXED_SIZE}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const memberCount = view.getUint32(OFFSET_MEMBERS)
  if (memberCount < 1 || memberCount > MAX_MEMBERS)
    throw bad(`member count ${memberCount} is outside 1..${MAX_MEMBERS}`)
  const expected = CERTIFICATE_FIXED_SIZE + bitmapSize(memberCount)
  if (bytes.length !== expected) throw bad(`has ${bytes.length} bytes, ${memberCount} members need exactly ${expected}`)
  const epoch = view.getBigUint64(1)
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('epoch is above 2^53 - 1')
  let header: Certificate['header']
  try {
    header = decodeHeader(bytes.subarray(OFFSET_HEADER, OFFSET_STAKE))
  } catch (err) {
    throw bad(`header is invalid: ${(err as Error).message}`, err)
  }
  let signedStake = 0n
  for (let word = 0; word < 4; word++) signedStake = (signedStake << 64n) | view.getBigUint64(OFFSET_STAKE + 8 * word)
  const certificate: Certificate = {
    version: view.getUint8(0),
    epoch: Number(epoch),
    header,
    memberCount,
    // Copies of the caller's bytes (a Buffer's slice would be a view): a certificate checked stays as checked.
    signers: new Uint8Array(bytes.subarray(CERTIFICATE_FIXED_SIZE)),
    signature: new Uint8Array(bytes.subarray(OFFSET_SIGNATURE, OFFSET_MEMBERS)),
    signedStake,
  }
  checkCertificateShape(certificate)
  return certificate
}

/** The JSON form: the same fields, bytes as 0x hex, stake as a decimal string, plus the blob id for readers. */
export interface CertificateJson {
  version: number
  epoch: number
  /** Derived from the header; checked on parse. */
  blobId: string
  header: string
  memberCount: number
  signers: string
  signedStake: string
  signature: string
}

export function certificateToJson(certificate: Certificate): CertificateJson {
  checkCertificateShape(certificate)
  return {
    version: certificate.version,
    epoch: certificate.epoch,
    blobId: certificateBlobId(certificate).toString(),
    header: toHex(encodeHeader(certificate.header)),
    memberCount: certificate.memberCount,
    signers: toHex(certificate.signers),
    signedStake: certificate.signedStake.toString(),
    signature: toHex(certificate.signature),
  }
}

const JSON_FIELDS = ['version', 'epoch', 'blobId', 'header', 'memberCount', 'signers', 'signedStake', 'signature']

export function certificateFromJson(json: unknown): Certificate {
  const bad = (why: string, cause?: unknown) =>
    attestError(AttestErrorCode.MALFORMED_CERTIFICATE, `certificate JSON ${why}`, {}, { cause })
  let value = json
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json)
    } catch (err) {
      throw bad('does not parse', err)
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('must be an object')
  const o = value as Record<string, unknown>
  for (const key of Object.keys(o)) if (!JSON_FIELDS.includes(key)) throw bad(`has unknown field "${key}"`)
  for (const key of JSON_FIELDS) if (o[key] === undefined) throw bad(`lacks "${key}"`)
  const headerBytes = fromHex(o['header'], HEADER_SIZE)
  const signers = fromHex(o['signers'])
  const signature = fromHex(o['signature'], SIGNATURE_SIZE)
  if (!headerBytes || !signers || !signature) throw bad('has a bytes field that is not hex of the right length')
  if (typeof o['signedStake'] !== 'string' || !/^\d{1,78}$/.test(o['signedStake'])) {
    throw bad('signedStake must be a decimal string')
  }
  let header: Certificate['header']
  try {
    header = decodeHeader(headerBytes)
  } catch (err) {
    throw bad(`header is invalid: ${(err as Error).message}`, err)
  }
  const certificate: Certificate = {
    version: o['version'] as number,
    epoch: o['epoch'] as number,
    header,
    memberCount: o['memberCount'] as number,
    signers,
    signature,
    signedStake: BigInt(o['signedStake']),
  }
  checkCertificateShape(certificate)
  let blobId: string
  try {
    blobId = parseBlobId(o['blobId'] as string).toString()
  } catch (err) {
    throw bad('blobId is not a blob id', err)
  }
  if (blobId !== certificateBlobId(certificate).toString()) throw bad('blobId does not match its header')
  return certificate
}
