import { resolve } from 'node:path'
import type { Command } from 'commander'
import { DEFAULT_DA_SERVER_PORT } from '../../api/da-server/options.ts'
import { addBootstrapOption, addCommitteeOption, type CommitteeOptions } from '../client/options.ts'
import type { CommandContext } from '../context.ts'
import { addLogOptions, checkLogOptions, commandLogger, type LogOptions } from '../log-options.ts'
import { collect, integer, MAX_TIMEOUT_SECONDS, size } from '../parsers.ts'

interface DaServerCommandOptions extends CommitteeOptions, LogOptions {
  key: string
  host: string
  port: number
  allowedHost?: string[]
  bootstrap?: string[]
  maxBlobSize?: number
  putTimeout: number
  getTimeout: number
  memberTimeout: number
}

export function registerDaServer(program: Command, ctx: CommandContext): void {
  const command = program
    .command('da-server')
    .summary('serve the OP Stack Alt-DA API (put, get) on top of the committee until SIGINT/SIGTERM')
    .description(
      'an OP Stack Alt-DA server: POST /put disperses the body to the committee and answers a commitment carrying the certificate; GET /get/0x<commitment> retrieves the blob from any k shards through the network, checked against the certificate; GET /health; see docs/DA-SERVER.md. Progress goes to the log on stderr',
    )
    .requiredOption('--key <file>', "the sequencer's peer key; its peer id must be a registered sequencer")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--port <port>',
      "port to listen on (0 picks a free one; 3100, the port OP Stack Alt-DA servers use, is clear of a node's 5380-5382)",
      integer(0, 65535),
      DEFAULT_DA_SERVER_PORT,
    )
    .option(
      '--allowed-host <name>',
      'a Host name clients may use besides loopback names and --host (repeatable; "*" for any, only behind a proxy that checks Host)',
      collect,
    )
    .option(
      '--max-blob-size <size>',
      'largest put body; larger ones get 413 before they are read (default: 32MiB)',
      size,
    )
    .option(
      '--put-timeout <seconds>',
      'time for a put, from its body received to the commitment (at most a day)',
      integer(1, MAX_TIMEOUT_SECONDS),
      180,
    )
    .option(
      '--get-timeout <seconds>',
      'time for a get, from the certificate checked to the last byte retrieved (at most a day)',
      integer(1, MAX_TIMEOUT_SECONDS),
      120,
    )
    .option(
      '--member-timeout <seconds>',
      'time for one member to store and sign (at most a day)',
      integer(1, MAX_TIMEOUT_SECONDS),
      60,
    )
  addLogOptions(command)
  addCommitteeOption(command)
  addBootstrapOption(command)
  command.action(async (opts: DaServerCommandOptions) => {
    checkLogOptions(opts)
    const { committeeChoice } = await import('../client/source.ts')
    await runDaServer(ctx, opts, committeeChoice(ctx.io, opts))
  })
}

async function runDaServer(
  ctx: CommandContext,
  opts: DaServerCommandOptions,
  choice: import('../client/source.ts').CommitteeChoice,
): Promise<void> {
  const { readPeerKey, startClient } = await import('../client/connect.ts')
  const { openCommitteeSource } = await import('../client/source.ts')
  const { startDaServer } = await import('../../api/da-server/server.ts')
  const { stopOnSignal } = await import('../operator/shutdown.ts')
  const logger = await commandLogger(ctx, opts)
  const privateKey = await readPeerKey(resolve(ctx.io.cwd, opts.key))
  const committees = await openCommitteeSource(choice)
  const stops: (() => Promise<void>)[] = [() => committees.stop()]
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.warn('stop failed', { error: err }))
  }
  try {
    const maxBlobSize = opts.maxBlobSize === undefined ? {} : { maxBlobSize: opts.maxBlobSize }
    // One client: libp2p, the erasure pool, the disperser and the retriever, released by its stop().
    const client = await startClient(committees.source, {
      bootstrap: opts.bootstrap,
      privateKey,
      disperser: { memberTimeoutMs: opts.memberTimeout * 1000, ...maxBlobSize },
      ...maxBlobSize,
      logger,
    })
    stops.push(() => client.stop())
    const { disperser, retriever } = client
    const peerId = client.libp2p.peerId.toString()
    const { isDacnetError } = await import('../../errors.ts')
    const { CommitteeErrorCode } = await import('../../committee/errors.ts')
    // Before the chain's first committee is in force the server still starts: puts get 503 until one is.
    const committee = await committees.current().catch((err: unknown) => {
      if (!isDacnetError(err, CommitteeErrorCode.UNKNOWN_EPOCH)) throw err
      logger.warn('no committee is in force yet: puts are refused (503) until one is', {})
      return undefined
    })
    if (committee !== undefined && !committee.isSequencer({ peerId })) {
      logger.warn('this key is not a registered sequencer of the epoch in force: members will refuse its puts', {
        peerId,
        epoch: committee.epoch,
      })
    }
    const server = await startDaServer({
      libp2p: client.libp2p,
      committees: committees.source,
      disperser,
      retriever,
      host: opts.host,
      port: opts.port,
      ...(opts.allowedHost ? { allowedHosts: opts.allowedHost } : {}),
      ...maxBlobSize,
      putTimeoutMs: opts.putTimeout * 1000,
      getTimeoutMs: opts.getTimeout * 1000,
      logger,
    })
    stops.push(() => server.close())
    const stopped = stopOnSignal(logger, stopAll)
    logger.info('da server ready', { url: server.url, peerId, epoch: committee?.epoch, members: committee?.size })
    await stopped
    logger.info('da server stopped')
  } catch (err) {
    await stopAll()
    throw err
  }
}
