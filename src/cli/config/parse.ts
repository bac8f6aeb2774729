import { resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { invalidAllowedHost } from '../../api/hosts.ts'
import type { LogLevel } from '../../logger.ts'
import type { SyncReads } from '../../storage/index.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { parseSize } from '../size.ts'
import {
  type ChainConfig,
  CONFIG_VERSION,
  DEFAULT_CHAIN_CONFIRMATIONS,
  DEFAULT_CHAIN_POLL_INTERVAL_SECONDS,
  defaultConfig,
  type NodeConfig,
} from './types.ts'

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']
/** Keys that are documentation, allowed in every object of the file (JSON has no comments). */
const COMMENT_KEY = '$comment'

/**
 * Validates a parsed config file and fills in defaults. Unknown fields are refused (a typo must not fall
 * back to a default silently); relative paths resolve against `baseDir`, the config file's directory.
 */
export function parseConfig(json: unknown, baseDir: string): NodeConfig {
  const d = defaultConfig()
  const root = section(json, '', [
    'version',
    'peerKeyFile',
    'keystore',
    'committeeFile',
    'chain',
    'dataDir',
    'network',
    'storage',
    'api',
    'log',
    'maxBlobSize',
  ])
  if (root['version'] !== CONFIG_VERSION) {
    throw cliError(
      CliErrorCode.CONFIG_VERSION,
      `config version ${JSON.stringify(root['version'])} is not ${CONFIG_VERSION}`,
      { field: 'version' },
    )
  }
  const path = (value: unknown, field: string, fallback: string) => resolve(baseDir, str(value, field, fallback))
  const optionalPath = (value: unknown, field: string) => {
    if (value === undefined || value === null) return null
    return resolve(baseDir, str(value, field, ''))
  }
  const keystore = section(root['keystore'], 'keystore', ['path', 'passwordFile'])
  const network = section(root['network'], 'network', [
    'listen',
    'announce',
    'bootstrap',
    'bootstrapFromCommittee',
    'localNetwork',
  ])
  const storage = section(root['storage'], 'storage', [
    'quotaBytes',
    'retentionSeconds',
    'pruneIntervalSeconds',
    'syncReads',
  ])
  const api = section(root['api'], 'api', ['enabled', 'host', 'port', 'allowedHosts', 'enableDisperse', 'tokenFile'])
  const log = section(root['log'], 'log', ['level', 'json'])
  const config: NodeConfig = {
    version: CONFIG_VERSION,
    peerKeyFile: path(root['peerKeyFile'], 'peerKeyFile', d.peerKeyFile),
    keystore: {
      path: path(keystore['path'], 'keystore.path', d.keystore.path),
      passwordFile: optionalPath(keystore['passwordFile'], 'keystore.passwordFile'),
    },
    committeeFile: path(root['committeeFile'], 'committeeFile', d.committeeFile),
    chain: chain(root['chain']),
    dataDir: path(root['dataDir'], 'dataDir', d.dataDir),
    network: {
      listen: multiaddrs(network['listen'], 'network.listen', d.network.listen),
      announce: multiaddrs(network['announce'], 'network.announce', d.network.announce),
      bootstrap: multiaddrs(network['bootstrap'], 'network.bootstrap', d.network.bootstrap),
      bootstrapFromCommittee: bool(
        network['bootstrapFromCommittee'],
        'network.bootstrapFromCommittee',
        d.network.bootstrapFromCommittee,
      ),
      localNetwork: bool(network['localNetwork'], 'network.localNetwork', d.network.localNetwork),
    },
    storage: {
      quotaBytes: size(storage['quotaBytes'], 'storage.quotaBytes', d.storage.quotaBytes),
      retentionSeconds: positive(storage['retentionSeconds'], 'storage.retentionSeconds', d.storage.retentionSeconds),
      pruneIntervalSeconds: positive(
        storage['pruneIntervalSeconds'],
        'storage.pruneIntervalSeconds',
        d.storage.pruneIntervalSeconds,
      ),
      syncReads: syncReads(storage['syncReads'], d.storage.syncReads),
    },
    api: {
      enabled: bool(api['enabled'], 'api.enabled', d.api.enabled),
      host: str(api['host'], 'api.host', d.api.host),
      port: port(api['port'], 'api.port', d.api.port),
      allowedHosts: allowedHosts(api['allowedHosts'], d.api.allowedHosts),
      enableDisperse: bool(api['enableDisperse'], 'api.enableDisperse', d.api.enableDisperse),
      tokenFile: optionalPath(api['tokenFile'], 'api.tokenFile'),
    },
    log: { level: logLevel(log['level'], d.log.level), json: bool(log['json'], 'log.json', d.log.json) },
    maxBlobSize: size(root['maxBlobSize'], 'maxBlobSize', d.maxBlobSize),
  }
  if (config.network.listen.length === 0) throw invalid('network.listen', 'must list at least one address')
  if (config.api.enableDisperse && config.api.tokenFile === null) {
    throw invalid('api.tokenFile', 'is required when api.enableDisperse is true (POST /v1/blobs needs a token)')
  }
  return config
}

function invalid(field: string, why: string) {
  return cliError(CliErrorCode.CONFIG_INVALID, `config field ${field || '(root)'} ${why}`, { field })
}

/** An object with only the allowed keys (plus comments); absent means empty, so every field defaults. */
function section(value: unknown, field: string, allowed: string[]): Record<string, unknown> {
  if (value === undefined && field !== '') return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'must be an object')
  for (const key of Object.keys(value)) {
    if (key !== COMMENT_KEY && !allowed.includes(key)) {
      throw invalid(field ? `${field}.${key}` : key, 'is not a known field (check its spelling)')
    }
  }
  return value as Record<string, unknown>
}

/** The `chain` section: null (or absent) for the committee file. */
function chain(value: unknown): ChainConfig | null {
  if (value === undefined || value === null) return null
  const c = section(value, 'chain', ['rpcUrl', 'registry', 'confirmations', 'pollIntervalSeconds'])
  const rpcUrl = str(c['rpcUrl'], 'chain.rpcUrl', '')
  if (!/^https?:\/\/\S+$/.test(rpcUrl))
    throw invalid('chain.rpcUrl', 'must be an http(s) URL of an Ethereum JSON-RPC endpoint')
  const registry = str(c['registry'], 'chain.registry', '')
  if (!/^0x[0-9a-fA-F]{40}$/.test(registry)) throw invalid('chain.registry', "must be the registry's 0x address")
  const confirmations = c['confirmations'] ?? DEFAULT_CHAIN_CONFIRMATIONS
  if (typeof confirmations !== 'number' || !Number.isSafeInteger(confirmations) || confirmations < 0) {
    throw invalid('chain.confirmations', 'must be a whole number of blocks (0 or more)')
  }
  const poll = c['pollIntervalSeconds'] ?? DEFAULT_CHAIN_POLL_INTERVAL_SECONDS
  if (typeof poll !== 'number' || !Number.isFinite(poll) || poll < 0.05 || poll > 3600) {
    throw invalid('chain.pollIntervalSeconds', 'must be a number of seconds in 0.05..3600')
  }
  return { rpcUrl, registry, confirmations, pollIntervalSeconds: poll }
}

function str(value: unknown, field: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string')
  return value
}

function bool(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false')
  return value
}

function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(field, 'must be a positive whole number')
  }
  return value
}

function syncReads(value: unknown, fallback: SyncReads): SyncReads {
  if (value === undefined) return fallback
  if (value !== true && value !== false && value !== 'recent') {
    throw invalid('storage.syncReads', 'must be true, false or "recent"')
  }
  return value
}

function port(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw invalid(field, 'must be a port number in 0..65535 (0 picks a free port)')
  }
  return value
}

/** Bytes as a number or a size string ("100GiB"). */
function size(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' && typeof value !== 'string')
    throw invalid(field, 'must be bytes or a size like "1GiB"')
  let bytes: number
  try {
    bytes = parseSize(value, field)
  } catch {
    throw invalid(field, `must be bytes or a size like "1GiB", got ${JSON.stringify(value)}`)
  }
  if (bytes < 1) throw invalid(field, 'must be at least 1 byte')
  return bytes
}

function multiaddrs(value: unknown, field: string, fallback: string[]): string[] {
  if (value === undefined) return [...fallback]
  if (!Array.isArray(value)) throw invalid(field, 'must be a list of multiaddrs')
  return value.map((addr, i) => {
    const bad = () =>
      invalid(`${field}[${i}]`, `is not a multiaddr like /ip4/1.2.3.4/tcp/5381: ${JSON.stringify(addr)}`)
    if (typeof addr !== 'string') throw bad()
    try {
      multiaddr(addr)
    } catch {
      throw bad()
    }
    return addr
  })
}

/** Host names the API answers to (without ports), or "*". */
function allowedHosts(value: unknown, fallback: string[]): string[] {
  if (value === undefined) return [...fallback]
  if (!Array.isArray(value))
    throw invalid('api.allowedHosts', 'must be a list of host names, e.g. ["node.example.org"]')
  return value.map((entry, i) => {
    const why = invalidAllowedHost(entry)
    if (why !== undefined) throw invalid(`api.allowedHosts[${i}]`, `${why}: ${JSON.stringify(entry)}`)
    return entry as string
  })
}

function logLevel(value: unknown, fallback: LogLevel): LogLevel {
  if (value === undefined) return fallback
  if (!LOG_LEVELS.includes(value as LogLevel)) throw invalid('log.level', `must be one of ${LOG_LEVELS.join(', ')}`)
  return value as LogLevel
}
