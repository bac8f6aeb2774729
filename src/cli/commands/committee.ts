import { resolve } from 'node:path'
import type { Command } from 'commander'
import { MAX_RETENTION_SECONDS } from '../config/keys.ts'
import type { CommandContext } from '../context.ts'
import { usageError } from '../errors.ts'
import { toJson } from '../files.ts'
import { formatShapeRange } from '../format.ts'
import type { CommitteeCreateOptions } from '../operator/committee-file.ts'
import { collect, integer } from '../parsers.ts'

export function registerCommitteeCommands(program: Command, ctx: CommandContext): void {
  const committee = program.command('committee').description('committee files: who stores, signs and disperses')
  committee
    .command('create')
    .summary('write a committee file from member cards')
    .description(
      'write a committee file from member cards (for devnets and test networks); every key and proof of possession is checked',
    )
    .option('--network-id <n>', 'network id (u32); with --append, taken from the file', integer(0, 0xffff_ffff))
    .option('--epoch <n>', 'epoch of this committee', integer(), 0)
    .requiredOption(
      '--card <file[:stake]>',
      'member card written by `dacnet init`, with its stake (a positive integer, default 1); repeat per member, in bitmap order',
      collect,
    )
    .option('--sequencer <peerId>', 'peer id allowed to disperse (repeat for several)', collect)
    .option('--threshold <q>', 'signing threshold: fraction of stake a certificate needs', '2/3')
    .option('--adversary <f>', 'adversary bound: stake that may be offline or faulty', '1/3')
    .option(
      '--retention-seconds <s>',
      'how long members keep shards (default 14 days; at most a hundred years)',
      integer(1, MAX_RETENTION_SECONDS),
    )
    .option('--total-shards <n>', 'erasure n (default: derived from the member count)', integer(2, 65536))
    .requiredOption('--out <file>', 'committee file to write')
    .option('--append', 'add this epoch to the existing committee file at --out')
    .option('--force', 'overwrite an existing --out file')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: CommitteeCreateOptions) => {
      if (opts.append && opts.force) throw usageError('--append and --force exclude each other')
      const { createCommitteeFile } = await import('../operator/committee-file.ts')
      const summary = await createCommitteeFile(opts, resolve(ctx.io.cwd, opts.out), ctx.io.cwd)
      if (opts.json) ctx.io.out(`${toJson(summary)}\n`)
      else {
        ctx.io.out(
          `${summary.path}: network ${summary.networkId}, epoch ${summary.epoch} with ${summary.members} members, total stake ${summary.totalStake}, ${formatShapeRange(summary.shapes)}, threshold ${summary.threshold}, ${summary.sequencers} sequencer(s); epochs in file: ${summary.epochs.join(', ')}\n`,
        )
      }
      if (summary.sequencers === 0) ctx.note('warning: no sequencer is registered: nobody can disperse in this epoch')
    })
}
