import { resolve } from 'node:path'
import { encodeEvidence } from '../../erasure/evidence.ts'
import { Retriever } from '../../node/retriever.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { checkOutputDir, toJson, writeFileAtomic } from '../files.ts'
import { formatMs } from '../format.ts'
import { formatBytes } from '../size.ts'
import { type CertificateOrBlobId, certificateOrBlobId } from './certificate-input.ts'
import { startClientNode } from './connect.ts'
import { type ClientCommittees, type CommitteeChoice, openCommitteeSource } from './source.ts'

export interface RetrieveBlobOptions {
  target: string
  /** A path, or "-" for stdout. */
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
  if (opts.out !== '-') await checkOutputDir(opts.out)
  const input = await certificateOrBlobId(opts.target, ctx.io.cwd)
  const committees = await openCommitteeSource(opts.committees)
  try {
    await retrieveWith(ctx, opts, input, committees)
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
  const client = await startClientNode({ members: await committees.memberAddresses(), bootstrap: opts.bootstrap })
  const retriever = new Retriever({
    libp2p: client.libp2p,
    committees: committees.source,
    ...(opts.maxBlobSize === undefined ? {} : { maxBlobSize: opts.maxBlobSize }),
  })
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
    await retriever.close()
    await client.stop()
  }
}
