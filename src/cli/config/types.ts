import { DEFAULT_ALLOWED_HOSTS } from '../../api/hosts.ts'
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../../api/index.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../../erasure/params.ts'
import type { LogLevel } from '../../logger.ts'
import { DEFAULT_SERVING_BYTES_PER_SECOND } from '../../node/serving-budget.ts'
import {
  DEFAULT_PRUNE_INTERVAL_MS,
  DEFAULT_QUOTA_BYTES,
  DEFAULT_RETENTION_MS,
  type SyncReads,
} from '../../storage/index.ts'

/** The config layout this dacnet reads and `init` writes. */
export const CONFIG_VERSION = 1

/** The node directory's files, as `init` names them; the config refers to them by these relative paths. */
export const CONFIG_FILE = 'config.json'
export const PEER_KEY_FILE = 'peer.key'
export const KEYSTORE_FILE = 'keystore.json'
export const DATA_DIR = 'data'
export const MEMBER_CARD_FILE = 'member-card.json'
export const COMMITTEE_FILE = 'committee.json'

/**
 * TCP for operators, WebSockets for browsers and restrictive networks; on every interface because a
 * committee member must be reachable by sequencers and light clients. 5381 and 5382 sit next to the API's 5380.
 */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/5381', '/ip4/0.0.0.0/tcp/5382/ws']

/**
 * A committee node's configuration, after validation. Relative paths are already resolved against the
 * config file's directory. Every field has a default (docs/OPERATORS.md §3 lists them).
 */
export interface NodeConfig {
  version: number
  /** libp2p identity (protobuf private key, mode 0600). Default "peer.key". */
  peerKeyFile: string
  keystore: {
    /** EIP-2335 keystore of the BLS signing key. Default "keystore.json". */
    path: string
    /**
     * File holding the keystore password (one trailing newline is ignored). Default null: then the
     * DACNET_KEYSTORE_PASSWORD environment variable, then a prompt on a terminal.
     */
    passwordFile: string | null
  }
  /** The committee file (`dacnet committee create`), used when `chain` is null. Default "committee.json". */
  committeeFile: string
  /**
   * Committees from the DacnetRegistry on an EVM chain instead of a file (docs/OPERATORS.md, "Staking on the
   * chain"). Default null: the committee file.
   */
  chain: ChainConfig | null
  /** LevelDB directory of the shard store. Default "data". */
  dataDir: string
  network: {
    /** Listen multiaddrs. Default DEFAULT_LISTEN. */
    listen: string[]
    /** Multiaddrs announced to peers instead of the listen addresses (public DNS/IP). Default []. */
    announce: string[]
    /** Extra multiaddrs dialled at start (with /p2p/<peerId>). Default []. */
    bootstrap: string[]
    /** Also dial every other member listed in the committee file at start. Default true. */
    bootstrapFromCommittee: boolean
    /** Treat loopback peers as distinct hosts (devnets on one machine only). Default false. */
    localNetwork: boolean
  }
  storage: {
    /** Logical bytes the store may hold. Default DEFAULT_QUOTA_BYTES (100 GiB). */
    quotaBytes: number
    /**
     * Retention of a blob stored without its own. Members store every blob with its epoch's
     * `retentionSeconds` from the committee file, so this is a fallback. Default 14 days.
     */
    retentionSeconds: number
    /** How often the pruner looks for expired blobs. Default 60 s. */
    pruneIntervalSeconds: number
    /**
     * Shard reads with LevelDB's synchronous get: "recent" (default) for blobs stored in the last 10 minutes,
     * true always (local NVMe), false never (network disks). See docs/STORAGE.md.
     */
    syncReads: SyncReads
  }
  api: {
    /** Serve the HTTP API (health, status, blobs, metrics). Default true. */
    enabled: boolean
    /** Default 127.0.0.1: exposing the API beyond the machine is an explicit choice. */
    host: string
    /** Default 5380. */
    port: number
    /**
     * Host names (or IPs, without a port) the API answers to besides loopback names and a specific `host`; other
     * Host headers get 421 API_HOST_NOT_ALLOWED. "*" turns the check off. Default [] (DEFAULT_ALLOWED_HOSTS).
     */
    allowedHosts: string[]
    /** Serve POST /v1/blobs (this node's peer id must be a registered sequencer). Default false. */
    enableDisperse: boolean
    /** File holding the bearer token POST /v1/blobs requires; needed with enableDisperse. Default null. */
    tokenFile: string | null
  }
  log: {
    /** debug, info, warn, error or silent. Default info. */
    level: LogLevel
    /** One JSON object per line instead of text. Default false. */
    json: boolean
  }
  /** Largest blob this node stores a share of, and accepts on POST /v1/blobs. Default 32 MiB. */
  maxBlobSize: number
  /**
   * Shard bytes (with proofs) served per second node-wide, shared fairly between requesters (at least 1 KiB).
   * Default DEFAULT_SERVING_BYTES_PER_SECOND (8 MiB).
   */
  servingBytesPerSecond: number
}

export interface ChainConfig {
  /** JSON-RPC endpoint of an Ethereum node that serves logs since the registry's deployment. */
  rpcUrl: string
  /** The DacnetRegistry's address (0x…). */
  registry: string
  /** Blocks below the head that count as final. Default 2. */
  confirmations: number
  /** How often the node reads new blocks. Default 4 s. */
  pollIntervalSeconds: number
  /**
   * A head that has not moved for this long makes the node report its chain view stale (CHAIN_HEAD_STALLED): a
   * stalled RPC node. Default 120 s; raise it on a chain that makes blocks only when it has transactions.
   */
  maxHeadStallSeconds: number
}

/** Defaults of a `chain` section: two blocks survive ordinary reorgs; a poll a third of a 12 s slot. */
export const DEFAULT_CHAIN_CONFIRMATIONS = 2
export const DEFAULT_CHAIN_POLL_INTERVAL_SECONDS = 4
/** Ten Ethereum slots without a block: the RPC node has stalled (DEFAULT_MAX_HEAD_STALL_MS of the chain source). */
export const DEFAULT_CHAIN_MAX_HEAD_STALL_SECONDS = 120

export function defaultConfig(): NodeConfig {
  return {
    version: CONFIG_VERSION,
    peerKeyFile: PEER_KEY_FILE,
    keystore: { path: KEYSTORE_FILE, passwordFile: null },
    committeeFile: COMMITTEE_FILE,
    chain: null,
    dataDir: DATA_DIR,
    network: {
      listen: [...DEFAULT_LISTEN],
      announce: [],
      bootstrap: [],
      bootstrapFromCommittee: true,
      localNetwork: false,
    },
    storage: {
      quotaBytes: DEFAULT_QUOTA_BYTES,
      retentionSeconds: DEFAULT_RETENTION_MS / 1000,
      pruneIntervalSeconds: DEFAULT_PRUNE_INTERVAL_MS / 1000,
      syncReads: 'recent',
    },
    api: {
      enabled: true,
      host: DEFAULT_API_HOST,
      port: DEFAULT_API_PORT,
      allowedHosts: [...DEFAULT_ALLOWED_HOSTS],
      enableDisperse: false,
      tokenFile: null,
    },
    log: { level: 'info', json: false },
    maxBlobSize: DEFAULT_MAX_BLOB_SIZE,
    servingBytesPerSecond: DEFAULT_SERVING_BYTES_PER_SECOND,
  }
}
