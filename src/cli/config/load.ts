import { dirname, resolve } from 'node:path'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, readJsonFile } from '../files.ts'
import { HOME_ENV, homeConfigPath } from './home.ts'
import { parseConfig } from './parse.ts'
import { type ConfigOverride, envOverrides, flagOverrides } from './sources.ts'
import type { NodeConfig } from './types.ts'

/** Largest config file read: a config is a few KiB; anything near this is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024

/**
 * Reads and validates a node config; relative paths in it resolve against its own directory. `overrides`
 * (from the environment, then from flags: later ones win) are applied over the file before validation.
 */
export async function loadConfig(
  path: string,
  cwd: string,
  overrides: readonly ConfigOverride[] = [],
): Promise<{ path: string; config: NodeConfig }> {
  const absolute = resolve(cwd, path)
  const json = await readJsonFile(absolute, 'config file', MAX_CONFIG_BYTES)
  return { path: absolute, config: parseConfig(json, dirname(absolute), overrides) }
}

export interface NodeConfigSources {
  /** --config as given; undefined: the home directory's config.json. */
  configFile: string | undefined
  /** The process environment: DACNET_* variables override the file. */
  env: Readonly<Record<string, string | undefined>>
  /** Key path → value of the config flags given on the command line; they override everything. */
  flags: ReadonlyMap<string, string | string[] | boolean>
  cwd: string
}

/**
 * The config of a node from all its sources, by precedence: flags, then DACNET_* environment variables, then
 * the config file (--config, else the home directory's), then the defaults. `unknownEnv` lists DACNET_*
 * variables that look like config keys but are none (for a warning).
 */
export async function loadNodeConfig(
  sources: NodeConfigSources,
): Promise<{ path: string; config: NodeConfig; unknownEnv: string[] }> {
  const { cwd } = sources
  const path = sources.configFile ?? homeConfigPath(sources.env, cwd)
  if (sources.configFile === undefined && !(await pathExists(path))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `no node config at ${path} (the home directory; --config not given)`, {
      path,
      hint: `run \`dacnet init\` to create the node directory there, or pass --config FILE (home: $${HOME_ENV}, else ~/.dacnet)`,
    })
  }
  const env = envOverrides(sources.env, cwd)
  const flags = flagOverrides(sources.flags, cwd)
  const loaded = await loadConfig(path, cwd, [...env.overrides, ...flags])
  return { ...loaded, unknownEnv: env.unknown }
}
