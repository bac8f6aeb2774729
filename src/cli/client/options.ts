import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { CliIo } from '../io.ts'
import { multiaddrArg } from '../parsers.ts'

/** The environment variable naming the committee file for client commands. */
export const COMMITTEE_ENV = 'DACNET_COMMITTEE'
export const DEFAULT_COMMITTEE_PATH = 'committee.json'

/** --committee and --bootstrap, shared by the commands that talk to the committee. */
export function addCommitteeOption(command: Command): Command {
  return command.option(
    '--committee <file>',
    `committee file (default: $${COMMITTEE_ENV}, else ./${DEFAULT_COMMITTEE_PATH})`,
  )
}

export function addBootstrapOption(command: Command): Command {
  return command.option(
    '--bootstrap <multiaddr>',
    "extra peer to dial at start, besides the committee members' listed addresses (repeatable)",
    multiaddrArg,
  )
}

export function committeePath(io: CliIo, option: string | undefined): string {
  return resolve(io.cwd, option ?? io.env[COMMITTEE_ENV] ?? DEFAULT_COMMITTEE_PATH)
}
