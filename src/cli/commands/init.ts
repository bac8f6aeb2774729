import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type Command, InvalidArgumentError } from 'commander'
import { invalidAllowedHost } from '../../api/hosts.ts'
import { addConfigFlags, configFlagValues } from '../config/flags.ts'
import type { ChainConfig } from '../config/types.ts'
import type { CommandContext } from '../context.ts'
import { usageError } from '../errors.ts'
import { toJson } from '../files.ts'
import { collect, integer, multiaddrArg, url } from '../parsers.ts'

interface InitOptions {
  dir?: string
  passwordFile?: string
  listen?: string[]
  announce?: string[]
  committee?: string
  chain?: string
  rpc?: string
  apiPort?: number
  apiAllowedHosts?: string[]
}

/**
 * Keys init sets itself (the key files it writes into the directory) or with options of its own; every other
 * key has its config flag (--data-dir, --api-host, ...).
 */
const OWN_KEYS = [
  'peerKeyFile',
  'keystore',
  'committeeFile',
  'chain',
  'network.listen',
  'network.announce',
  'api.port',
  'api.allowedHosts',
]

export function registerInit(program: Command, ctx: CommandContext): void {
  const command = program
    .command('init')
    .summary('create a node directory: keys, keystore, config, member card')
    .description(
      'create a node directory: libp2p identity (peer.key), BLS key in an EIP-2335 keystore, config.json, data/, and the member card (printed and saved as member-card.json)',
    )
    .option(
      '--dir <dir>',
      'node directory to create (refused if it already holds keys or a config); default: the home directory, $DACNET_HOME, else ~/.dacnet, which `dacnet node` reads without --config',
    )
    .option(
      '--password-file <file>',
      'keystore password from this file, also recorded in the config (default: $DACNET_KEYSTORE_PASSWORD, else a prompt)',
    )
    .option(
      '--listen <multiaddr...>',
      'listen addresses (default: /ip4/0.0.0.0/tcp/5381 and /ip4/0.0.0.0/tcp/5382/ws)',
      multiaddrArg,
    )
    .option(
      '--announce <multiaddr...>',
      'public addresses others dial, e.g. /dns4/node.example.org/tcp/5381',
      multiaddrArg,
    )
    .option(
      '--committee <file>',
      'committee file, relative to the working directory (recorded in the config as an absolute path); default: committee.json in the node directory',
    )
    .option(
      '--chain <file>',
      "follow the registry that chain.json names instead of a committee file: writes the config's chain section (rpcUrl, registry)",
    )
    .option('--rpc <url>', "with --chain: the JSON-RPC endpoint the node uses instead of chain.json's rpcUrl", url)
    .option('--api-port <port>', 'HTTP API port written into the config (default 5380)', integer(0, 65535))
    .option(
      '--api-allowed-hosts <name...>',
      'Host names the HTTP API answers to besides loopback names (api.allowedHosts; no port): the names clients use when it listens beyond loopback',
      allowedHostArg,
    )
  addConfigFlags(command, { except: OWN_KEYS, env: false })
  command.action(async (opts: InitOptions) => {
    if (opts.chain !== undefined && opts.committee !== undefined) {
      throw usageError('--chain and --committee exclude each other: a node follows the chain or a committee file')
    }
    if (opts.rpc !== undefined && opts.chain === undefined) throw usageError('--rpc needs --chain')
    const { createNodeDir } = await import('../operator/node-dir.ts')
    const { resolvePassword } = await import('../password.ts')
    const committeeFile = opts.committee === undefined ? undefined : await committeePath(ctx.io.cwd, opts.committee)
    const chain = opts.chain === undefined ? undefined : await chainSection(ctx.io.cwd, opts.chain, opts.rpc)
    const { homeDir } = await import('../config/home.ts')
    const dir = opts.dir === undefined ? homeDir(ctx.io.env, ctx.io.cwd) : resolve(ctx.io.cwd, opts.dir)
    // Config flags are checked as the node will check them, before the password and the KDF.
    const { flagOverrides } = await import('../config/sources.ts')
    const { parseConfig } = await import('../config/parse.ts')
    const keys = flagOverrides(configFlagValues(command), ctx.io.cwd)
    parseConfig({ version: 1 }, dir, keys)
    const configFlag = opts.dir === undefined ? '' : ` --config ${join(dir, 'config.json')}`
    const passwordFile = opts.passwordFile ? resolve(ctx.io.cwd, opts.passwordFile) : undefined
    const password = await resolvePassword(ctx.io, { file: passwordFile, confirm: true })
    const card = await createNodeDir({
      dir,
      password,
      onEncrypting: () => ctx.note('encrypting the keystore (about a second; nothing is written before it ends)'),
      config: {
        passwordFile: passwordFile ?? null,
        ...(committeeFile !== undefined ? { committeeFile } : {}),
        ...(chain !== undefined ? { chain } : {}),
        ...(opts.listen ? { listen: opts.listen } : {}),
        ...(opts.announce ? { announce: opts.announce } : {}),
        ...(opts.apiPort !== undefined ? { apiPort: opts.apiPort } : {}),
        ...(opts.apiAllowedHosts ? { apiAllowedHosts: opts.apiAllowedHosts } : {}),
        keys,
      },
    })
    ctx.io.out(`${toJson(card)}\n`)
    ctx.note(`created node directory ${dir} (peer id ${card.peerId}); start it with \`dacnet node${configFlag}\``)
    if (chain === undefined) {
      ctx.note('send member-card.json to the committee organiser (dacnet committee create --card FILE:STAKE)')
    } else {
      ctx.note(
        `join the registry ${chain.registry}: dacnet register --config ${join(dir, 'config.json')} --stake AMOUNT --eth-key-file FILE`,
      )
    }
    if (card.multiaddrs.length === 0) {
      ctx.note(
        'warning: the card lists no address others can dial; pass --announce (e.g. /dns4/host/tcp/5381), or members will only find this node through the DHT',
      )
    }
  })
}

/**
 * The config's chain section from chain.json (validated as every chain command does): the node reads its
 * committees from that registry, through --rpc if given.
 */
async function chainSection(cwd: string, given: string, rpc: string | undefined): Promise<ChainConfig> {
  const { chainTargetAt } = await import('../chain/connect.ts')
  const { DEFAULT_CHAIN_CONFIRMATIONS, DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS, DEFAULT_CHAIN_POLL_INTERVAL_SECONDS } =
    await import('../config/types.ts')
  const target = await chainTargetAt(resolve(cwd, given), rpc)
  return {
    rpcUrl: target.rpcUrl,
    registry: target.file.registry,
    confirmations: DEFAULT_CHAIN_CONFIRMATIONS,
    pollIntervalSeconds: DEFAULT_CHAIN_POLL_INTERVAL_SECONDS,
    maxHeadStallSeconds: DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS,
  }
}

/**
 * The committee file as the config records it: absolute, so that the node opens the file the operator named
 * however the node directory is reached later (the config resolves relative paths against its own directory,
 * and a path made relative to it would change meaning through a symlinked directory).
 */
async function committeePath(cwd: string, given: string): Promise<string> {
  if (given.trim() === '') throw usageError('--committee needs a file path')
  const path = resolve(cwd, given)
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw usageError(`--committee ${given} is a directory`)
  return path
}

/** A Host name for api.allowedHosts, checked as the config file checks it. */
function allowedHostArg(value: string, previous: string[] | undefined): string[] {
  const why = invalidAllowedHost(value)
  if (why !== undefined) throw new InvalidArgumentError(`"${value}" ${why}`)
  return collect(value, previous)
}
