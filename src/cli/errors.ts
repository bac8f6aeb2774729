import { DacnetError, type ErrorMeta } from '../errors.ts'

/** Stable codes for what the `dacnet` command itself refuses. Errors of the layers below keep their codes. */
export const CliErrorCode = {
  /** Arguments or options are missing, unknown or malformed (exit code 2). */
  USAGE: 'CLI_USAGE',
  /** A file or directory named on the command line or in the config does not exist. */
  FILE_NOT_FOUND: 'CLI_FILE_NOT_FOUND',
  /** A file exists but could not be read, or is not what it should be (e.g. not JSON). */
  READ_FAILED: 'CLI_READ_FAILED',
  /** A file could not be written. */
  WRITE_FAILED: 'CLI_WRITE_FAILED',
  /** A file is larger than the command accepts (checked before reading it). */
  FILE_TOO_LARGE: 'CLI_FILE_TOO_LARGE',
  /** `init` or `devnet --out` would overwrite an existing node directory or devnet. */
  ALREADY_EXISTS: 'CLI_ALREADY_EXISTS',
  /** The config file does not follow the documented layout (unknown field, wrong type, out of range). */
  CONFIG_INVALID: 'CLI_CONFIG_INVALID',
  /** The config file's `version` is not one this dacnet reads. */
  CONFIG_VERSION: 'CLI_CONFIG_VERSION',
  /** No keystore password: no --password-file, no DACNET_KEYSTORE_PASSWORD, and no terminal to ask on. */
  PASSWORD_REQUIRED: 'CLI_PASSWORD_REQUIRED',
  /** The password given is empty, or the two entries at the prompt differ. */
  PASSWORD_INVALID: 'CLI_PASSWORD_INVALID',
  /** A member card is not the JSON that `dacnet init` writes. */
  MEMBER_CARD_INVALID: 'CLI_MEMBER_CARD_INVALID',
  /** The node's keys are not the ones the committee file lists for its peer id. */
  KEY_MISMATCH: 'CLI_KEY_MISMATCH',
  /** `sample` was given a blob id but no way to get its certificate. */
  NEEDS_CERTIFICATE: 'CLI_NEEDS_CERTIFICATE',
  /** The node API could not be reached. */
  API_UNREACHABLE: 'CLI_API_UNREACHABLE',
  /** The node API answered with an error that carries no dacnet code. */
  API_ERROR: 'CLI_API_ERROR',
  /** Sampling ended below the target confidence: the blob may be unavailable. */
  NOT_AVAILABLE: 'CLI_NOT_AVAILABLE',
  /** Retrieval reached the BadEncoding verdict; the evidence was written next to the output. */
  BAD_ENCODING: 'CLI_BAD_ENCODING',
  /** `db check` found corrupt entries, attested blobs with shards missing, or inconsistent counters. */
  DB_CHECK_FAILED: 'CLI_DB_CHECK_FAILED',
  /** A devnet node process exited or did not become ready in time. */
  NODE_START_FAILED: 'CLI_NODE_START_FAILED',
  /** `devnet --once`: at least one blob was not certified, sampled available and retrieved intact. */
  DEVNET_FAILED: 'CLI_DEVNET_FAILED',
  /** A chain command needs an Ethereum key: no --eth-key-file and no DACNET_ETH_KEY. */
  ETH_KEY_REQUIRED: 'CLI_ETH_KEY_REQUIRED',
  /** The Ethereum key is not one line of 32-byte hex, or not a valid secp256k1 private key. */
  ETH_KEY_INVALID: 'CLI_ETH_KEY_INVALID',
  /** The Ethereum key file can be read by its group or by others: it is refused until only its owner can. */
  ETH_KEY_EXPOSED: 'CLI_ETH_KEY_EXPOSED',
  /** chain.json does not follow the documented layout (unknown field, wrong type, bad address). */
  CHAIN_FILE_INVALID: 'CLI_CHAIN_FILE_INVALID',
  /** The RPC serves another chain than chain.json names, or the registry there is another network's. */
  CHAIN_MISMATCH: 'CLI_CHAIN_MISMATCH',
  /** The account holds fewer staking tokens than the transaction moves. */
  INSUFFICIENT_FUNDS: 'CLI_INSUFFICIENT_FUNDS',
  /** `stake` or `unstake` from an account that is not a member of the registry. */
  NOT_A_MEMBER: 'CLI_NOT_A_MEMBER',
  /** `register` from an account that is a member already. */
  ALREADY_REGISTERED: 'CLI_ALREADY_REGISTERED',
  /** `chain verify`: the verifier contract or the off-chain check refused the certificate. */
  CERTIFICATE_REFUSED: 'CLI_CERTIFICATE_REFUSED',
  /** The command was stopped by Ctrl-C or SIGTERM before it finished. */
  INTERRUPTED: 'CLI_INTERRUPTED',
  /** Something failed that no code describes: a bug. */
  INTERNAL: 'CLI_INTERNAL',
} as const

export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode]

/** Exit codes: 2 for usage errors (as POSIX tools do), 1 for every other failure. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
/** A second Ctrl-C cut a clean stop short: 128 + SIGINT, as shells report a process killed by it. */
export const EXIT_FORCED = 130

/**
 * A CLI error. `hint` (in meta) is the "what to do" line printed under the error; without one, the hint
 * comes from the code (see hints.ts).
 */
export function cliError(
  code: CliErrorCode,
  message: string,
  meta: ErrorMeta & { hint?: string } = {},
  options?: ErrorOptions,
): DacnetError<CliErrorCode> {
  return new DacnetError(code, message, meta, options)
}

export function usageError(message: string, hint?: string): DacnetError<CliErrorCode> {
  return cliError(CliErrorCode.USAGE, message, hint ? { hint } : {})
}
