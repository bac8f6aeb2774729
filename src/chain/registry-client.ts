/**
 * Transactions and reads against a deployed registry and verifier (docs/PROTOCOL.md §4): what `dacnet register`,
 * `stake`, `unstake`, `chain verify` and the devnet do. Every transaction is waited for and a revert becomes a
 * CHAIN_TRANSACTION_FAILED error naming the contract's error.
 */
import { base58btc } from 'multiformats/bases/base58'
import {
  type Account,
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeFunctionResult,
  encodeDeployData,
  encodeFunctionData,
  type Hash,
  type Hex,
  http,
  type PublicClient,
  parseEventLogs,
  toHex,
  type WalletClient,
} from 'viem'
import type { SecretKey } from '../attest/bls.ts'
import { publicKeyOf } from '../attest/keys.ts'
import { createProofOfPossession } from '../attest/pop.ts'
import { normalizePeerId } from '../committee/peer-id.ts'
import { dacnetCertificateVerifierAbi } from './artifacts/DacnetCertificateVerifier.ts'
import { dacnetGasProbeAbi, dacnetGasProbeBytecode } from './artifacts/DacnetGasProbe.ts'
import { dacnetRegistryAbi } from './artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi } from './artifacts/DacnetToken.ts'
import { ChainErrorCode, chainError, rpcFailure } from './errors.ts'
import { publicKeyY, signatureY } from './points.ts'

/**
 * The least gas limit of registry transactions, which get 1.2 times their estimate plus EPOCH_FIRST_GAS when that is
 * more (a registration with many long multiaddrs). An estimate runs the call in the latest block, but a transaction
 * that lands as the first of a new epoch also records the epoch's start and may archive a record (about 90k more);
 * a registration with its on-chain pairing stays under 1M. Unused gas is not paid.
 */
export const REGISTRY_GAS_LIMIT = 1_500_000n

/** Gas added to an estimate for what an epoch's first registry transaction pays on top (recording the epoch, archiving a record). */
const EPOCH_FIRST_GAS = 100_000n

/** A registry and the account that sends transactions to it. */
export interface RegistryWriter {
  readonly publicClient: PublicClient
  readonly walletClient: WalletClient
  readonly account: Account
  readonly registry: Address
}

/** Clients for one JSON-RPC endpoint; the wallet signs locally with `account`. */
export function chainClients(
  rpcUrl: string,
  account?: Account,
): { publicClient: PublicClient; walletClient: WalletClient } {
  const transport = http(rpcUrl, { timeout: 30_000, retryCount: 1 })
  // Receipts are polled every 250 ms (viem's default is 4 s, a mainnet slot's third; local chains mine at once).
  return {
    publicClient: createPublicClient({ transport, pollingInterval: 250, cacheTime: 0 }),
    walletClient: createWalletClient({ transport, pollingInterval: 250, ...(account ? { account } : {}) }),
  }
}

/** The binary multihash of a textual peer id: what the registry stores and checks (§4.2). */
export function peerIdToBytes(peerId: string): Uint8Array {
  return base58btc.baseDecode(normalizePeerId(peerId))
}

export interface Registration {
  /** The member's BLS key: its public key, y coordinate and proof of possession are derived from it. */
  readonly secretKey: SecretKey
  readonly peerId: string
  readonly multiaddrs: readonly string[]
  /** Stake to deposit, in token units (approved to the registry first). */
  readonly stake: bigint
}

/** The arguments of `register` for a member (§4.2): compressed key and proof, each with its y coordinate. */
export function registerArguments(r: Registration) {
  const publicKey = publicKeyOf(r.secretKey)
  const proof = createProofOfPossession(r.secretKey)
  return [
    toHex(publicKey),
    toHex(publicKeyY(publicKey)),
    toHex(proof),
    toHex(signatureY(proof)),
    toHex(peerIdToBytes(r.peerId)),
    [...r.multiaddrs],
    r.stake,
  ] as const
}

/** Approves the stake to the registry and registers; resolves once both are mined. */
export async function registerMember(w: RegistryWriter, r: Registration): Promise<{ hash: Hash; block: bigint }> {
  await approveStake(w, r.stake)
  return send(w, 'register', registerArguments(r))
}

export async function addStake(w: RegistryWriter, amount: bigint): Promise<{ hash: Hash; block: bigint }> {
  await approveStake(w, amount)
  return send(w, 'addStake', [amount])
}

/** Lowers the stake by `amount` (all of it: the member leaves); the amount unbonds (§4.2). */
export async function unstake(w: RegistryWriter, amount: bigint): Promise<{ hash: Hash; block: bigint }> {
  return send(w, 'unstake', [amount])
}

/** Pays out an unbonded entry whose lock has ended; 0 while it is locked (the call then fixes its release time). */
export async function withdraw(w: RegistryWriter): Promise<bigint> {
  let result: bigint
  try {
    ;({ result } = await w.publicClient.simulateContract({
      address: w.registry,
      abi: dacnetRegistryAbi,
      functionName: 'withdraw',
      account: w.account,
    }))
  } catch (err) {
    throw transactionError('withdraw', err)
  }
  await send(w, 'withdraw', [])
  return result
}

/**
 * withdraw() that reports what the mined transaction paid (its Withdrawn event), not what a call in the block
 * before said: a lock can end between the two.
 */
export async function withdrawStake(w: RegistryWriter): Promise<{ paid: bigint; hash: Hash; block: bigint }> {
  const { hash, block } = await send(w, 'withdraw', [])
  const receipt = await w.publicClient.getTransactionReceipt({ hash })
  const paid = parseEventLogs({ abi: dacnetRegistryAbi, eventName: 'Withdrawn', logs: receipt.logs })
    .filter((log) => log.address.toLowerCase() === w.registry.toLowerCase())
    .reduce((sum, log) => sum + log.args.amount, 0n)
  return { paid, hash, block }
}

/** An operator's standing in the registry: its live membership (§4.2) and its unbonding entry. */
export interface OperatorStatus {
  readonly registered: boolean
  /** The member index in the live committee (meaningful when registered). */
  readonly index: number
  readonly stake: bigint
  readonly unbonding: {
    readonly amount: bigint
    /** The last epoch the unbonding stake served in; the lock runs from the start of the epoch after it. */
    readonly lastServedEpoch: bigint
    /** Seconds since the Unix epoch; 0 until a withdraw() after lastServedEpoch fixes it. */
    readonly releaseAt: bigint
  }
}

export async function operatorStatus(
  client: PublicClient,
  registry: Address,
  operator: Address,
): Promise<OperatorStatus> {
  const [member, unbonding] = await Promise.all([
    client.readContract({ address: registry, abi: dacnetRegistryAbi, functionName: 'memberOf', args: [operator] }),
    client.readContract({ address: registry, abi: dacnetRegistryAbi, functionName: 'unbonding', args: [operator] }),
  ]).catch((err: unknown) => {
    throw readError(`the standing of ${operator}`, registry, err)
  })
  return {
    registered: member[0],
    index: Number(member[1]),
    stake: member[2],
    unbonding: { amount: unbonding[0], lastServedEpoch: unbonding[1], releaseAt: unbonding[2] },
  }
}

export async function addSequencer(w: RegistryWriter, peerId: string): Promise<{ hash: Hash; block: bigint }> {
  return send(w, 'addSequencer', [toHex(peerIdToBytes(peerId))])
}

export async function setMultiaddrs(w: RegistryWriter, multiaddrs: readonly string[]) {
  return send(w, 'setMultiaddrs', [[...multiaddrs]])
}

async function approveStake(w: RegistryWriter, amount: bigint): Promise<void> {
  const token = await w.publicClient
    .readContract({ address: w.registry, abi: dacnetRegistryAbi, functionName: 'token' })
    .catch((err: unknown) => {
      throw readError("the registry's staking token", w.registry, err)
    })
  let hash: Hash
  try {
    hash = await w.walletClient.writeContract({
      address: token,
      abi: dacnetTokenAbi,
      functionName: 'approve',
      args: [w.registry, amount],
      account: w.account,
      chain: null,
    })
  } catch (err) {
    // No ether for gas, a nonce clash: typed like the registry's own refusals.
    throw transactionError('approve', err)
  }
  await mined(w.publicClient, hash, 'approve')
}

type RegistryWrite = 'register' | 'addStake' | 'unstake' | 'withdraw' | 'addSequencer' | 'setMultiaddrs'

async function send(
  w: RegistryWriter,
  functionName: RegistryWrite,
  args: readonly unknown[],
): Promise<{ hash: Hash; block: bigint }> {
  let hash: Hash
  const call = { address: w.registry, abi: dacnetRegistryAbi, functionName, args, account: w.account }
  try {
    // Simulated first, so a revert comes back with the contract's error name instead of a bare failed receipt.
    await w.publicClient.simulateContract(call as never)
    // Estimated, with room for an epoch's first transaction (which archives a record: the estimate, made in the
    // block before, may not have paid for it); never below REGISTRY_GAS_LIMIT. A fixed limit ran registrations
    // with long multiaddr lists out of gas on-chain after their simulation passed.
    const estimate = await w.publicClient.estimateContractGas(call as never)
    const gas = (estimate * 12n) / 10n + EPOCH_FIRST_GAS
    hash = await w.walletClient.writeContract({
      ...call,
      chain: null,
      gas: gas > REGISTRY_GAS_LIMIT ? gas : REGISTRY_GAS_LIMIT,
    } as never)
  } catch (err) {
    throw transactionError(functionName, err)
  }
  return { hash, block: await mined(w.publicClient, hash, functionName) }
}

async function mined(client: PublicClient, hash: Hash, what: string): Promise<bigint> {
  let receipt: Awaited<ReturnType<PublicClient['waitForTransactionReceipt']>>
  try {
    receipt = await client.waitForTransactionReceipt({ hash })
  } catch (err) {
    // Sent, but not seen mined in time (or the RPC failed meanwhile): it may still land; the hash says where to look.
    throw chainError(
      ChainErrorCode.TRANSACTION_FAILED,
      `${what} was sent (${hash}) but its receipt could not be read: ${rpcFailure(err)}`,
      { hash },
      { cause: err },
    )
  }
  if (receipt.status !== 'success') {
    throw chainError(ChainErrorCode.TRANSACTION_FAILED, `${what} reverted in block ${receipt.blockNumber}`, { hash })
  }
  return receipt.blockNumber
}

/** A registry read that failed: CHAIN_UNAVAILABLE naming what was read, and why. */
function readError(what: string, registry: Address, err: unknown) {
  return chainError(
    ChainErrorCode.UNAVAILABLE,
    `cannot read ${what} from the registry at ${registry}: ${rpcFailure(err)}`,
    { registry },
    { cause: err },
  )
}

function transactionError(what: string, err: unknown) {
  const revert = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : undefined
  const name = revert instanceof ContractFunctionRevertedError ? revert.data?.errorName : undefined
  const detail = name ?? rpcFailure(err)
  return chainError(
    ChainErrorCode.TRANSACTION_FAILED,
    `${what} was refused: ${detail}`,
    { revert: name ?? null },
    { cause: err },
  )
}

/** What the verifier contract says of an on-chain certificate form. */
export interface OnchainVerdict {
  /** verifyCertificate's answer. */
  readonly verified: boolean
  /** checkCertificate's reason code (§4.5): 0 valid, else the first failing step. */
  readonly reason: number
  /**
   * Gas the verification costs a contract that calls it (the call, calldata copy, registry lookup and checks),
   * measured in an eth_call by a probe contract that is never deployed (its code is put at PROBE_ADDRESS by a state
   * override for that call only, so the form may be as large as calldata allows).
   */
  readonly gas: bigint
}

/** Where the gas probe's code is put for one eth_call: an address no key or deployment reaches. */
const PROBE_ADDRESS: Address = '0x00000000000000000000000000000000000dac0e'
const probeCodes = new WeakMap<PublicClient, Map<Address, Hex>>()

/**
 * The probe's runtime code for a verifier: what its creation code returns when run in an eth_call. Run inside a
 * deployless call instead, the form would travel in the creation code, which EIP-3860 caps at 49,152 bytes (a
 * 1,000-member certificate with 300 non-signers is 55 KB).
 */
async function probeCode(client: PublicClient, verifier: Address): Promise<Hex> {
  let codes = probeCodes.get(client)
  if (!codes) {
    codes = new Map()
    probeCodes.set(client, codes)
  }
  let code = codes.get(verifier)
  if (code === undefined) {
    const created = await client.call({
      data: encodeDeployData({ abi: dacnetGasProbeAbi, bytecode: dacnetGasProbeBytecode, args: [verifier] }),
    })
    code = created.data as Hex
    codes.set(verifier, code)
  }
  return code
}

/** Asks the verifier contract (eth_call at the latest block; no transaction, no gas paid). */
export async function verifyOnchain(
  client: PublicClient,
  verifier: Address,
  onchain: Uint8Array,
): Promise<OnchainVerdict> {
  const bytes = toHex(onchain)
  try {
    const reason = await client.readContract({
      address: verifier,
      abi: dacnetCertificateVerifierAbi,
      functionName: 'checkCertificate',
      args: [bytes],
    })
    const probe = await client.call({
      to: PROBE_ADDRESS,
      data: encodeFunctionData({ abi: dacnetGasProbeAbi, functionName: 'measure', args: [bytes] }),
      stateOverride: [{ address: PROBE_ADDRESS, code: await probeCode(client, verifier) }],
    })
    const [verified, gas] = decodeFunctionResult({
      abi: dacnetGasProbeAbi,
      functionName: 'measure',
      data: probe.data as Hex,
    })
    return { verified, reason: Number(reason), gas }
  } catch (err) {
    throw chainError(
      ChainErrorCode.UNAVAILABLE,
      `asking the verifier at ${verifier} failed: ${rpcFailure(err)}`,
      {
        verifier,
      },
      { cause: err },
    )
  }
}
