import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { DEFAULT_MAX_BLOB_SIZE } from '../../erasure/params.ts'
import type { CommandContext } from '../context.ts'
import { integer, sizeIn } from '../parsers.ts'

/** Six members is the smallest committee where unequal stakes and a third offline are both interesting. */
export const DEFAULT_DEVNET_NODES = 6
const MiB = 1024 * 1024
/** Each node is a process of about 150 MiB: more than this does not fit a laptop. */
const MAX_DEVNET_NODES = 32

interface DevnetCommandOptions {
  nodes: number
  blobs?: number
  blobSize: number
  once?: boolean
  json?: boolean
  out?: string
  networkId?: number
  chain: boolean
  epochBlocks?: number
}

export function registerDevnet(program: Command, ctx: CommandContext): void {
  program
    .command('devnet')
    .summary('run a local committee and push blobs through it (npm start)')
    .description(
      'run a local committee: a local Ethereum chain (anvil) holding the stake and committees, N nodes as separate processes on loopback (unequal stakes) that follow it, plus a sequencer and a light client; disperse random blobs one after another until Ctrl-C, printing per blob the time to certificate, signed stake, light-client confidence, whether retrieval gave back the same bytes and what the verifier contract says of the certificate (with --blobs N: N blobs, then a live summary until Ctrl-C; with --once: exit after them)',
    )
    .option('--nodes <n>', 'committee nodes', integer(1, MAX_DEVNET_NODES), DEFAULT_DEVNET_NODES)
    .option(
      '--blobs <n>',
      'random blobs to disperse, then keep running with a live summary (default: one after another until Ctrl-C; with --once, 3)',
      integer(0, 100_000),
    )
    .addOption(
      new Option('--blob-size <size>', 'size of each blob, e.g. 256KiB or 1MiB (at most 32MiB, what the nodes take)')
        .argParser(sizeIn(1, DEFAULT_MAX_BLOB_SIZE))
        .default(MiB, '1MiB'),
    )
    .option(
      '--once',
      'exit after the blobs (3 unless --blobs): 0 only if all were certified, sampled available and retrieved intact',
    )
    .option('--json', 'one JSON object per blob on stdout (blobId, size, timeToCertificateMs, signedStake, ...)')
    .option(
      '--out <dir>',
      'keep the devnet here (chain.json or committee.json, nodes/*, certificates/); a directory that holds one from an earlier run restarts it (same keys, stores and ports); default: a temp dir removed on exit',
    )
    .option('--network-id <n>', 'network id of the devnet (default 6578531, "dac" in ASCII)', integer(0, 0xffff_ffff))
    .option(
      '--epoch-blocks <n>',
      'epoch length in one-second blocks (default 600); when given, a member joins and one leaves during the run',
      integer(2, 1_000_000),
    )
    .option('--no-chain', 'no local chain: the committee comes from a file and certificates are not checked on L1')
    .action(async (opts: DevnetCommandOptions) => {
      const { runDevnet } = await import('../devnet/run.ts')
      const { DEVNET_NETWORK_ID } = await import('../devnet/layout.ts')
      await runDevnet(ctx, {
        nodes: opts.nodes,
        blobs: opts.blobs,
        blobSize: opts.blobSize,
        once: opts.once === true,
        json: opts.json === true,
        out: opts.out === undefined ? undefined : resolve(ctx.io.cwd, opts.out),
        networkId: opts.networkId ?? DEVNET_NETWORK_ID,
        chain: opts.chain,
        epochBlocks: opts.epochBlocks,
      })
    })
}
