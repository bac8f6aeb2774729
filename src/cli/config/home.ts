import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { CONFIG_FILE } from './types.ts'

/** Names the node's home directory, where `dacnet init` writes and `dacnet node` reads without options. */
export const HOME_ENV = 'DACNET_HOME'
/** The home directory's name under the user's home when $DACNET_HOME is not set. */
export const DEFAULT_HOME_NAME = '.dacnet'

/**
 * The default node directory: `$DACNET_HOME` (relative to the working directory), else `~/.dacnet` (the user's
 * home from $HOME, else the account's).
 */
export function homeDir(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const given = env[HOME_ENV]
  if (given !== undefined && given !== '') return resolve(cwd, given)
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir()
  return join(home, DEFAULT_HOME_NAME)
}

/** The config file `dacnet node` reads when no --config is given. */
export function homeConfigPath(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  return join(homeDir(env, cwd), CONFIG_FILE)
}
