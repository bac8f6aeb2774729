import { resolve } from 'node:path'
import { CONFIG_KEYS, type ConfigKey, ENV_PREFIX, envName, flagName } from './keys.ts'

/**
 * Where a config value came from. Precedence, highest first: a `--flag`, a `DACNET_*` environment variable,
 * the config file, the default.
 */
export type ConfigSource = { kind: 'flag' | 'env'; name: string } | { kind: 'file' }

/** One key set from outside the file, already in the file's JSON form. */
export interface ConfigOverride {
  key: ConfigKey
  value: unknown
  source: ConfigSource
}

/** Environment variables of dacnet that are not config keys (read by the commands that need them). */
const NOT_CONFIG_KEYS = new Set([
  'DACNET_HOME',
  'DACNET_KEYSTORE_PASSWORD',
  'DACNET_ETH_KEY',
  'DACNET_CHAIN',
  'DACNET_COMMITTEE',
  'DACNET_NODE_EXEC_ARGV',
  'DACNET_NODE_BUNDLE',
  'DACNET_BENCH_E2E',
  'DACNET_FUZZ_PATH',
  'DACNET_FUZZ_SEED',
])

/**
 * The config keys the environment sets. An empty variable counts as unset (a compose file's `${VAR:-}`).
 * `unknown` lists the DACNET_* variables that are neither a config key nor one of dacnet's other variables (its
 * home, the keystore password, …): most likely typos, which the node logs instead of ignoring silently.
 */
export function envOverrides(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): { overrides: ConfigOverride[]; unknown: string[] } {
  const overrides: ConfigOverride[] = []
  for (const key of CONFIG_KEYS) {
    const name = envName(key.path)
    const text = env[name]
    if (text === undefined || text === '') continue
    overrides.push({ key, value: textValue(key, text, cwd), source: { kind: 'env', name } })
  }
  const known = new Set(CONFIG_KEYS.map((k) => envName(k.path)))
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.has(name) && !NOT_CONFIG_KEYS.has(name))
    .sort()
  return { overrides, unknown }
}

/**
 * The config keys set by flags, given as commander parsed them: a string, a list of strings for a repeated
 * list flag, or `true` for a boolean flag given without a value.
 */
export function flagOverrides(given: ReadonlyMap<string, string | string[] | boolean>, cwd: string): ConfigOverride[] {
  const overrides: ConfigOverride[] = []
  for (const key of CONFIG_KEYS) {
    const value = given.get(key.path)
    if (value === undefined) continue
    overrides.push({ key, value: textValue(key, value, cwd), source: { kind: 'flag', name: flagName(key.path) } })
  }
  return overrides
}

/**
 * A value given as text, in the file's JSON form; what cannot be converted is passed on as text, so the
 * schema refuses it with the key's rule and the source's name. Lists are comma separated; relative paths
 * resolve against the working directory (in the file, against the file's directory).
 */
export function textValue(key: ConfigKey, given: string | string[] | boolean, cwd: string): unknown {
  if (typeof given === 'boolean') return key.kind === 'boolean' || key.kind === 'syncReads' ? given : String(given)
  if (key.kind === 'list') {
    return (Array.isArray(given) ? given : [given])
      .flatMap((text) => String(text).split(','))
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
  }
  // A command's own option may hand over what its parser made of the text (a number for `init --api-port`).
  const text = String(Array.isArray(given) ? given.at(-1)! : given).trim()
  switch (key.kind) {
    case 'path':
    case 'optionalPath':
      return text === '' ? text : resolve(cwd, text)
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text
    case 'size':
      return /^\d+$/.test(text) ? Number(text) : text
    case 'boolean':
      return booleanText(text) ?? text
    case 'syncReads':
      return booleanText(text) ?? text
    case 'string':
      return text
  }
}

function booleanText(text: string): boolean | undefined {
  if (text === 'true') return true
  if (text === 'false') return false
  return undefined
}

/** The name an error gives a source: `--api-port`, `DACNET_API_PORT`, or `config field api.port`. */
export function sourceLabel(source: ConfigSource | undefined, field: string): string {
  if (source === undefined || source.kind === 'file') return `config field ${field || '(root)'}`
  return source.name
}

/** Sets a key (`api.port`) in a config object; a section absent or null becomes an object. */
export function setConfigValue(root: Record<string, unknown>, keyPath: string, value: unknown): void {
  const parts = keyPath.split('.')
  let target = root
  for (const part of parts.slice(0, -1)) {
    const next = target[part]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) target[part] = {}
    target = target[part] as Record<string, unknown>
  }
  target[parts.at(-1)!] = value
}
