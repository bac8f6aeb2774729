/**
 * The whole path on a chain, as operators and a sequencer would run it: `chain deploy` with a sequencer,
 * two node directories made with `init --chain` and registered, the nodes started as their own processes, then
 * `disperse`, `verify`, `sample` and `retrieve` with `--chain` (the committee and the epoch in force from the
 * registry), and `chain verify` of the certificate they made.
 */

import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { type Hex, keccak256, toBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dacnetTokenAbi } from '../../src/chain/artifacts/DacnetToken.ts'
import { type Chain, startChain, TOKEN } from '../chain/helpers.ts'
import { cli, collect, killLeftovers, removeDir, spawnCli, tempDir, waitFor } from './helpers.ts'

const EPOCH_BLOCKS = 20

let chain: Chain
let dir: string
const nodes: ChildProcess[] = []

function ethKey(label: string): Hex {
  return keccak256(toBytes(`dacnet-cli-chain-dispersal-${label}`))
}

/** `dacnet ...args` in-process, with the chain file in the environment. */
async function dacnet(args: string[], env: Record<string, string> = {}) {
  const r = await cli(args, { cwd: dir, env: { DACNET_CHAIN: join(dir, 'chain.json'), ...env } })
  expect(r.code, `dacnet ${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r
}

/** A loopback TCP port nobody listens on (bound by the OS, then released). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  chain = await startChain()
  dir = await tempDir('dacnet-cli-chain-dispersal-')
  await writeFile(join(dir, 'password.txt'), 'correct horse battery staple')
  const deployer = privateKeyToAccount(ethKey('deployer'))
  await chain.testClient.setBalance({ address: deployer.address, value: 10n ** 22n })

  const sequencer = (await dacnet(['identity', '--key', 'client.key'])).stdout.trim()
  await dacnet(
    ['chain', 'deploy', '--rpc', chain.anvil.rpcUrl, '--epoch-blocks', String(EPOCH_BLOCKS), '--sequencer', sequencer],
    { DACNET_ETH_KEY: ethKey('deployer') },
  )
  const file = JSON.parse(await readFile(join(dir, 'chain.json'), 'utf8'))

  for (const [i, stake] of [30, 20].entries()) {
    const nodeDir = join(dir, `node-${i}`)
    const port = await freePort()
    await dacnet([
      'init',
      '--dir',
      nodeDir,
      '--password-file',
      'password.txt',
      '--chain',
      'chain.json',
      '--listen',
      `/ip4/127.0.0.1/tcp/${port}`,
      '--api-port',
      '0',
    ])
    // Both nodes on one machine, reading new blocks often.
    const configPath = join(nodeDir, 'config.json')
    const config = JSON.parse(await readFile(configPath, 'utf8'))
    config.network.localNetwork = true
    config.chain.pollIntervalSeconds = 0.2
    config.log.level = 'info'
    await writeFile(configPath, JSON.stringify(config))

    const operator = privateKeyToAccount(ethKey(`operator-${i}`))
    await chain.testClient.setBalance({ address: operator.address, value: 10n ** 21n })
    const hash = await chain.walletClient.writeContract({
      address: file.token,
      abi: dacnetTokenAbi,
      functionName: 'transfer',
      args: [operator.address, BigInt(stake) * TOKEN],
      account: deployer,
      chain: null,
    })
    await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 })
    await dacnet(['register', '--config', configPath, '--stake', String(stake)], {
      DACNET_ETH_KEY: ethKey(`operator-${i}`),
    })
  }
  // Registered in epoch 0: the committee (and the sequencer) are in force from epoch 1, two blocks deep.
  const target = BigInt(file.deploymentBlock + EPOCH_BLOCKS + 2)
  await chain.testClient.mine({ blocks: Number(target - (await chain.publicClient.getBlockNumber())) })

  for (const i of [0, 1]) {
    const child = spawnCli(['node', '--config', join(dir, `node-${i}`, 'config.json')], { cwd: dir })
    nodes.push(child)
    const out = collect(child)
    await waitFor(() => (out.stderr().includes('node ready') ? true : undefined), 30_000, `node ${i} ready`)
  }
}, 120_000)

afterAll(async () => {
  for (const child of nodes) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    await exited
  }
  killLeftovers()
  await chain?.anvil.stop()
  await removeDir(dir)
})

describe('client commands with --chain', () => {
  it('disperse to the committee in force, then verify, sample and retrieve against the registry', async () => {
    const data = randomBytes(100_000)
    await writeFile(join(dir, 'blob.bin'), data)
    const dispersed = await dacnet(['disperse', 'blob.bin', '--key', 'client.key', '-o', 'cert.json'])
    const blobId = dispersed.stdout.trim()
    expect(blobId).toMatch(/^bafkrei/)
    const certificate = JSON.parse(await readFile(join(dir, 'cert.json'), 'utf8'))
    expect(certificate.epoch).toBe(1)

    // The flag instead of the variable, as a sequencer without DACNET_CHAIN would call it.
    const verified = await dacnet(['verify', 'cert.json', '--chain', 'chain.json', '--json'], { DACNET_CHAIN: '' })
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, blobId, epoch: 1, members: 2 })

    const sampled = await dacnet(['sample', 'cert.json', '--json'])
    expect(JSON.parse(sampled.stdout)).toMatchObject({ blobId, available: true })

    await dacnet(['retrieve', blobId, '-o', 'back.bin'])
    expect((await readFile(join(dir, 'back.bin'))).equals(data)).toBe(true)

    const onchain = await dacnet(['chain', 'verify', 'cert.json', '--json'])
    expect(JSON.parse(onchain.stdout)).toMatchObject({ verified: true, onchain: { reason: 0 } })
  }, 90_000)
})
