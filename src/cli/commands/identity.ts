import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists } from '../files.ts'

export function registerIdentity(program: Command, ctx: CommandContext): void {
  program
    .command('identity')
    .summary("print (or create) a peer key's peer id")
    .description(
      "print the peer id of a libp2p key file, creating the key (Ed25519, mode 0600) if the file does not exist: a sequencer's identity for `disperse --key`",
    )
    .requiredOption('--key <file>', 'peer key file (protobuf private key, as in a node directory)')
    .option('--no-create', 'fail instead of creating a missing key file')
    .action(async (opts: { key: string; create: boolean }) => {
      const { loadOrCreatePeerKey } = await import('../../p2p/identity.ts')
      const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
      const path = resolve(ctx.io.cwd, opts.key)
      const existed = await pathExists(path)
      if (!existed && !opts.create) throw cliError(CliErrorCode.FILE_NOT_FOUND, `key file ${path} does not exist`)
      const key = await loadOrCreatePeerKey(path)
      ctx.io.out(`${peerIdFromPrivateKey(key).toString()}\n`)
      if (!existed) ctx.note(`created ${path}; register this peer id as a sequencer to disperse with it`)
    })
}
