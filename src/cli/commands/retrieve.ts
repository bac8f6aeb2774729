import { resolve, sep } from 'node:path'
import type { Command } from 'commander'
import { addBootstrapOption, addCommitteeOption, type CommitteeOptions } from '../client/options.ts'
import type { CommandContext } from '../context.ts'
import { size } from '../parsers.ts'

interface RetrieveOptions extends CommitteeOptions {
  out: string
  bootstrap?: string[]
  json?: boolean
  maxBlobSize?: number
}

export function registerRetrieve(program: Command, ctx: CommandContext): void {
  const command = program
    .command('retrieve')
    .summary('get a blob back from its shards')
    .description(
      'get a blob back from any k of its shards and write it to a file; a blob encoded inconsistently gives the BadEncoding verdict instead, with its evidence written to FILE.bad-encoding (exit 1)',
    )
    .argument('<blobId|cert>', 'blob id (holders found through the DHT) or certificate JSON file (verified first)')
    .requiredOption(
      '-o, --out <file|dir>',
      'where to write the blob: a file, an existing directory (the blob goes to DIR/<blobId>), or "-" for stdout',
    )
    .option('--json', 'print the summary as JSON')
    .option(
      '--max-blob-size <size>',
      'with a blob id: refuse a header announcing a larger blob before reading any shard (default: 32MiB)',
      size,
    )
  addCommitteeOption(command)
  addBootstrapOption(command)
  command.action(async (target: string, opts: RetrieveOptions) => {
    const { retrieveBlob } = await import('../client/retrieve.ts')
    const { committeeChoice } = await import('../client/source.ts')
    await retrieveBlob(ctx, {
      target,
      out: opts.out === '-' ? '-' : outPath(ctx.io.cwd, opts.out),
      committees: committeeChoice(ctx.io, opts),
      bootstrap: opts.bootstrap,
      json: opts.json === true,
      maxBlobSize: opts.maxBlobSize,
    })
  })
}

/** The output path, absolute; a trailing separator (`-o blobs/`) is kept: it says a directory is meant. */
function outPath(cwd: string, given: string): string {
  const path = resolve(cwd, given)
  return /[\\/]$/.test(given) && !path.endsWith(sep) ? `${path}${sep}` : path
}
