import { resolve } from 'node:path'
import type { Certificate } from '../../attest/certificate.ts'
import { certificateFromJson, MAX_CERTIFICATE_SIZE } from '../../attest/certificate-codec.ts'
import { type BlobId, parseBlobId } from '../../erasure/blob-id.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, readJsonFile } from '../files.ts'

/** A certificate's JSON is hex of its binary layout plus a few fields: about twice the binary size. */
const MAX_CERTIFICATE_JSON_BYTES = 2 * MAX_CERTIFICATE_SIZE + 4096

/** Reads a certificate JSON file (as `disperse` writes it); its blob id must match its header. */
export async function readCertificateFile(path: string): Promise<Certificate> {
  return certificateFromJson(await readJsonFile(path, 'certificate file', MAX_CERTIFICATE_JSON_BYTES))
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
