import type { Command } from 'commander'
import { addBootstrapOption, addCommitteeOption, type CommitteeOptions } from '../client/options.ts'
import type { CommandContext } from '../context.ts'
import { integer, probability, url } from '../parsers.ts'

interface SampleOptions extends CommitteeOptions {
  bootstrap?: string[]
  api?: string
  confidence?: number
  maxSamples?: number
  json?: boolean
}

export function registerSample(program: Command, ctx: CommandContext): void {
  const command = program
    .command('sample')
    .summary('sample a certified blob: how sure is it available?')
    .description(
      'verify a certificate and sample random shards from their holders, checking each against the commitment; prints the confidence that the blob is available and fails (exit 1) below the target',
    )
    .argument('<cert|blobId>', 'certificate JSON file, or a blob id together with --api')
    .option('--api <url>', "with a blob id: fetch the certificate from this node's API (GET /v1/blobs/:id)", url)
    .option('--confidence <p>', 'target confidence, in (0, 1) (default: 0.999999)', probability)
    .option('--max-samples <n>', 'samples at most (default: 256)', integer(1, 100_000))
    .option('--json', 'print the result as JSON')
  addCommitteeOption(command)
  addBootstrapOption(command)
  command.action(async (target: string, opts: SampleOptions) => {
    const { sampleBlob } = await import('../client/sample.ts')
    const { committeeChoice } = await import('../client/source.ts')
    await sampleBlob(ctx, {
      target,
      committees: committeeChoice(ctx.io, opts),
      bootstrap: opts.bootstrap,
      api: opts.api,
      confidence: opts.confidence,
      maxSamples: opts.maxSamples,
      json: opts.json === true,
    })
  })
}
