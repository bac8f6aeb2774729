import { stat } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { certificateBlobId } from '../../attest/certificate.ts'
import { encodeEvidence } from '../../erasure/evidence.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { checkOutputDir, toJson, writeFileAtomic } from '../files.ts'
import { formatMs } from '../format.ts'
import { formatBytes } from '../size.ts'
import { type CertificateOrBlobId, certificateOrBlobId } from './certificate-input.ts'
import { needsDht, startClient } from './connect.ts'
import { type ClientCommittees, type CommitteeChoice, openCommitteeSource } from './source.ts'

export interface RetrieveBlobOptions {
  target: string
  /**
   * A file, "-" for stdout, or an existing directory (the blob goes to DIR/<blobId>); a path ending in a separator
   * must be an existing directory.
   */
  out: string
  committees: CommitteeChoice
  bootstrap?: string[] | undefined
  json: boolean
  /** With a bare blob id: the largest blob a holder's header may announce. Default DEFAULT_MAX_BLOB_SIZE. */
  maxBlobSize?: number | undefined
}

/** Suffix of the file that receives BadEncoding evidence, next to the requested output. */
export const BAD_ENCODING_SUFFIX = '.bad-encoding'

export async function retrieveBlob(ctx: CommandContext, opts: RetrieveBlobOptions): Promise<void> {
  const input = await certificateOrBlobId(opts.target, ctx.io.cwd)
  // Where the blob goes is settled before anything is downloaded.
  const out = opts.out === '-' ? '-' : await outputFile(opts.out, blobIdOfInput(input))
  const committees = await openCommitteeSource(opts.committees)
  try {
    await retrieveWith(ctx, { ...opts, out }, input, committees)
  } finally {
    await committees.stop()
  }
}

async function retrieveWith(
  ctx: CommandContext,
  opts: RetrieveBlobOptions,
  input: CertificateOrBlobId,
  committees: ClientCommittees,
): Promise<void> {
  const client = await startClient(committees.source, {
    bootstrap: opts.bootstrap,
    maxBlobSize: opts.maxBlobSize,
    gossip: false,
    dht: await needsDht(committees.source, input.kind === 'certificate' ? input.certificate : undefined),
    warmPool: true,
  })
  const { retriever } = client
  const started = performance.now()
  try {
    const result = await ctx.interruptible((signal) =>
      retriever.retrieve(input.kind === 'certificate' ? input.certificate : input.blobId, { signal }),
    )
    const ms = performance.now() - started
    if (result.kind === 'bad-encoding') {
      const evidencePath =
        opts.out === '-'
          ? resolve(ctx.io.cwd, `${result.blobId}${BAD_ENCODING_SUFFIX}`)
          : `${opts.out}${BAD_ENCODING_SUFFIX}`
      await writeFileAtomic(evidencePath, encodeEvidence(result.header, result.evidence))
      throw cliError(
        CliErrorCode.BAD_ENCODING,
        `${result.blobId} is badly encoded (${result.reason}); evidence written to ${evidencePath}`,
        { blobId: result.blobId, reason: result.reason, evidence: evidencePath },
      )
    }
    const summary = { blobId: result.blobId, size: result.data.length, holders: result.holders, ms, out: opts.out }
    if (opts.out === '-') ctx.io.out(result.data)
    else await writeFileAtomic(opts.out, result.data)
    const line = `retrieved ${result.blobId}: ${formatBytes(result.data.length)} from ${result.holders.length} holder(s) in ${formatMs(ms)}${opts.out === '-' ? '' : ` -> ${opts.out}`}`
    // With the blob on stdout, the summary must not mix into it.
    if (opts.json && opts.out !== '-') ctx.io.out(`${toJson(summary)}\n`)
    else if (opts.out === '-') ctx.note(line)
    else ctx.io.out(`${line}\n`)
  } finally {
    await client.stop()
  }
}

function blobIdOfInput(input: CertificateOrBlobId): string {
  return (input.kind === 'certificate' ? certificateBlobId(input.certificate) : input.blobId).toString()
}

/**
 * The file a retrieved blob is written to: `out` itself, or `out/<blobId>` when `out` is an existing directory.
 * A path ending in a separator that is not an existing directory, or a file in a directory that does not exist,
 * is refused (CLI_FILE_NOT_FOUND) before any download.
 */
export async function outputFile(out: string, blobId: string): Promise<string> {
  const isDir = await stat(out).then(
    (s) => s.isDirectory(),
    () => false,
  )
  if (isDir) return join(out, blobId)
  if (out.endsWith(sep) || out.endsWith('/')) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `output directory ${out} does not exist`, {
      path: out,
      hint: 'create the directory first, or name a file to write the blob to',
    })
  }
  await checkOutputDir(out)
  return out
}
