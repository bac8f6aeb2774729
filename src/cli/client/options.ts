import type { Command } from 'commander'
import { CHAIN_ENV } from '../chain/options.ts'
import { multiaddrArg, url } from '../parsers.ts'

/** The environment variable naming the committee file for client commands. */
export const COMMITTEE_ENV = 'DACNET_COMMITTEE'
export const DEFAULT_COMMITTEE_PATH = 'committee.json'

/** Options of the commands that talk to the committee: where it comes from (see source.ts), and extra peers. */
export interface CommitteeOptions {
  committee?: string
  chain?: string
  rpc?: string
}

/** --committee, or --chain with --rpc: a committee file or the registry on the chain, never both. */
export function addCommitteeOption(command: Command): Command {
  return command
    .option(
      '--committee <file>',
      `committee file (default: $${COMMITTEE_ENV}, else $${CHAIN_ENV} for the chain, else ./${DEFAULT_COMMITTEE_PATH})`,
    )
    .option('--chain <file>', `read the committees from the registry chain.json names (default: $${CHAIN_ENV})`)
    .option('--rpc <url>', "with the chain: JSON-RPC endpoint to use instead of chain.json's rpcUrl", url)
}

export function addBootstrapOption(command: Command): Command {
  return command.option(
    '--bootstrap <multiaddr>',
    "extra peer to dial at start, besides the committee members' listed addresses (repeatable)",
    multiaddrArg,
  )
}
