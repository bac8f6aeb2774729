import { resolve } from 'node:path'
import type { Certificate } from '../../attest/certificate.ts'
import { certificateFromJson, decodeCertificate, MAX_CERTIFICATE_SIZE } from '../../attest/certificate-codec.ts'
import { type BlobId, parseBlobId } from '../../erasure/blob-id.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, readFileChecked } from '../files.ts'

/** The first byte of a binary certificate (its version); JSON starts with `{` or a blank. */
const BINARY_CERTIFICATE_VERSION = 1
/** A certificate's JSON is hex of its binary layout plus a few fields: about twice the binary size. */
const MAX_CERTIFICATE_JSON_BYTES = 2 * MAX_CERTIFICATE_SIZE + 4096

/**
 * Reads a certificate file: the JSON `disperse` writes (its blob id must match its header), or the binary layout
 * of PROTOCOL.md §2.7 (a certificate as gossip carries it), told apart by the binary form's first byte, 0x01.
 */
export async function readCertificateFile(path: string): Promise<Certificate> {
  return parseCertificateBytes(await readFileChecked(path, 'certificate file', MAX_CERTIFICATE_JSON_BYTES), path)
}

export function parseCertificateBytes(bytes: Uint8Array, path: string): Certificate {
  if (bytes[0] === BINARY_CERTIFICATE_VERSION) return decodeCertificate(bytes)
  const text = Buffer.from(bytes).toString('utf8')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw cliError(
      CliErrorCode.READ_FAILED,
      `certificate file ${path} is neither JSON nor a binary certificate: ${(err as Error).message}`,
      { path },
    )
  }
  return certificateFromJson(json)
}

export type CertificateOrBlobId =
  | { kind: 'certificate'; certificate: Certificate; path: string }
  | { kind: 'blob-id'; blobId: BlobId }

/**
 * A CERT|BLOBID argument: an existing file is a certificate; otherwise it must be a blob id. Anything
 * else is reported as a missing file when it looks like a path, and as a bad blob id otherwise.
 */
export async function certificateOrBlobId(arg: string, cwd: string): Promise<CertificateOrBlobId> {
  const path = resolve(cwd, arg)
  if (await pathExists(path)) return { kind: 'certificate', certificate: await readCertificateFile(path), path }
  if (/[/\\.]/.test(arg)) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `certificate file ${path} does not exist`, {
      hint: 'pass a certificate JSON file (as `dacnet disperse` writes it) or a blob id (bafkrei...)',
    })
  }
  return { kind: 'blob-id', blobId: parseBlobId(arg) }
}
