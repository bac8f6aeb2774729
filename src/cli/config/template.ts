import { sizeText } from '../size.ts'
import { type ConfigOverride, setConfigValue } from './sources.ts'
import { type ChainConfig, CONFIG_VERSION, defaultConfig, type NodeConfig } from './types.ts'

/**
 * The config file `init` writes: every field at its value (the default unless an option set it), with a
 * `$comment` per section since JSON has no comments. Paths stay relative to the node directory, so the
 * directory can be moved as a whole.
 */
export function configTemplate(overrides: ConfigOverrides = {}): Record<string, unknown> {
  const template = baseTemplate(overrides)
  for (const key of overrides.keys ?? []) setConfigValue(template, key.key.path, key.value)
  return template
}

function baseTemplate(overrides: ConfigOverrides): Record<string, unknown> {
  const d: NodeConfig = defaultConfig()
  return {
    $comment:
      'dacnet node config. Relative paths resolve against this file. Every field is optional and shown at its default unless set by init; each can also be set by a flag of `dacnet node` (api.port: --api-port) or an environment variable (DACNET_API_PORT), by precedence flag > environment > this file > default; dataDir must exist (it is never created by the node); chain: {rpcUrl, registry, confirmations, pollIntervalSeconds, maxHeadStallSeconds} follows the on-chain registry instead of committeeFile; docs: docs/OPERATORS.md',
    version: CONFIG_VERSION,
    peerKeyFile: d.peerKeyFile,
    keystore: {
      $comment:
        'EIP-2335 keystore of the BLS key. Password: passwordFile if set, else $DACNET_KEYSTORE_PASSWORD, else a prompt',
      path: d.keystore.path,
      passwordFile: overrides.passwordFile ?? null,
    },
    committeeFile: overrides.committeeFile ?? d.committeeFile,
    chain: overrides.chain ?? d.chain,
    dataDir: d.dataDir,
    network: {
      $comment:
        'announce: public multiaddrs peers should dial (default: the listen addresses); bootstrapFromCommittee dials the other members at start; localNetwork: devnets on one machine only',
      listen: overrides.listen ?? d.network.listen,
      announce: overrides.announce ?? d.network.announce,
      bootstrap: d.network.bootstrap,
      bootstrapFromCommittee: d.network.bootstrapFromCommittee,
      localNetwork: overrides.localNetwork ?? d.network.localNetwork,
    },
    storage: {
      $comment:
        'quotaBytes: bytes or a size like "100GiB"; retentionSeconds: fallback only, blobs keep their epoch\'s committee retention; syncReads: "recent", true (local NVMe) or false (network disks)',
      quotaBytes: sizeText(d.storage.quotaBytes),
      retentionSeconds: d.storage.retentionSeconds,
      pruneIntervalSeconds: d.storage.pruneIntervalSeconds,
      syncReads: d.storage.syncReads,
    },
    api: {
      $comment:
        'HTTP API: /health, /v1/status, /v1/blobs, /metrics. allowedHosts: Host names it answers to besides loopback names and a specific host (no port; needed when host is 0.0.0.0 or ::). enableDisperse serves POST /v1/blobs and needs tokenFile',
      enabled: d.api.enabled,
      host: overrides.apiHost ?? d.api.host,
      port: overrides.apiPort ?? d.api.port,
      allowedHosts: overrides.apiAllowedHosts ?? d.api.allowedHosts,
      enableDisperse: d.api.enableDisperse,
      tokenFile: d.api.tokenFile,
    },
    log: { $comment: 'level: debug, info, warn, error or silent; json: one JSON object per line', ...d.log },
    maxBlobSize: sizeText(d.maxBlobSize),
    servingBytesPerSecond: sizeText(d.servingBytesPerSecond),
  }
}

export interface ConfigOverrides {
  passwordFile?: string | null
  committeeFile?: string
  chain?: ChainConfig | null
  listen?: string[]
  announce?: string[]
  localNetwork?: boolean
  apiHost?: string
  apiPort?: number
  apiAllowedHosts?: string[]
  /** Any other keys, as `init`'s config flags give them (checked with parseConfig first); they win. */
  keys?: readonly ConfigOverride[]
}
