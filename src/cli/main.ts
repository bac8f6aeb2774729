#!/usr/bin/env node
/**
 * The `dacnet` command: `dacnet --help` lists the commands, `dacnet <command> --help` their options.
 * Command modules load the heavy libraries (libp2p, BLS, LevelDB) only when their command runs, so help
 * and usage errors answer at once.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError } from 'commander'
import { DacnetError } from '../errors.ts'
import { registerChainCommands } from './commands/chain.ts'
import { registerCommitteeCommands } from './commands/committee.ts'
import { registerDaServer } from './commands/da-server.ts'
import { registerDbCommands } from './commands/db.ts'
import { registerDevnet } from './commands/devnet.ts'
import { registerDisperse } from './commands/disperse.ts'
import { registerIdentity } from './commands/identity.ts'
import { registerInit } from './commands/init.ts'
import { registerNode } from './commands/node.ts'
import { registerRetrieve } from './commands/retrieve.ts'
import { registerSample } from './commands/sample.ts'
import { registerStakeCommands } from './commands/stake.ts'
import { registerStatus } from './commands/status.ts'
import { registerVerify } from './commands/verify.ts'
import { registerWeb } from './commands/web.ts'
import { CommandContext } from './context.ts'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, usageError } from './errors.ts'
import { exitCodeOf, formatError } from './hints.ts'
import { type CliIo, flushProcessOutput, processIo } from './io.ts'
import { applyV8Flags, wantsV8Flags } from './v8-flags.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

export function buildProgram(io: CliIo = processIo()): Command {
  const program = new Command('dacnet')
    .description('dacnet: a data-availability committee network for rollups')
    .version(pkg.version)
    .option('--debug', 'print stack traces and error metadata')
    // Errors are printed by runCli in one format (error CODE: message / hint), never by commander.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} })
  const ctx = new CommandContext(io)
  registerInit(program, ctx)
  registerCommitteeCommands(program, ctx)
  registerIdentity(program, ctx)
  registerNode(program, ctx)
  registerDevnet(program, ctx)
  registerDisperse(program, ctx)
  registerSample(program, ctx)
  registerRetrieve(program, ctx)
  registerDaServer(program, ctx)
  registerVerify(program, ctx)
  registerStatus(program, ctx)
  registerDbCommands(program, ctx)
  registerChainCommands(program, ctx)
  registerStakeCommands(program, ctx)
  registerWeb(program, ctx)
  return program
}

/** Runs one command line (without the node and script arguments) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io)
  if (argv.length === 0) {
    program.outputHelp()
    return EXIT_OK
  }
  const debug = argv.includes('--debug')
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT_OK
  } catch (err) {
    if (err instanceof CommanderError) return commanderExit(err, commandPath(program, argv), io, debug)
    io.err(formatError(withUsageHint(err, commandPath(program, argv)), debug))
    return exitCodeOf(err)
  }
}

/** Help and version exit 0; a command group called without a subcommand printed its help: usage error. */
function commanderExit(err: CommanderError, command: string[], io: CliIo, debug: boolean): number {
  if (err.exitCode === 0) return EXIT_OK
  if (err.code === 'commander.help') return EXIT_USAGE
  const message = err.message.replace(/^error: /, '')
  const hint = `run 'dacnet ${[...command, '--help'].join(' ')}' for usage`
  io.err(formatError(usageError(message, hint), debug))
  return err.exitCode === EXIT_FAILURE ? EXIT_USAGE : err.exitCode
}

/** A usage error thrown by a command's own checks gets the same hint as commander's: that command's help. */
function withUsageHint(err: unknown, command: string[]): unknown {
  if (!(err instanceof DacnetError) || exitCodeOf(err) !== EXIT_USAGE || err.meta['hint'] !== undefined) return err
  return new DacnetError(err.code, err.message, {
    ...err.meta,
    hint: `run 'dacnet ${[...command, '--help'].join(' ')}' for usage`,
  })
}

/** The (sub)command names at the start of argv, for the hint: `db check`, `disperse`, or none. */
function commandPath(program: Command, argv: readonly string[]): string[] {
  const path: string[] = []
  let current = program
  for (const arg of argv) {
    if (arg.startsWith('-')) continue
    const next = current.commands.find((c) => c.name() === arg)
    if (!next) break
    path.push(arg)
    current = next
  }
  return path
}

/**
 * The directory the command's relative paths resolve against. `npm run dacnet` and `npm start` run the command in
 * the package root, and npm passes the directory it was called from as INIT_CWD: that is the one the caller meant
 * (`npm run dacnet -- retrieve … -o back.bin` run in ~/work writes ~/work/back.bin). A process started anywhere
 * else than the package root is in its caller's directory already.
 */
export function callerCwd(env: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): string {
  const initCwd = env['INIT_CWD']
  const packageRoot = fileURLToPath(new URL('../..', import.meta.url))
  if (initCwd !== undefined && isAbsolute(initCwd) && resolve(cwd) === resolve(packageRoot)) return initCwd
  return cwd
}

/** Runs the process's command line and exits with its code: what `dacnet` (main.ts or the installed bin.ts) does. */
export async function main(): Promise<never> {
  if (wantsV8Flags(process.argv.slice(2))) applyV8Flags()
  // Network deadlines use AbortSignal.timeout, whose timers do not keep Node's event loop alive. In a short-lived
  // client whose connections have all gone, a wait that only such a deadline can end would otherwise end the
  // process with an unsettled await (exit 13) instead of timing out: hold the loop open while the command runs.
  // (The price: a wait that nothing at all could end would now hang until Ctrl-C instead of exiting 13; every
  // network wait has a deadline, and client commands bound their libp2p stop.)
  const keepAlive = setInterval(() => {}, 60_000)
  const code = await runCli(process.argv.slice(2), { ...processIo(), cwd: callerCwd(process.env) }).finally(() =>
    clearInterval(keepAlive),
  )
  await flushProcessOutput()
  // A client command's libp2p keeps timers for a moment after stopping: exit now that everything is done.
  process.exit(code)
}

if (import.meta.main) await main()
