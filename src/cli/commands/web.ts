import { resolve } from 'node:path'
import type { Command } from 'commander'
import { addCommitteeOption, type CommitteeOptions } from '../client/options.ts'
import type { CommandContext } from '../context.ts'
import { usageError } from '../errors.ts'
import { addLogOptions, checkLogOptions, commandLogger, type LogOptions } from '../log-options.ts'
import { collect, integer, url } from '../parsers.ts'

interface WebCommandOptions extends CommitteeOptions, LogOptions {
  host: string
  port: number
  certificates?: string
  api?: string
  bundle?: string
  allowedHost?: string[]
}

export function registerWeb(program: Command, ctx: CommandContext): void {
  const command = program
    .command('web')
    .summary('serve the browser light client: a page that verifies a certificate and samples its blob')
    .description(
      "serve the browser light client until SIGINT/SIGTERM: open the page with ?blob=<blobId> (or paste a certificate) and it verifies the certificate against the committee, samples random shards from their holders over libp2p WebSockets (from the browser itself, in a worker), and shows the confidence, the sampled shards by holder and the time taken. Certificates come from --certificates DIR and/or a node's API (--api); the members must listen on /ws (or /wss for an https page). See docs/BROWSER.md",
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer(0, 65535), 8080)
    .option(
      '--certificates <dir>',
      'a directory of <blobId>.json certificates (a devnet --out DIR has DIR/certificates)',
    )
    .option('--api <url>', "a node's HTTP API to fetch certificates from (GET /v1/blobs/:id)", url)
    .option(
      '--bundle <dir>',
      "serve this bundle (scripts/build-browser.ts writes one) (default: the package's built dist/bundle; in a checkout, one built at start)",
    )
    .option(
      '--allowed-host <name>',
      'a Host name browsers may use besides loopback names and --host (repeatable; "*" for any, only behind a proxy that checks Host)',
      collect,
    )
  addLogOptions(command)
  addCommitteeOption(command)
  command.action(async (opts: WebCommandOptions) => {
    checkLogOptions(opts)
    if (opts.certificates === undefined && opts.api === undefined) {
      throw usageError('say where certificates come from: --certificates DIR, --api URL, or both')
    }
    const { committeeChoice, openCommitteeSource } = await import('../client/source.ts')
    const { startWebServer } = await import('../../web/server.ts')
    const { stopOnSignal } = await import('../operator/shutdown.ts')
    const logger = await commandLogger(ctx, opts)
    const committees = await openCommitteeSource(committeeChoice(ctx.io, opts))
    try {
      const server = await startWebServer({
        committees: committees.source,
        host: opts.host,
        port: opts.port,
        ...(opts.certificates === undefined ? {} : { certificateDir: resolve(ctx.io.cwd, opts.certificates) }),
        ...(opts.api === undefined ? {} : { apiUrl: opts.api }),
        ...(opts.bundle === undefined ? {} : { bundleDir: resolve(ctx.io.cwd, opts.bundle) }),
        ...(opts.allowedHost ? { allowedHosts: opts.allowedHost } : {}),
        logger,
      })
      const stopped = stopOnSignal(logger, async () => {
        await server.close()
        await committees.stop()
      })
      logger.info('light client page ready', { url: server.url })
      ctx.io.out(`${server.url}\n`)
      await stopped
    } catch (err) {
      await committees.stop()
      throw err
    }
  })
}
