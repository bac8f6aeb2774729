import { resolve } from 'node:path'
import type { Command } from 'commander'
import { addBootstrapOption, addCommitteeOption, type CommitteeOptions } from '../client/options.ts'
import type { CommandContext } from '../context.ts'
import { integer, MAX_TIMEOUT_SECONDS, size } from '../parsers.ts'

interface DisperseOptions extends CommitteeOptions {
  key: string
  bootstrap?: string[]
  out?: string
  maxBlobSize?: number
  memberTimeout: number
}

export function registerDisperse(program: Command, ctx: CommandContext): void {
  const command = program
    .command('disperse')
    .summary('disperse a file and print its certificate')
    .description(
      'encode a file into a blob, send each committee member its shards and print the certificate JSON once signed stake reaches the threshold (progress on stderr when it is a terminal)',
    )
    .argument('<file>', 'the bytes to disperse (at most 32 MiB by default)')
    .requiredOption('--key <file>', "the sequencer's peer key; its peer id must be a registered sequencer")
    .option('-o, --out <file>', 'write the certificate JSON here and print only the blob id')
    .option(
      '--max-blob-size <size>',
      'refuse larger files; members refuse above their own maximum (default: 32MiB)',
      size,
    )
    .option(
      '--member-timeout <seconds>',
      'time for one member to store and sign (at most a day)',
      integer(1, MAX_TIMEOUT_SECONDS),
      60,
    )
  addCommitteeOption(command)
  addBootstrapOption(command)
  command.action(async (file: string, opts: DisperseOptions) => {
    const { disperseFile } = await import('../client/disperse.ts')
    const { committeeChoice } = await import('../client/source.ts')
    await disperseFile(ctx, {
      file: resolve(ctx.io.cwd, file),
      keyPath: resolve(ctx.io.cwd, opts.key),
      committees: committeeChoice(ctx.io, opts),
      bootstrap: opts.bootstrap,
      out: opts.out ? resolve(ctx.io.cwd, opts.out) : undefined,
      maxBlobSize: opts.maxBlobSize,
      memberTimeoutMs: opts.memberTimeout * 1000,
    })
  })
}
