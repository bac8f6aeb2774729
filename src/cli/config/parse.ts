import { resolve } from 'node:path'
import type { LogLevel } from '../../logger.ts'
import type { SyncReads } from '../../storage/index.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { parseSize } from '../size.ts'
import { envName, flagName } from './keys.ts'
import { type ConfigProblem, checkConfigSchema } from './schema.ts'
import { type ConfigOverride, type ConfigSource, setConfigValue, sourceLabel } from './sources.ts'
import {
  type ChainConfig,
  CONFIG_VERSION,
  DEFAULT_CHAIN_CONFIRMATIONS,
  DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS,
  DEFAULT_CHAIN_POLL_INTERVAL_SECONDS,
  defaultConfig,
  type NodeConfig,
} from './types.ts'

/**
 * Validates a parsed config file, applies the flags and environment variables given as `overrides` (later
 * ones win: pass the environment's before the flags'), and fills in defaults. The merged result is checked
 * against the config's JSON schema (schema.ts); an invalid value is refused with CLI_CONFIG_INVALID naming
 * where it came from. Relative paths in the file resolve against `baseDir`, the config file's directory.
 */
export function parseConfig(json: unknown, baseDir: string, overrides: readonly ConfigOverride[] = []): NodeConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid({ field: '', key: undefined, entry: undefined, missing: false, why: 'must be an object' })
  }
  const root = json as Record<string, unknown>
  if (root['version'] !== CONFIG_VERSION) {
    throw cliError(
      CliErrorCode.CONFIG_VERSION,
      `config version ${JSON.stringify(root['version'])} is not ${CONFIG_VERSION}`,
      { field: 'version' },
    )
  }
  const merged = structuredClone(root)
  const sources = new Map<string, ConfigSource>()
  for (const override of overrides) {
    setConfigValue(merged, override.key.path, override.value)
    sources.set(override.key.path, override.source)
  }
  const problem = checkConfigSchema(merged)
  if (problem) throw invalid(problem, sources)
  const config = build(merged, baseDir)
  if (config.api.enableDisperse && config.api.tokenFile === null) {
    const source = sources.get('api.enableDisperse')
    throw invalid(
      {
        field: 'api.tokenFile',
        key: undefined,
        entry: undefined,
        missing: true,
        why: `is required when api.enableDisperse is true${source && source.kind !== 'file' ? ` (set by ${source.name})` : ''}: POST /v1/blobs needs a token`,
      },
      sources,
    )
  }
  return config
}

/** The NodeConfig of a valid merged object: defaults for what is absent, paths resolved, sizes in bytes. */
function build(json: Record<string, unknown>, baseDir: string): NodeConfig {
  const d = defaultConfig()
  const section = (name: string) => (json[name] ?? {}) as Record<string, unknown>
  const keystore = section('keystore')
  const network = section('network')
  const storage = section('storage')
  const api = section('api')
  const log = section('log')
  const path = (value: unknown, fallback: string) => resolve(baseDir, (value as string | undefined) ?? fallback)
  const optionalPath = (value: unknown) => (typeof value === 'string' ? resolve(baseDir, value) : null)
  const size = (value: unknown, fallback: number) => (value === undefined ? fallback : parseSize(value as string))
  const list = (value: unknown, fallback: string[]) => [...((value as string[] | undefined) ?? fallback)]
  return {
    version: CONFIG_VERSION,
    peerKeyFile: path(json['peerKeyFile'], d.peerKeyFile),
    keystore: { path: path(keystore['path'], d.keystore.path), passwordFile: optionalPath(keystore['passwordFile']) },
    committeeFile: path(json['committeeFile'], d.committeeFile),
    chain: chain(json['chain']),
    dataDir: path(json['dataDir'], d.dataDir),
    network: {
      listen: list(network['listen'], d.network.listen),
      announce: list(network['announce'], d.network.announce),
      bootstrap: list(network['bootstrap'], d.network.bootstrap),
      bootstrapFromCommittee:
        (network['bootstrapFromCommittee'] as boolean | undefined) ?? d.network.bootstrapFromCommittee,
      localNetwork: (network['localNetwork'] as boolean | undefined) ?? d.network.localNetwork,
    },
    storage: {
      quotaBytes: size(storage['quotaBytes'], d.storage.quotaBytes),
      retentionSeconds: (storage['retentionSeconds'] as number | undefined) ?? d.storage.retentionSeconds,
      pruneIntervalSeconds: (storage['pruneIntervalSeconds'] as number | undefined) ?? d.storage.pruneIntervalSeconds,
      syncReads: (storage['syncReads'] as SyncReads | undefined) ?? d.storage.syncReads,
    },
    api: {
      enabled: (api['enabled'] as boolean | undefined) ?? d.api.enabled,
      host: (api['host'] as string | undefined) ?? d.api.host,
      port: (api['port'] as number | undefined) ?? d.api.port,
      allowedHosts: list(api['allowedHosts'], d.api.allowedHosts),
      enableDisperse: (api['enableDisperse'] as boolean | undefined) ?? d.api.enableDisperse,
      tokenFile: optionalPath(api['tokenFile']),
    },
    log: {
      level: (log['level'] as LogLevel | undefined) ?? d.log.level,
      json: (log['json'] as boolean | undefined) ?? d.log.json,
    },
    maxBlobSize: size(json['maxBlobSize'], d.maxBlobSize),
    servingBytesPerSecond: size(json['servingBytesPerSecond'], d.servingBytesPerSecond),
  }
}

/** The `chain` section: null (or absent) for the committee file. */
function chain(value: unknown): ChainConfig | null {
  if (value === undefined || value === null) return null
  const c = value as Record<string, unknown>
  return {
    rpcUrl: c['rpcUrl'] as string,
    registry: c['registry'] as string,
    confirmations: (c['confirmations'] as number | undefined) ?? DEFAULT_CHAIN_CONFIRMATIONS,
    pollIntervalSeconds: (c['pollIntervalSeconds'] as number | undefined) ?? DEFAULT_CHAIN_POLL_INTERVAL_SECONDS,
    maxHeadStallSeconds: (c['maxHeadStallSeconds'] as number | undefined) ?? DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS,
  }
}

/**
 * CLI_CONFIG_INVALID naming the source: `config field api.port must be ...` for the file,
 * `DACNET_API_PORT: must be ...` or `--api-port: must be ...` for the environment and flags.
 */
function invalid(problem: ConfigProblem, sources: ReadonlyMap<string, ConfigSource> = new Map()) {
  const { field, why } = problem
  const source = problem.key ? sources.get(problem.key.path) : undefined
  if (source !== undefined && source.kind !== 'file') {
    const entry = problem.entry === undefined ? '' : `entry ${problem.entry + 1} `
    return cliError(CliErrorCode.CONFIG_INVALID, `${source.name}: ${entry}${why}`, { field, source: source.name })
  }
  let message = `${sourceLabel(undefined, field)} ${why}`
  if (problem.missing) {
    // Required because the environment or a flag opened its section: say so, and how to set it the same way.
    const section = field.split('.')[0]
    const opener = [...sources].find(([path, s]) => s.kind !== 'file' && path.startsWith(`${section}.`))
    if (opener && opener[1].kind !== 'file') {
      message += ` (${opener[1].name} sets ${opener[0]}; set ${field} too, e.g. with ${envName(field)} or ${flagName(field)})`
    }
  }
  return cliError(CliErrorCode.CONFIG_INVALID, message, { field })
}
