import { type Command, Option } from 'commander'
import { collect } from '../parsers.ts'
import { CONFIG_KEYS, type ConfigKey, envName, flagName } from './keys.ts'

/**
 * Adds a flag for every config key (but those under `except`: keys the command sets with options of its own;
 * `env: false` for a command that reads no DACNET_* variables, so its help does not name them) to a command (`--api-port <value>`, `--network-listen <list>`,
 * `--log-json [bool]`). The values stay text: they are checked with the file's and the environment's, by the
 * config schema, so a bad one gets the same CLI_CONFIG_INVALID error naming the flag.
 */
export function addConfigFlags(command: Command, opts: { except?: readonly string[]; env?: boolean } = {}): void {
  for (const key of CONFIG_KEYS) {
    if (!opts.except?.some((path) => key.path === path || key.path.startsWith(`${path}.`))) {
      command.addOption(configOption(key, opts.env ?? true))
    }
  }
}

function configOption(key: ConfigKey, env: boolean): Option {
  const flag = flagName(key.path)
  const help = `${key.summary} (config ${key.path}${env ? `, env ${envName(key.path)}` : ''})`
  if (key.kind === 'list') {
    return new Option(`${flag} <list>`, `${help}; comma separated, repeatable`).argParser(collect)
  }
  if (key.kind === 'boolean') return new Option(`${flag} [bool]`, `${help}; true or false, alone: true`)
  return new Option(`${flag} <${PLACEHOLDER[key.kind] ?? 'value'}>`, help)
}

const PLACEHOLDER: Partial<Record<ConfigKey['kind'], string>> = {
  path: 'path',
  optionalPath: 'path',
  integer: 'n',
  number: 'n',
  size: 'size',
}

/** The config flags given on a command's line, by key path. */
export function configFlagValues(command: Command): Map<string, string | string[] | boolean> {
  const values = new Map<string, string | string[] | boolean>()
  for (const key of CONFIG_KEYS) {
    const option = command.options.find((o) => o.long === flagName(key.path))
    if (!option) continue
    const value = command.getOptionValue(option.attributeName()) as string | string[] | boolean | undefined
    if (value !== undefined) values.set(key.path, value)
  }
  return values
}
