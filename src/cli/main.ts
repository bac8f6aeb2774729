#!/usr/bin/env node
/**
 * The `dacnet` command. Commands join here as the layers beneath them land; `dacnet --help` lists them.
 */
import { readFileSync } from 'node:fs'
import { Command } from 'commander'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

export function buildProgram(): Command {
  return new Command('dacnet')
    .description('dacnet: a data-availability committee network for rollups')
    .version(pkg.version)
    .showHelpAfterError()
}

if (import.meta.main) {
  const program = buildProgram()
  if (process.argv.length <= 2) program.outputHelp()
  else await program.parseAsync(process.argv)
}
