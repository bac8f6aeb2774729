/**
 * Support for the contract tests: a real anvil with dacnet deployed, funded operator accounts, member key
 * material from blst, and an independent implementation of what PROTOCOL §4.3 and §4.5 define (member tree,
 * multiproof, summary, on-chain form), written here from the spec so that the contracts are checked against it.
 */
import * as blst from '@chainsafe/blst'
import {
  BaseError,
  ContractFunctionRevertedError,
  concat,
  createPublicClient,
  createTestClient,
  createWalletClient,
  getContract,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  maxUint256,
  numberToBytes,
  type PublicClient,
  type TestClient,
  toBytes,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createProofOfPossession } from '../../src/attest/pop.ts'
import { type Anvil, startAnvil } from '../../src/chain/anvil.ts'
import { dacnetCertificateVerifierAbi } from '../../src/chain/artifacts/DacnetCertificateVerifier.ts'
import { dacnetRegistryAbi } from '../../src/chain/artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi } from '../../src/chain/artifacts/DacnetToken.ts'
import { deployDacnet } from '../../src/chain/deploy.ts'
import { memberSecretKey } from '../attest/helpers.ts'

/** The BLS12-381 base field modulus. */
export const P = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn
/** The BLS12-381 group order. */
export const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n
export const U64_MAX = 2n ** 64n - 1n
/** One whole token (18 decimals). */
export const TOKEN = 10n ** 18n

export interface Chain {
  readonly anvil: Anvil
  readonly publicClient: PublicClient
  readonly walletClient: WalletClient
  readonly testClient: TestClient
  readonly deployer: LocalAccount
}

/** Starts anvil with clients that poll fast (anvil mines each transaction at once). */
export async function startChain(): Promise<Chain> {
  const anvil = await startAnvil()
  // Calls made together go in one JSON-RPC batch; a batch of heavy calls can take a while on a busy machine.
  const transport = http(anvil.rpcUrl, { batch: { batchSize: 100, wait: 0 }, timeout: 120_000 })
  const publicClient = createPublicClient({ transport, pollingInterval: 10 })
  const walletClient = createWalletClient({ transport, pollingInterval: 10 })
  const testClient = createTestClient({ mode: 'anvil', transport, pollingInterval: 10 })
  const deployer = account('deployer')
  await testClient.setBalance({ address: deployer.address, value: 10n ** 24n })
  return { anvil, publicClient, walletClient, testClient, deployer }
}

/** A deterministic local account for tests. */
export function account(label: string | number): LocalAccount {
  return privateKeyToAccount(keccak256(toBytes(`dacnet-test-operator-${label}`)))
}

export interface DeployParams {
  networkId?: number
  epochBlocks?: bigint
  minStake?: bigint
  maxMembers?: number
  retentionSeconds?: bigint
}

export const DEFAULT_EPOCH_BLOCKS = 1000n

/** A fresh deployment (token, registry, verifier) and typed handles on it. */
export async function deploy(chain: Chain, params: DeployParams = {}) {
  const deployment = await deployDacnet({
    clients: { publicClient: chain.publicClient, walletClient: chain.walletClient },
    account: chain.deployer,
    networkId: params.networkId ?? 7,
    epochBlocks: params.epochBlocks ?? DEFAULT_EPOCH_BLOCKS,
    minStake: params.minStake ?? TOKEN,
    maxMembers: params.maxMembers ?? 1024,
    retentionSeconds: params.retentionSeconds ?? 3600n,
  })
  const client = { public: chain.publicClient, wallet: chain.walletClient }
  return {
    deployment,
    registry: getContract({ address: deployment.registry, abi: dacnetRegistryAbi, client }),
    verifier: getContract({ address: deployment.verifier, abi: dacnetCertificateVerifierAbi, client }),
    token: getContract({ address: deployment.token, abi: dacnetTokenAbi, client }),
  }
}

export type Deployed = Awaited<ReturnType<typeof deploy>>

/** Waits for a transaction and fails the test if it reverted. */
export async function mined(chain: Chain, hash: Hex) {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 })
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
  return receipt
}

/** Gas money, `tokens` of stake and an unlimited approval of the registry for `operator`. */
export async function fund(chain: Chain, d: Deployed, operator: LocalAccount, tokens: bigint): Promise<void> {
  await fundAll(chain, d, [{ operator, stake: tokens }])
}

/**
 * fund() for many operators: the deployer's transfers go one after the other (one nonce sequence), the
 * operators' approvals at once.
 */
export async function fundAll(
  chain: Chain,
  d: Deployed,
  operators: readonly { operator: LocalAccount; stake: bigint }[],
): Promise<void> {
  for (const { operator, stake } of operators) {
    await chain.testClient.setBalance({ address: operator.address, value: 10n ** 22n })
    if (stake > 0n) {
      const hash = await d.token.write.transfer([operator.address, stake], { account: chain.deployer, chain: null })
      await mined(chain, hash)
    }
  }
  await Promise.all(
    operators.map(async ({ operator }) =>
      mined(
        chain,
        await d.token.write.approve([d.deployment.registry, maxUint256], { account: operator, chain: null }),
      ),
    ),
  )
}

/** The name of the custom error a call reverts with; undefined when it does not revert. */
export async function revertName(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call
  } catch (err) {
    if (err instanceof BaseError) {
      const revert = err.walk((e) => e instanceof ContractFunctionRevertedError)
      if (revert instanceof ContractFunctionRevertedError)
        return revert.data?.errorName ?? revert.signature ?? 'unknown'
    }
    throw err
  }
  return undefined
}

/**
 * Mines empty blocks until the latest block is in `epoch`: calls (which anvil runs in the latest block) and the
 * next transactions (in the blocks after it) then both see that epoch, as long as it has blocks left.
 */
export async function mineToEpoch(chain: Chain, d: Deployed, epoch: bigint): Promise<void> {
  const first = d.deployment.deploymentBlock + epoch * d.deployment.epochBlocks
  const latest = await chain.publicClient.getBlockNumber()
  if (first > latest) await chain.testClient.mine({ blocks: Number(first - latest) })
}

// ------------------------------------------------------------------------------------------------------------
// Member key material

export interface MemberKeys {
  readonly secretKey: blst.SecretKey
  /** 48-byte compressed G1 key. */
  readonly publicKey: Uint8Array
  /** The key's affine coordinates, 48 bytes each. */
  readonly x: Uint8Array
  readonly y: Uint8Array
  /** 96-byte compressed proof of possession and its y (y.c1 ‖ y.c0). */
  readonly proof: Uint8Array
  readonly proofY: Uint8Array
}

export function keysFromSecret(secretKey: blst.SecretKey): MemberKeys {
  const publicKey = secretKey.toPublicKey()
  const raw = publicKey.toBytes(false)
  const proof = createProofOfPossession(secretKey)
  return {
    secretKey,
    publicKey: publicKey.toBytes(true),
    x: raw.slice(0, 48),
    y: raw.slice(48, 96),
    proof,
    proofY: signatureY(proof),
  }
}

export function memberKeys(label: string | number): MemberKeys {
  return keysFromSecret(memberSecretKey(`chain-${label}`))
}

/** y of a compressed G2 point as y.c1 ‖ y.c0 (blst's uncompressed form is x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0). */
export function signatureY(compressed: Uint8Array): Uint8Array {
  return blst.Signature.fromBytes(compressed).toBytes(false).slice(96, 192)
}

/** A binary identity-multihash peer id, as libp2p derives from an Ed25519 key (38 bytes). */
export function peerIdBytes(label: string | number): Uint8Array {
  const key = toBytes(keccak256(toBytes(`peer ${label}`)))
  return new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...key])
}

export function hex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes).toString('hex')}`
}

export interface Registration {
  readonly operator: LocalAccount
  readonly keys: MemberKeys
  readonly peerId: Uint8Array
  readonly multiaddrs: readonly string[]
  readonly stake: bigint
}

export function registration(label: string | number, stake: bigint): Registration {
  return {
    operator: account(label),
    keys: memberKeys(label),
    peerId: peerIdBytes(label),
    multiaddrs: [`/dns4/member${label}.example.org/tcp/4001`],
    stake,
  }
}

export function registerArgs(r: Registration) {
  return [
    hex(r.keys.publicKey),
    hex(r.keys.y),
    hex(r.keys.proof),
    hex(r.keys.proofY),
    hex(r.peerId),
    [...r.multiaddrs],
    r.stake,
  ] as const
}

/**
 * A gas limit for registry transactions in tests. Estimating would run the call in the latest block, and a
 * transaction that is the first of a new epoch costs more than that estimate (it records the epoch's start and
 * may archive a record).
 */
export const REGISTRY_GAS = 3_000_000n

/** Registers an operator that is already funded; returns the receipt. */
export async function registerFunded(chain: Chain, d: Deployed, r: Registration) {
  const hash = await d.registry.write.register(registerArgs(r), { account: r.operator, chain: null, gas: REGISTRY_GAS })
  return mined(chain, hash)
}

/** Funds the operator and registers it; returns the receipt. */
export async function register(chain: Chain, d: Deployed, r: Registration) {
  await fund(chain, d, r.operator, r.stake)
  return registerFunded(chain, d, r)
}

// ------------------------------------------------------------------------------------------------------------
// PROTOCOL §4.3 and §4.5, restated

export function u256(value: bigint): Uint8Array {
  return numberToBytes(value, { size: 32 })
}

/** leaf = keccak256(x ‖ y ‖ stake). */
export function leafHash(x: Uint8Array, y: Uint8Array, stake: bigint): Hex {
  return keccak256(concat([x, y, u256(stake)]))
}

function node(l: Hex, r: Hex): Hex {
  return keccak256(concat([l, r]))
}

const ZERO_HASH: Hex = `0x${'00'.repeat(32)}`

/** D = ⌈log2 m⌉ (0 for one member). */
export function treeDepth(m: number): number {
  let d = 0
  while (2 ** d < m) d++
  return d
}

/** Every level of the member tree, leaves first, padded to 2^D with ZERO[0]. */
export function treeLevels(leaves: readonly Hex[]): Hex[][] {
  const depth = treeDepth(leaves.length)
  const levels: Hex[][] = [[...leaves, ...Array<Hex>(2 ** depth - leaves.length).fill(ZERO_HASH)]]
  for (let d = 0; d < depth; d++) {
    const below = levels[d]!
    levels.push(Array.from({ length: below.length / 2 }, (_, j) => node(below[2 * j]!, below[2 * j + 1]!)))
  }
  return levels
}

export function treeRoot(leaves: readonly Hex[]): Hex {
  return leaves.length === 0 ? ZERO_HASH : treeLevels(leaves).at(-1)![0]!
}

/** The proof hashes of §4.5 for the leaves at `indices` (increasing), in the order the walk asks for them. */
export function multiproof(leaves: readonly Hex[], indices: readonly number[]): Hex[] {
  const m = leaves.length
  const levels = treeLevels(leaves)
  const proof: Hex[] = []
  let known = [...indices]
  for (let level = 0; level < levels.length - 1; level++) {
    const next: number[] = []
    for (let j = 0; j < known.length; j++) {
      const s = known[j]!
      if (s % 2 === 0) {
        if (known[j + 1] === s + 1) j++
        else if ((s + 1) * 2 ** level < m) proof.push(levels[level]![s + 1]!)
      } else {
        proof.push(levels[level]![s - 1]!)
      }
      next.push(Math.floor(s / 2))
    }
    known = next
  }
  return proof
}

export interface SummaryFields {
  readonly memberCount: number
  readonly totalStake: bigint
  readonly root: Hex
  /** x ‖ y, 96 bytes. */
  readonly aggregate: Uint8Array
  readonly q: readonly [bigint, bigint]
  readonly f: readonly [bigint, bigint]
}

/** The 196-byte committee summary. */
export function encodeSummary(s: SummaryFields): Uint8Array {
  const out = new Uint8Array(196)
  const view = new DataView(out.buffer)
  view.setUint32(0, s.memberCount)
  out.set(u256(s.totalStake), 4)
  out.set(toBytes(s.root), 36)
  out.set(s.aggregate, 68)
  for (const [i, v] of [s.q[0], s.q[1], s.f[0], s.f[1]].entries()) view.setBigUint64(164 + 8 * i, v)
  return out
}

/** A member as the tree and the witness see it. */
export interface TreeMember {
  readonly x: Uint8Array
  readonly y: Uint8Array
  readonly stake: bigint
}

/** The registry's summary for a committee, computed off-chain with blst for the aggregate key. */
export function summaryOf(
  members: readonly (TreeMember & { publicKey: Uint8Array })[],
  q: readonly [bigint, bigint] = [2n, 3n],
  f: readonly [bigint, bigint] = [1n, 3n],
): SummaryFields {
  // The sum of no keys is the point at infinity: 96 zero bytes.
  const aggregate =
    members.length === 0
      ? new Uint8Array(96)
      : blst.aggregatePublicKeys(members.map((m) => blst.PublicKey.fromBytes(m.publicKey))).toBytes(false)
  return {
    memberCount: members.length,
    totalStake: members.reduce((sum, m) => sum + m.stake, 0n),
    root: treeRoot(members.map((m) => leafHash(m.x, m.y, m.stake))),
    aggregate,
    q,
    f,
  }
}

/**
 * The on-chain form of §4.5: the binary certificate, then the witness (version, record index, the signature's
 * y, the summary, the non-signers in increasing index and the multiproof of their leaves).
 */
export function onchainForm(
  certificate: Uint8Array,
  record: number,
  members: readonly TreeMember[],
  summary: SummaryFields,
  signers: ReadonlySet<number>,
): Uint8Array {
  const signature = certificate.subarray(106, 202)
  const nonSigners = members.map((_, i) => i).filter((i) => !signers.has(i))
  const leaves = members.map((m) => leafHash(m.x, m.y, m.stake))
  const head = new Uint8Array(5)
  head[0] = 1
  new DataView(head.buffer).setUint32(1, record)
  return concat([
    certificate,
    head,
    signatureY(signature),
    encodeSummary(summary),
    ...nonSigners.map((i) => concat([members[i]!.x, members[i]!.y, u256(members[i]!.stake)])),
    ...(nonSigners.length > 0 ? multiproof(leaves, nonSigners).map((h) => toBytes(h)) : []),
  ])
}

/** kMax(n) = ⌊n·g⌋ − m + 1 with g = q − f (PROTOCOL §2.3). */
export function kMax(n: number, m: number, q: readonly [bigint, bigint], f: readonly [bigint, bigint]): number {
  const gNum = q[0] * f[1] - f[0] * q[1]
  const gDen = q[1] * f[1]
  return Number((BigInt(n) * gNum) / gDen) - m + 1
}

/** m(y): y rounded up to a power of two. */
export function nextPow2(y: number): number {
  let p = 1
  while (p < y) p *= 2
  return p
}

export function isSupportedShape(k: number, r: number): boolean {
  return k >= 1 && r >= 1 && Math.min(nextPow2(k), nextPow2(r)) + Math.max(k, r) <= 65536
}
