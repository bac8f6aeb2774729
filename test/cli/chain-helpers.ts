/**
 * Shared set-up of the chain command tests: a real anvil, a working directory with the chain file in the
 * environment, the operators' Ethereum keys, and (for the tests that need them) two node directories made with
 * `init --chain` and registered.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type Hex, keccak256, toBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { expect } from 'vitest'
import type { SecretKey } from '../../src/attest/bls.ts'
import { decryptKeystore } from '../../src/attest/keystore.ts'
import { dacnetTokenAbi } from '../../src/chain/artifacts/DacnetToken.ts'
import { type ChainFile, parseChainFile } from '../../src/cli/chain/chain-file.ts'
import { type Chain, startChain, TOKEN } from '../chain/helpers.ts'
import { cli, removeDir, tempDir } from './helpers.ts'

export const EPOCH_BLOCKS = 20
export const RETENTION = 3600
export const PASSWORD = 'correct horse battery staple'

export let chain: Chain
export let dir: string
export let chainPath: string
export let file: ChainFile
export let sequencer: string

/** Keeps the chain.json that `chain deploy` wrote, for the helpers below. */
export function setChainFile(parsed: ChainFile): void {
  file = parsed
}

/** A deterministic Ethereum key, written to a file of `mode`. */
export function ethKey(label: string): Hex {
  return keccak256(toBytes(`dacnet-cli-chain-test-${label}`))
}

export async function keyFile(label: string, mode = 0o600): Promise<string> {
  const path = join(dir, `${label}.eth-key`)
  await writeFile(path, `${ethKey(label)}\n`, { mode })
  await chmod(path, mode)
  return path
}

/** `dacnet ...args` with the chain file in the environment, as an operator would set it up. */
export function dacnet(args: string[], env: Record<string, string> = {}) {
  return cli(args, { cwd: dir, env: { DACNET_CHAIN: chainPath, ...env } })
}

export async function json(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const r = await dacnet([...args, '--json'], env)
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

/** Mines empty blocks (anvil_mine) until the epoch in force at 2 confirmations is `epoch`. */
export async function mineUntilInForce(epoch: number): Promise<void> {
  const target = BigInt(file.deploymentBlock + epoch * EPOCH_BLOCKS + 2)
  const latest = await chain.publicClient.getBlockNumber()
  if (target > latest) await chain.testClient.mine({ blocks: Number(target - latest) })
}

export async function currentEpoch(): Promise<number> {
  const latest = await chain.publicClient.getBlockNumber()
  return Math.floor((Number(latest) - file.deploymentBlock) / EPOCH_BLOCKS)
}

/** Gas money and `tokens` whole staking tokens for an operator, from the deployer who holds the supply. */
export async function fund(label: string, tokens: bigint): Promise<void> {
  const { address } = privateKeyToAccount(ethKey(label))
  await chain.testClient.setBalance({ address, value: 10n ** 21n })
  const hash = await chain.walletClient.writeContract({
    address: file.token,
    abi: dacnetTokenAbi,
    functionName: 'transfer',
    args: [address, tokens * TOKEN],
    account: privateKeyToAccount(ethKey('deployer')),
    chain: null,
  })
  await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 })
}

export async function tokenBalance(label: string): Promise<bigint> {
  return chain.publicClient.readContract({
    address: file.token,
    abi: dacnetTokenAbi,
    functionName: 'balanceOf',
    args: [privateKeyToAccount(ethKey(label)).address],
  })
}

/** Starts anvil and makes the working directory with a password file (a test file's beforeAll). */
export async function startChainDir(): Promise<void> {
  chain = await startChain()
  dir = await tempDir('dacnet-cli-chain-')
  chainPath = join(dir, 'chain.json')
  sequencer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  await chain.testClient.setBalance({ address: privateKeyToAccount(ethKey('deployer')).address, value: 10n ** 22n })
  await writeFile(join(dir, 'password.txt'), PASSWORD)
}

/** Stops anvil and removes the working directory (a test file's afterAll). */
export async function stopChainDir(): Promise<void> {
  await chain?.anvil.stop()
  await removeDir(dir)
}

/** Node directories made with `init --chain`, their operators and (decrypted from the keystores) their BLS keys. */
export const nodes = {
  a: { dir: '', label: 'operator-a', peerId: '', index: -1, secretKey: undefined as SecretKey | undefined },
  b: { dir: '', label: 'operator-b', peerId: '', index: -1, secretKey: undefined as SecretKey | undefined },
}
/** The epoch from which both registered nodes serve. */
export let servesFrom = 0

/** `dacnet chain deploy` as the tests run it: network 9, EPOCH_BLOCKS, minimum stake 2, RETENTION, 8 members. */
export function runDeploy(): ReturnType<typeof cli> {
  return cli(
    [
      'chain',
      'deploy',
      '--rpc',
      chain.anvil.rpcUrl,
      '--network-id',
      '9',
      '--epoch-blocks',
      String(EPOCH_BLOCKS),
      '--min-stake',
      '2',
      '--retention',
      String(RETENTION),
      '--max-members',
      '8',
      '--sequencer',
      sequencer,
      '--out',
      'chain.json',
    ],
    { cwd: dir, env: { DACNET_ETH_KEY: ethKey('deployer') } },
  )
}

/** `dacnet init --chain` of node `name` as the tests run it, in DIR/node-NAME (set as `node.dir`). */
export function runInit(name: string, node: { dir: string }): ReturnType<typeof dacnet> {
  node.dir = join(dir, `node-${name}`)
  return dacnet([
    'init',
    '--dir',
    node.dir,
    '--password-file',
    'password.txt',
    '--chain',
    'chain.json',
    '--announce',
    `/dns4/${name}.example.org/tcp/5381`,
  ])
}

/**
 * What the deploy, init and register tests in chain.test.ts do, as set-up for the tests that need a registered
 * committee: `chain deploy` with the same parameters, both node directories made with `init --chain`, and operator
 * a registered with 30 DACS, b with 20.
 */
export async function deployAndRegister(): Promise<void> {
  const deployed = await runDeploy()
  expect(deployed.code, deployed.stderr).toBe(0)
  file = parseChainFile(JSON.parse(await readFile(chainPath, 'utf8')), chainPath)
  for (const [name, node] of Object.entries(nodes)) {
    const made = await runInit(name, node)
    expect(made.code, made.stderr).toBe(0)
    node.peerId = (JSON.parse(made.stdout) as { peerId: string }).peerId
    node.secretKey = await decryptKeystore(await readFile(join(node.dir, 'keystore.json'), 'utf8'), PASSWORD)
  }
  await fund(nodes.a.label, 100n)
  await fund(nodes.b.label, 100n)
  const a = await json(['register', '--config', join(nodes.a.dir, 'config.json'), '--stake', '30'], {
    DACNET_ETH_KEY: ethKey(nodes.a.label),
  })
  const b = await json([
    'register',
    '--config',
    join(nodes.b.dir, 'config.json'),
    '--stake',
    '20',
    '--eth-key-file',
    await keyFile(nodes.b.label),
  ])
  nodes.a.index = a['index'] as number
  nodes.b.index = b['index'] as number
  servesFrom = Math.max(Number(a['servesFromEpoch']), Number(b['servesFromEpoch']))
}
