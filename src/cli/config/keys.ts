import { invalidAllowedHost } from '../../api/hosts.ts'

/**
 * Every key of the node config, in one table: the JSON schema of the file (schema.ts), the `--flag` and
 * `DACNET_*` environment variable of each key (sources.ts) and the table in docs/OPERATORS.md (doc.ts) are all
 * made from it, so no key can lack one of them. `version` is not a key: it names the file's layout.
 */
export interface ConfigKey {
  /** Dotted path in the config file, e.g. `api.allowedHosts`. */
  path: string
  /** How a value given as text (a flag or an environment variable) becomes the file's JSON value. */
  kind: ConfigKeyKind
  /** JSON schema of the value in the file. */
  schema: Record<string, unknown>
  /** What a valid value is, completing "<source>: ..." in the error for an invalid one. */
  rule: string
  /** For lists: why one entry is invalid (the value is the entry). */
  entryRule?: (entry: unknown) => string
  /** One line for --help and the docs. */
  summary: string
}

export type ConfigKeyKind =
  | 'path'
  | 'optionalPath'
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'size'
  | 'list'
  | 'syncReads'

const path = { type: 'string', minLength: 1 }
const optionalPath = { type: ['string', 'null'], minLength: 1 }
/** The prefix of a size format's name. */
export const SIZE_FORMAT = 'size'
/**
 * A byte size in `min..max`, as a number or as text like "1GiB": its format (`size:min:max`, registered by
 * schema.ts for every range used here) holds text to the same range as `minimum` and `maximum` hold a number.
 */
const size = (min: number, max: number) => ({
  type: ['integer', 'string'],
  minimum: min,
  maximum: max,
  format: `${SIZE_FORMAT}:${min}:${max}`,
})
/** The largest blob a node may be configured to take: far above the protocol's default 32 MiB, and memory-safe. */
export const MAX_CONFIG_BLOB_SIZE = 1024 ** 3
/** A hundred years, in seconds: any retention beyond it is a typo, and it stays a safe integer in milliseconds. */
export const MAX_RETENTION_SECONDS = 3_155_760_000
const multiaddrs = (minItems: number) => ({ type: 'array', minItems, items: { type: 'string', format: 'multiaddr' } })
const multiaddrEntry = (entry: unknown) =>
  `is not a multiaddr like /ip4/1.2.3.4/tcp/5381: ${JSON.stringify(entry) ?? String(entry)}`
const PATH_RULE = 'must be a non-empty file path'
const SIZE_RULE = 'must be bytes or a size like "1GiB" (at least 1 byte)'
/** What a whole number in `min..max` is, for a rule. */
const range = (min: number, max: number) => `${min}..${max}`

/** Sections of the file; `chain` may also be null (committees from the committee file). */
export const CONFIG_SECTIONS = ['keystore', 'chain', 'network', 'storage', 'api', 'log'] as const
export const NULLABLE_SECTIONS: readonly string[] = ['chain']

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

export const CONFIG_KEYS: readonly ConfigKey[] = [
  {
    path: 'peerKeyFile',
    kind: 'path',
    schema: path,
    rule: PATH_RULE,
    summary: 'libp2p identity (protobuf private key, mode 0600)',
  },
  {
    path: 'keystore.path',
    kind: 'path',
    schema: path,
    rule: PATH_RULE,
    summary: 'EIP-2335 keystore of the BLS signing key',
  },
  {
    path: 'keystore.passwordFile',
    kind: 'optionalPath',
    schema: optionalPath,
    rule: 'must be a non-empty file path or null',
    summary: 'file holding the keystore password; none: $DACNET_KEYSTORE_PASSWORD, else a prompt',
  },
  {
    path: 'committeeFile',
    kind: 'path',
    schema: path,
    rule: PATH_RULE,
    summary: 'the committee file (reloaded on SIGHUP), when there is no chain section',
  },
  {
    path: 'chain.rpcUrl',
    kind: 'string',
    schema: { type: 'string', pattern: '^https?://\\S+$' },
    rule: 'must be an http(s) URL of an Ethereum JSON-RPC endpoint',
    summary: 'committees from the registry on the chain: its JSON-RPC endpoint',
  },
  {
    path: 'chain.registry',
    kind: 'string',
    schema: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
    rule: "must be the registry's 0x address (40 hex digits)",
    summary: "the DacnetRegistry's address",
  },
  {
    path: 'chain.confirmations',
    kind: 'integer',
    schema: { type: 'integer', minimum: 0, maximum: 10_000 },
    rule: `must be a whole number of blocks in ${range(0, 10_000)}`,
    summary: 'blocks below the head that count as final (0..10000)',
  },
  {
    path: 'chain.pollIntervalSeconds',
    kind: 'number',
    schema: { type: 'number', minimum: 0.05, maximum: 3600 },
    rule: 'must be a number of seconds in 0.05..3600',
    summary: 'how often the node reads new blocks',
  },
  {
    path: 'chain.maxHeadStallSeconds',
    kind: 'number',
    schema: { type: 'number', minimum: 1, maximum: 86_400 },
    rule: 'must be a number of seconds in 1..86400',
    summary: 'a head that has not moved for this long is a stalled RPC: the chain view reads stale',
  },
  {
    path: 'dataDir',
    kind: 'path',
    schema: path,
    rule: PATH_RULE,
    summary: 'the LevelDB shard store; must exist (init creates it)',
  },
  {
    path: 'network.listen',
    kind: 'list',
    schema: multiaddrs(1),
    rule: 'must be a list of multiaddrs with at least one address',
    entryRule: multiaddrEntry,
    summary: 'libp2p listen addresses',
  },
  {
    path: 'network.announce',
    kind: 'list',
    schema: multiaddrs(0),
    rule: 'must be a list of multiaddrs',
    entryRule: multiaddrEntry,
    summary: 'addresses others should dial (public DNS name or IP behind NAT)',
  },
  {
    path: 'network.bootstrap',
    kind: 'list',
    schema: multiaddrs(0),
    rule: 'must be a list of multiaddrs',
    entryRule: multiaddrEntry,
    summary: 'extra peers dialled at start (each ending in /p2p/PEERID)',
  },
  {
    path: 'network.bootstrapFromCommittee',
    kind: 'boolean',
    schema: { type: 'boolean' },
    rule: 'must be true or false',
    summary: 'dial the other members of the newest epoch at start',
  },
  {
    path: 'network.localNetwork',
    kind: 'boolean',
    schema: { type: 'boolean' },
    rule: 'must be true or false',
    summary: 'loopback peers count as distinct hosts: devnets on one machine only',
  },
  {
    path: 'storage.quotaBytes',
    kind: 'size',
    schema: size(1, Number.MAX_SAFE_INTEGER),
    rule: SIZE_RULE,
    summary: 'logical bytes the store may hold',
  },
  {
    path: 'storage.retentionSeconds',
    kind: 'integer',
    schema: { type: 'integer', minimum: 1, maximum: MAX_RETENTION_SECONDS },
    rule: `must be a whole number of seconds in ${range(1, MAX_RETENTION_SECONDS)} (a hundred years)`,
    summary: "fallback only: blobs keep the retention of their epoch's committee",
  },
  {
    path: 'storage.pruneIntervalSeconds',
    kind: 'integer',
    schema: { type: 'integer', minimum: 1, maximum: 86_400 },
    rule: `must be a whole number of seconds in ${range(1, 86_400)} (a day)`,
    summary: 'how often expired blobs are looked for (1..86400)',
  },
  {
    path: 'storage.syncReads',
    kind: 'syncReads',
    schema: { enum: [true, false, 'recent'] },
    rule: 'must be true, false or "recent"',
    summary: 'synchronous shard reads: "recent" blobs, true (local NVMe) or false (network disks)',
  },
  {
    path: 'api.enabled',
    kind: 'boolean',
    schema: { type: 'boolean' },
    rule: 'must be true or false',
    summary: 'serve the HTTP API',
  },
  {
    path: 'api.host',
    kind: 'string',
    schema: { type: 'string', minLength: 1 },
    rule: 'must be a non-empty host address',
    summary: 'address the API listens on',
  },
  {
    path: 'api.port',
    kind: 'integer',
    schema: { type: 'integer', minimum: 0, maximum: 65535 },
    rule: 'must be a port number in 0..65535 (0 picks a free port)',
    summary: 'port of the API',
  },
  {
    path: 'api.allowedHosts',
    kind: 'list',
    schema: { type: 'array', items: { type: 'string', format: 'allowed-host' } },
    rule: 'must be a list of host names, e.g. ["node.example.org"]',
    entryRule: (entry) =>
      `${invalidAllowedHost(entry) ?? 'is not a host name'}: ${JSON.stringify(entry) ?? String(entry)}`,
    summary: 'Host names the API answers to besides loopback names and a specific api.host',
  },
  {
    path: 'api.enableDisperse',
    kind: 'boolean',
    schema: { type: 'boolean' },
    rule: 'must be true or false',
    summary: 'serve POST /v1/blobs (needs api.tokenFile)',
  },
  {
    path: 'api.tokenFile',
    kind: 'optionalPath',
    schema: optionalPath,
    rule: 'must be a non-empty file path or null',
    summary: 'file holding the bearer token POST /v1/blobs requires',
  },
  {
    path: 'log.level',
    kind: 'string',
    schema: { enum: [...LOG_LEVELS] },
    rule: `must be one of ${LOG_LEVELS.join(', ')}`,
    summary: 'lowest level logged',
  },
  {
    path: 'log.json',
    kind: 'boolean',
    schema: { type: 'boolean' },
    rule: 'must be true or false',
    summary: 'JSON lines instead of text (the container image sets it)',
  },
  {
    path: 'maxBlobSize',
    kind: 'size',
    schema: size(1, MAX_CONFIG_BLOB_SIZE),
    rule: 'must be bytes or a size like "32MiB", from 1 byte to 1GiB',
    summary: 'largest blob the node stores a share of, and accepts on POST /v1/blobs; at most 1GiB',
  },
  {
    path: 'servingBytesPerSecond',
    kind: 'size',
    schema: size(1024, Number.MAX_SAFE_INTEGER),
    rule: 'must be bytes or a size like "8MiB" (at least 1KiB)',
    summary: 'shard bytes served per second node-wide (sample, retrieve, HTTP API), shared fairly; at least 1KiB',
  },
]

/** Environment variables start with this; the rest is the key path in upper snake case. */
export const ENV_PREFIX = 'DACNET_'

/** `api.allowedHosts` → `DACNET_API_ALLOWED_HOSTS`. */
export function envName(keyPath: string): string {
  return ENV_PREFIX + words(keyPath).join('_').toUpperCase()
}

/** `api.allowedHosts` → `--api-allowed-hosts`. */
export function flagName(keyPath: string): string {
  return `--${words(keyPath).join('-').toLowerCase()}`
}

/** The words of a key path: split at dots and at lower-to-upper case changes. */
function words(keyPath: string): string[] {
  return keyPath
    .split('.')
    .flatMap((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(' '))
    .filter((w) => w.length > 0)
}

export function configKey(keyPath: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.path === keyPath)
}
