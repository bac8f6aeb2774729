import type { Certificate } from '../../attest/certificate.ts'
import { certificateFromJson } from '../../attest/certificate-codec.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { toJson } from '../files.ts'
import { formatConfidence, formatMs } from '../format.ts'
import { formatBytes } from '../size.ts'
import { getJson } from './api.ts'
import { certificateOrBlobId } from './certificate-input.ts'
import { needsDht, startClient } from './connect.ts'
import { type ClientCommittees, type CommitteeChoice, openCommitteeSource } from './source.ts'

export interface SampleBlobOptions {
  target: string
  committees: CommitteeChoice
  bootstrap?: string[] | undefined
  api?: string | undefined
  confidence?: number | undefined
  maxSamples?: number | undefined
  json: boolean
}

/** `dacnet sample`: a certificate (from a file, or from a node API for a blob id), then a LightClient run. */
export async function sampleBlob(ctx: CommandContext, opts: SampleBlobOptions): Promise<void> {
  const input = await certificateOrBlobId(opts.target, ctx.io.cwd)
  const committees = await openCommitteeSource(opts.committees)
  try {
    const certificate =
      input.kind === 'certificate' ? input.certificate : await certificateFromApi(input.blobId.toString(), opts.api)
    await sampleWith(ctx, opts, certificate, committees)
  } finally {
    await committees.stop()
  }
}

async function sampleWith(
  ctx: CommandContext,
  opts: SampleBlobOptions,
  certificate: Certificate,
  committees: ClientCommittees,
): Promise<void> {
  const client = await startClient(committees.source, {
    bootstrap: opts.bootstrap,
    gossip: false,
    dht: await needsDht(committees.source, certificate),
  })
  try {
    const result = await ctx.interruptible((signal) =>
      client.lightClient.sample(certificate, {
        signal,
        ...(opts.confidence !== undefined ? { confidence: opts.confidence } : {}),
        ...(opts.maxSamples !== undefined ? { maxSamples: opts.maxSamples } : {}),
      }),
    )
    if (opts.json) ctx.io.out(`${toJson(result)}\n`)
    else {
      ctx.io.out(
        `${result.blobId}: ${result.available ? 'available' : 'NOT shown available'}, confidence ${formatConfidence(result.confidence)} (${result.successes}/${result.samples} samples ok, ${result.distinctSuccesses} distinct shards, ${formatBytes(result.bytes)} downloaded, ${formatMs(result.ms)})\n`,
      )
      for (const f of result.failures.slice(0, 10)) {
        ctx.note(`  shard ${f.index} from member ${f.member} (${f.peerId}): ${f.code}: ${f.reason}`)
      }
      if (result.failures.length > 10) ctx.note(`  … and ${result.failures.length - 10} more failed samples`)
      if (result.unanswered.length > 0) {
        const members = [...new Set(result.unanswered.map((u) => u.member))].join(', ')
        ctx.note(
          `  ${result.unanswered.length} counted samples unanswered when the check concluded (members ${members})`,
        )
      }
    }
    if (!result.available) {
      throw cliError(
        CliErrorCode.NOT_AVAILABLE,
        `sampling reached confidence ${formatConfidence(result.confidence)}, below the target`,
      )
    }
  } finally {
    await client.stop()
  }
}

async function certificateFromApi(blobId: string, api: string | undefined): Promise<Certificate> {
  if (!api) {
    throw cliError(CliErrorCode.NEEDS_CERTIFICATE, `sampling ${blobId} needs its certificate (the header and signers)`)
  }
  const body = (await getJson(api, `/v1/blobs/${encodeURIComponent(blobId)}`)) as { certificate?: unknown }
  if (body.certificate === null || body.certificate === undefined) {
    throw cliError(CliErrorCode.NEEDS_CERTIFICATE, `the node at ${api} holds ${blobId} but has no certificate for it`, {
      hint: 'pass the certificate file, or ask another node (certificates arrive by gossip)',
    })
  }
  return certificateFromJson(body.certificate)
}
