import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { CliIo } from '../io.ts'
import { url } from '../parsers.ts'

/** The environment variable naming chain.json when --chain is absent. */
export const CHAIN_ENV = 'DACNET_CHAIN'
/** The environment variable an Ethereum private key may come from when no --eth-key-file is given. */
export const ETH_KEY_ENV = 'DACNET_ETH_KEY'

/** The options every chain command shares: which deployment, and through which RPC. */
export interface ChainOptions {
  chain?: string
  rpc?: string
}

export interface EthKeyOptions {
  ethKeyFile?: string
}

export function addChainOptions(command: Command, what = 'the deployment'): Command {
  return command
    .option('--chain <file>', `chain.json of ${what} (default: $${CHAIN_ENV})`)
    .option('--rpc <url>', "JSON-RPC endpoint to use instead of chain.json's rpcUrl", url)
}

/** The key is named by a file only: a key given as a flag value would show in `ps` and in shell history. */
export function addEthKeyOption(command: Command, purpose = 'signs the transactions'): Command {
  return command.option(
    '--eth-key-file <file>',
    `Ethereum private key (one line of hex, readable by its owner only) that ${purpose} (default: $${ETH_KEY_ENV})`,
  )
}

/** chain.json from --chain, else $DACNET_CHAIN, resolved against the working directory; undefined when neither. */
export function chainFilePath(io: CliIo, option: string | undefined): string | undefined {
  const given = option ?? io.env[CHAIN_ENV]
  return given === undefined || given === '' ? undefined : resolve(io.cwd, given)
}
