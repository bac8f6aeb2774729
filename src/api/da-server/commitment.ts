import type { Certificate } from '../../attest/certificate.ts'
import { decodeCertificate, encodeCertificate, MAX_CERTIFICATE_SIZE } from '../../attest/certificate-codec.ts'
import { isDacnetError } from '../../errors.ts'
import { DaServerErrorCode, daServerError } from './errors.ts'

/**
 * The OP Stack Alt-DA commitment dacnet's DA server makes and reads (PROTOCOL.md "Alt-DA commitment"):
 *
 *   offset size  field
 *   0      1     commitment type      = 0x01 (`da-service`, the generic commitment)
 *   1      1     DA-layer byte        = 0x64 (ASCII "d", dacnet)
 *   2      1     payload version      = 0x01
 *   3      C     certificate          binary layout of PROTOCOL.md §2.7, C = 206 + ceil(members / 8)
 *
 * The certificate is everything needed to find and check the blob: its header names the epoch, (k, n), the
 * size and the Merkle root the blob id is made from, and its signers and signature make it checkable against
 * the committee of that epoch. In a batcher transaction the commitment follows the derivation version byte 0x01.
 */

/** Alt-DA commitment type 1: `da-service` (op-alt-da's GenericCommitmentType). Type 0 is keccak256. */
export const DA_SERVICE_COMMITMENT_TYPE = 0x01
/** Alt-DA commitment type 0: keccak256 of the input, for servers that store by hash. Not made here. */
export const KECCAK_COMMITMENT_TYPE = 0x00
/**
 * dacnet's DA-layer byte: ASCII "d". The spec keeps [0, 127) for DA layers to share by agreement; 0x00 is
 * EigenDA's, 0x0a Avail's, 0x0c Celestia's, and the small numbers are where newcomers look first.
 */
export const DACNET_DA_LAYER_BYTE = 0x64
/** The layout of what follows the DA-layer byte; a new layout gets a new version. */
export const DACNET_PAYLOAD_VERSION = 0x01
/** Type byte, DA-layer byte, payload version. */
export const COMMITMENT_PREFIX_SIZE = 3
/** The largest commitment: a certificate with a bitmap over the most members a committee may have. */
export const MAX_COMMITMENT_SIZE = COMMITMENT_PREFIX_SIZE + MAX_CERTIFICATE_SIZE
/** The longest commitment as it appears in a path: `0x` and two hex digits per byte. */
export const MAX_COMMITMENT_HEX_LENGTH = 2 + 2 * MAX_COMMITMENT_SIZE

export function encodeCommitment(certificate: Certificate): Uint8Array {
  const cert = encodeCertificate(certificate)
  const out = new Uint8Array(COMMITMENT_PREFIX_SIZE + cert.length)
  out[0] = DA_SERVICE_COMMITMENT_TYPE
  out[1] = DACNET_DA_LAYER_BYTE
  out[2] = DACNET_PAYLOAD_VERSION
  out.set(cert, COMMITMENT_PREFIX_SIZE)
  return out
}

/**
 * The certificate a commitment carries. A commitment of another kind (keccak256, another DA layer) is
 * API_DA_UNSUPPORTED_COMMITMENT; anything else that is not exactly the layout above, trailing bytes included,
 * is API_DA_MALFORMED_COMMITMENT.
 */
export function decodeCommitment(bytes: Uint8Array): Certificate {
  if (bytes.length === 0) throw malformed('the commitment is empty')
  const type = bytes[0]!
  if (type === KECCAK_COMMITMENT_TYPE) {
    throw daServerError(
      DaServerErrorCode.UNSUPPORTED_COMMITMENT,
      'a keccak256 commitment (type 0): this server makes da-service commitments (type 1); configure the rollup with the generic commitment type',
      { commitmentType: type },
    )
  }
  if (type !== DA_SERVICE_COMMITMENT_TYPE) {
    throw malformed(`commitment type 0x${hexByte(type)} is not an Alt-DA commitment type (0 or 1)`)
  }
  if (bytes.length < 2) throw malformed('the commitment ends after its type byte')
  const layer = bytes[1]!
  if (layer !== DACNET_DA_LAYER_BYTE) {
    throw daServerError(
      DaServerErrorCode.UNSUPPORTED_COMMITMENT,
      `DA-layer byte 0x${hexByte(layer)} is not dacnet's (0x${hexByte(DACNET_DA_LAYER_BYTE)})`,
      { daLayer: layer },
    )
  }
  if (bytes.length < COMMITMENT_PREFIX_SIZE) throw malformed('the commitment ends after its DA-layer byte')
  const version = bytes[2]!
  if (version !== DACNET_PAYLOAD_VERSION) {
    throw malformed(`dacnet payload version ${version} is not ${DACNET_PAYLOAD_VERSION}`)
  }
  if (bytes.length > MAX_COMMITMENT_SIZE) {
    throw malformed(`the commitment has ${bytes.length} bytes, more than the largest (${MAX_COMMITMENT_SIZE})`)
  }
  try {
    return decodeCertificate(bytes.subarray(COMMITMENT_PREFIX_SIZE))
  } catch (err) {
    if (!isDacnetError(err)) throw err
    throw malformed(`its certificate does not decode: ${err.message}`)
  }
}

/**
 * The commitment of a `/get/<commitment>` path segment: `0x` (or `0X`) and an even number of hex digits, as
 * op-alt-da's client writes it (`0x%x` of the encoded commitment, type byte included). Checked for length
 * before anything is decoded.
 */
export function parseCommitmentHex(text: string): Uint8Array {
  if (!/^0[xX]/.test(text)) throw malformed('the commitment must be written 0x followed by hex digits')
  const digits = text.slice(2)
  if (digits.length > 2 * MAX_COMMITMENT_SIZE) {
    throw malformed(`the commitment is longer than the largest (${MAX_COMMITMENT_SIZE} bytes)`)
  }
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    throw malformed('the commitment is not an even number of hex digits')
  }
  return new Uint8Array(Buffer.from(digits, 'hex'))
}

function malformed(message: string) {
  return daServerError(DaServerErrorCode.MALFORMED_COMMITMENT, message)
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, '0')
}
