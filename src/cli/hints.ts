import { DacnetError } from '../errors.ts'
import { CliErrorCode, EXIT_FAILURE, EXIT_USAGE } from './errors.ts'

/**
 * The "what to do" line under each error. Codes are matched exactly first, then by their module prefix, so
 * every error of a known module gets advice even when its code is new.
 */
const BY_CODE: Record<string, string> = {
  CLI_USAGE: 'run the command with --help to see its arguments and options',
  CLI_FILE_NOT_FOUND: 'check the path (relative to the working directory, or in a config to the config file)',
  CLI_READ_FAILED: 'check that the file is readable and has the expected format',
  CLI_WRITE_FAILED: 'check that the directory exists and is writable, and that the disk is not full',
  CLI_FILE_TOO_LARGE: 'check that this is the right file',
  CLI_ALREADY_EXISTS: 'choose another directory; dacnet never overwrites keys or an existing devnet',
  CLI_CONFIG_INVALID: 'fix the field named above; docs/OPERATORS.md lists every field with its default',
  CLI_CONFIG_VERSION: 'this dacnet reads config version 1; write a new config with `dacnet init` and compare',
  CLI_PASSWORD_REQUIRED:
    'pass --password-file FILE, set DACNET_KEYSTORE_PASSWORD, set keystore.passwordFile in the config, or run in a terminal',
  CLI_PASSWORD_INVALID: 'use a non-empty password, typed the same way twice',
  CLI_MEMBER_CARD_INVALID: 'pass the member-card.json that `dacnet init` wrote in the node directory',
  CLI_KEY_MISMATCH: "the committee file lists other keys for this peer id: use the member's own node directory",
  CLI_NEEDS_CERTIFICATE:
    'pass the certificate JSON file, or --api URL of a node that holds the blob and kept its certificate',
  CLI_API_UNREACHABLE: 'check --api (default http://127.0.0.1:5380) and that the node runs with api.enabled',
  CLI_API_ERROR: 'see the node log for details',
  CLI_NOT_AVAILABLE: 'holders may be offline; retry later, and check the members with `dacnet status --api URL`',
  CLI_BAD_ENCODING:
    'the sequencer encoded this blob inconsistently: the evidence file proves it to anyone (verifyBadEncoding)',
  CLI_DB_CHECK_FAILED: 'see docs/STORAGE.md: corrupt entries are quarantined and never served',
  CLI_NODE_START_FAILED: "read the node's log (node.log in its directory) for the reason",
  CLI_DEVNET_FAILED: 'see the per-blob results above; node logs are in each node directory (keep them with --out)',
  CLI_ETH_KEY_REQUIRED:
    'pass --eth-key-file FILE (one line of hex, mode 0600) or set DACNET_ETH_KEY; keys are never taken as a flag value',
  CLI_ETH_KEY_INVALID: 'an Ethereum private key is 32 bytes of hex (64 digits, 0x optional) on one line',
  CLI_ETH_KEY_EXPOSED: 'make the key file readable by its owner only: chmod 600 FILE',
  CLI_CHAIN_FILE_INVALID: 'fix the field named above; `dacnet chain deploy` writes a valid chain.json (docs/CLI.md)',
  CLI_CHAIN_MISMATCH: 'check --rpc and --chain: they must name the same chain and deployment',
  CLI_INSUFFICIENT_FUNDS:
    "get staking tokens into the account first (a stand-in token's whole supply goes to its deployer)",
  CLI_NOT_A_MEMBER: 'register first: `dacnet register --config NODE/config.json --stake AMOUNT`',
  CLI_ALREADY_REGISTERED: 'one account holds one membership: change its stake with `dacnet stake` / `dacnet unstake`',
  CLI_CERTIFICATE_REFUSED: 'the reason above names the first check that failed (docs/PROTOCOL.md §4.5)',
  CLI_INTERRUPTED: 'nothing to do: the command was stopped before it finished',
  CLI_INTERNAL: 'this is a bug: rerun with --debug and report the stack trace',
  ATTEST_WRONG_PASSWORD: 'check the password file or DACNET_KEYSTORE_PASSWORD for this keystore',
  ATTEST_MALFORMED_KEYSTORE: 'the keystore must be the EIP-2335 keystore.json that `dacnet init` wrote',
  ATTEST_MALFORMED_CERTIFICATE: 'pass the certificate JSON that `dacnet disperse` wrote (or the devnet kept)',
  COMMITTEE_READ_FAILED: 'check --committee (default: $DACNET_COMMITTEE, else ./committee.json)',
  COMMITTEE_UNKNOWN_EPOCH: 'the committee file has no entry for that epoch: use a newer committee file',
  STORAGE_OPEN_FAILED: 'check the data directory; if the node is running, stop it first (LevelDB allows one user)',
  STORAGE_SCHEMA_TOO_NEW: 'upgrade dacnet: this data directory was written by a newer version',
  NODE_UNREGISTERED_SEQUENCER:
    "register the key's peer id (`dacnet identity --key FILE`) as a sequencer in the committee file",
  NODE_THRESHOLD_UNREACHABLE:
    'too much stake is offline, silent (NODE_SILENT: paused or unreachable) or refusing: check the members named above with `dacnet status --api URL`',
  NODE_BLOB_NOT_FOUND: 'check the blob id; the blob may never have been stored, or is past its retention',
  NODE_NOT_ENOUGH_SHARDS: 'too many holders are offline; retry later',
  ERASURE_INVALID_BLOB_ID: 'a blob id is a CID starting with bafkrei (as `dacnet disperse` prints)',
  ERASURE_BLOB_TOO_LARGE: 'split the data: blobs are at most 32 MiB by default',
  P2P_INVALID_KEY_FILE: 'pass a peer key file written by `dacnet init` or `dacnet identity`',
  P2P_LISTEN_FAILED:
    "another process holds that port (another node?), or the address is not this machine's: stop it, or change network.listen (config.json, --network-listen or DACNET_NETWORK_LISTEN; port 0 picks a free one)",
  CHAIN_TRANSACTION_FAILED:
    'the contract error is named above (docs/PROTOCOL.md §4.2); check the account with `dacnet chain status --eth-key-file FILE`',
  CHAIN_UNAVAILABLE: 'check --rpc (or rpcUrl in chain.json) and that the Ethereum node serves it',
  P2P_DIAL_FAILED: 'check that the members are running and that their multiaddrs in the committee file are right',
  P2P_TIMEOUT: 'the peer did not answer in time; check that it is running and reachable',
}

const BY_PREFIX: [string, string][] = [
  [
    'CHAIN_',
    'check the chain: is the RPC reachable, and does chain.json name this deployment? (`dacnet chain status`)',
  ],
  ['COMMITTEE_', 'fix the committee file (see `dacnet committee create --help`)'],
  ['ATTEST_', 'the certificate does not verify against this committee file: check --committee and the certificate'],
  ['STORAGE_', 'see docs/STORAGE.md for what the store refuses and why'],
  ['API_', 'see the node log for details'],
  ['NODE_', 'check the committee members with `dacnet status --api URL`'],
  ['P2P_', 'check the network: are the members running and reachable at their listed addresses?'],
  ['ERASURE_', 'check the input: see docs/PROTOCOL.md section 1 for the limits'],
]

export function hintFor(err: DacnetError): string | undefined {
  const own = err.meta['hint']
  if (typeof own === 'string') return own
  return BY_CODE[err.code] ?? BY_PREFIX.find(([prefix]) => err.code.startsWith(prefix))?.[1]
}

export function exitCodeOf(err: unknown): number {
  if (!(err instanceof DacnetError)) return EXIT_FAILURE
  if (err.code === CliErrorCode.USAGE) return EXIT_USAGE
  // A config value given as a flag is a bad value on the command line, whichever check refused it.
  const source = err.meta['source']
  if (err.code === CliErrorCode.CONFIG_INVALID && typeof source === 'string' && source.startsWith('--'))
    return EXIT_USAGE
  return EXIT_FAILURE
}

/**
 * What is printed for a failure: one line, `error CODE: message; hint: what to do`. Anything that is not a
 * DacnetError is a bug and reported as CLI_INTERNAL; the stack (and more lines) only with --debug.
 */
export function formatError(err: unknown, debug: boolean): string {
  const known = err instanceof DacnetError
  const code = known ? err.code : CliErrorCode.INTERNAL
  const message = err instanceof Error ? err.message : String(err)
  const hint = known ? hintFor(err) : BY_CODE[CliErrorCode.INTERNAL]
  const lines = [`error ${code}: ${oneLine(message)}${hint ? `; hint: ${hint}` : ''}`]
  if (debug) {
    if (err instanceof Error && err.stack) lines.push(err.stack)
    const cause = err instanceof Error ? err.cause : undefined
    if (cause instanceof Error && cause.stack) lines.push(`caused by: ${cause.stack}`)
    if (known && Object.keys(err.meta).length > 0) lines.push(`meta: ${safeJson(err.meta)}`)
  }
  return `${lines.join('\n')}\n`
}

/** Messages from lower layers may carry newlines (a libp2p error, a JSON parser); the error stays one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}

function safeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
}
