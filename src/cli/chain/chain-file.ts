import { type Address, getAddress, isAddress } from 'viem'
import { CliErrorCode, cliError } from '../errors.ts'
import { readJsonFile, toJson, writeFileAtomic } from '../files.ts'

/**
 * chain.json: where a dacnet deployment lives. `dacnet chain deploy` and the devnet write it; every chain command
 * reads it (--chain FILE or $DACNET_CHAIN).
 */
export interface ChainFile {
  /** JSON-RPC endpoint (http or https); --rpc overrides it. */
  readonly rpcUrl: string
  /** The EVM chain id the contracts live on; transactions are signed for it. */
  readonly chainId: number
  readonly registry: Address
  readonly certificateVerifier: Address
  /** The staking token (the registry's `token()`). */
  readonly token: Address
  /** The registry's genesis block: epoch e begins at deploymentBlock + e·epochBlocks. */
  readonly deploymentBlock: number
  readonly epochBlocks: number
  /** The u32 network id of every header, attestation and certificate on this deployment. */
  readonly networkId: number
}

export const CHAIN_FILE = 'chain.json'
/** A chain.json is a few hundred bytes; anything near this is not one. */
const MAX_CHAIN_FILE_BYTES = 64 * 1024
const FIELDS = [
  'rpcUrl',
  'chainId',
  'registry',
  'certificateVerifier',
  'token',
  'deploymentBlock',
  'epochBlocks',
  'networkId',
] as const

export async function readChainFile(path: string): Promise<ChainFile> {
  return parseChainFile(await readJsonFile(path, 'chain file', MAX_CHAIN_FILE_BYTES), path)
}

/** Validates strictly: every field present with its type, no other field (`$comment` aside), addresses checked. */
export function parseChainFile(json: unknown, source: string): ChainFile {
  const bad = (field: string | undefined, why: string) =>
    cliError(CliErrorCode.CHAIN_FILE_INVALID, `chain file ${source}: ${field ? `"${field}" ` : ''}${why}`, {
      path: source,
      ...(field ? { field } : {}),
    })
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(undefined, 'is not a JSON object')
  const o = json as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (key !== '$comment' && !(FIELDS as readonly string[]).includes(key)) throw bad(key, 'is not a chain file field')
  }
  for (const key of FIELDS) if (o[key] === undefined) throw bad(key, 'is missing')
  const rpcUrl = o['rpcUrl']
  if (typeof rpcUrl !== 'string' || !isHttpUrl(rpcUrl)) throw bad('rpcUrl', 'must be an http(s) URL')
  const address = (field: string): Address => {
    const value = o[field]
    // Mixed case must be the EIP-55 checksum: a typo in a checksummed address is caught here.
    if (typeof value !== 'string' || !isAddress(value, { strict: true })) {
      throw bad(field, 'must be a 0x address (40 hex digits; mixed case only as its EIP-55 checksum)')
    }
    return getAddress(value)
  }
  const integer = (field: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = o[field]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw bad(field, `must be a whole number in ${min}..${max}`)
    }
    return value
  }
  return {
    rpcUrl,
    chainId: integer('chainId', 1),
    registry: address('registry'),
    certificateVerifier: address('certificateVerifier'),
    token: address('token'),
    deploymentBlock: integer('deploymentBlock', 0),
    epochBlocks: integer('epochBlocks', 1),
    networkId: integer('networkId', 0, 0xffff_ffff),
  }
}

/** Written atomically, addresses in their checksummed form, fields in the documented order. */
export async function writeChainFile(path: string, file: ChainFile, opts: { exclusive?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, `${chainFileJson(file)}\n`, opts)
}

export function chainFileJson(file: ChainFile): string {
  return toJson(Object.fromEntries(FIELDS.map((field) => [field, file[field]])))
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}
