import { resolve } from 'node:path'
import type { Command } from 'commander'
import { addConfigFlags, configFlagValues } from '../config/flags.ts'
import type { CommandContext } from '../context.ts'

/** The message a node started with an IPC channel (by the devnet) sends once it serves. */
export interface NodeReadyMessage {
  type: 'ready'
  peerId: string
  addresses: string[]
  api: string | null
}

export function registerNode(program: Command, ctx: CommandContext): void {
  const command = program
    .command('node')
    .summary('run a committee node until SIGINT/SIGTERM')
    .description(
      'run a committee node: store shards, attest, serve samples and retrievals, prune, and serve the HTTP API; SIGINT/SIGTERM stop it cleanly (stores under way finish, the database closes), a second signal forces the exit; SIGHUP reloads the committee file',
    )
    .option(
      '--config <file>',
      'node config file written by `dacnet init` (default: config.json in $DACNET_HOME, else ~/.dacnet); every key can also be set by its flag below or its DACNET_* environment variable: flag > environment > file > default',
    )
    .option('--password-file <file>', "keystore password file (overrides the config's keystore.passwordFile)")
  addConfigFlags(command)
  command.action(async (opts: { config?: string; passwordFile?: string }) => {
    const { loadNodeConfig } = await import('../config/load.ts')
    const { startDaemon } = await import('../operator/daemon.ts')
    const { stopOnSignal } = await import('../operator/shutdown.ts')
    const { config, path, unknownEnv } = await loadNodeConfig({
      configFile: opts.config,
      env: ctx.io.env,
      flags: configFlagValues(command),
      cwd: ctx.io.cwd,
    })
    const passwordFile = opts.passwordFile ? resolve(ctx.io.cwd, opts.passwordFile) : undefined
    // SIGHUP's default action ends the process: take it from the start; before the node runs there is
    // nothing to reload (start-up reads the committee file anyway).
    let reload = () => {}
    process.on('SIGHUP', () => reload())
    const daemon = await startDaemon(config, ctx.io, { passwordFile, unknownEnv })
    const { node, api, logger, committees } = daemon
    logger.info('config loaded', { path })
    reload = () => {
      if (!committees.file) {
        // On a chain there is no file to reload: read new blocks now instead.
        committees.chain?.refresh().then(
          () => logger.info('chain read', { epoch: committees.chain?.status().epoch }),
          (err) => logger.error('chain read failed; the committees known so far stay in use', { error: err }),
        )
        return
      }
      committees.file.reload().then(
        (r) => logger.info('committee file reloaded', { epochs: r.committees.map((c) => c.epoch) }),
        (err) => logger.error('committee file reload failed; the previous committees stay in use', { error: err }),
      )
    }
    // Handlers first: whoever sees "node ready" may signal at once, and a signal with no handler kills outright.
    const stopped = stopOnSignal(logger, () => daemon.stop())
    logger.info('node ready', { peerId: node.peerId, addresses: node.addresses(), api: api?.url ?? null })
    const ready: NodeReadyMessage = {
      type: 'ready',
      peerId: node.peerId,
      addresses: node.addresses(),
      api: api?.url ?? null,
    }
    if (process.send !== undefined) {
      // Started by a supervisor: if it died while this node was starting, there is nobody to serve for.
      if (process.connected) process.send(ready)
      else process.emit('disconnect')
    }
    await stopped
    logger.info('node stopped cleanly')
  })
}
