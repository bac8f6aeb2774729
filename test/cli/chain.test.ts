/**
 * The chain commands that set a chain up, against a real anvil and the real contracts: `chain deploy` writes
 * chain.json, node directories made with `init --chain` register, and Ethereum keys come only from a private file
 * or the environment. Every command runs in-process through runCli.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptKeystore } from '../../src/attest/keystore.ts'
import { dacnetRegistryAbi } from '../../src/chain/artifacts/DacnetRegistry.ts'
import { parseChainFile } from '../../src/cli/chain/chain-file.ts'
import { TOKEN } from '../chain/helpers.ts'
import {
  chain,
  chainPath,
  currentEpoch,
  dacnet,
  dir,
  ethKey,
  file,
  fund,
  json,
  keyFile,
  nodes,
  PASSWORD,
  RETENTION,
  runDeploy,
  runInit,
  setChainFile,
  startChainDir,
  stopChainDir,
} from './chain-helpers.ts'
import { cli, errorCode } from './helpers.ts'

beforeAll(startChainDir)

afterAll(stopChainDir)

describe('Ethereum keys', () => {
  it('refuses a missing key, a key file others can read, a malformed key, and a key given as a flag', async () => {
    const deploy = ['chain', 'deploy', '--rpc', chain.anvil.rpcUrl, '--out', join(dir, 'never.json')]
    const missing = await cli(deploy, { cwd: dir })
    expect(errorCode(missing.stderr)).toBe('CLI_ETH_KEY_REQUIRED')
    expect(missing.code).toBe(1)

    const exposed = await cli([...deploy, '--eth-key-file', await keyFile('exposed', 0o644)], { cwd: dir })
    expect(errorCode(exposed.stderr), exposed.stderr).toBe('CLI_ETH_KEY_EXPOSED')
    expect(exposed.stderr).toContain('chmod 600')
    const groupReadable = await cli([...deploy, '--eth-key-file', await keyFile('group', 0o640)], { cwd: dir })
    expect(errorCode(groupReadable.stderr)).toBe('CLI_ETH_KEY_EXPOSED')

    const malformed = join(dir, 'malformed.eth-key')
    await writeFile(malformed, 'not a key\n', { mode: 0o600 })
    const bad = await cli([...deploy, '--eth-key-file', malformed], { cwd: dir })
    expect(errorCode(bad.stderr)).toBe('CLI_ETH_KEY_INVALID')
    const badEnv = await cli(deploy, { cwd: dir, env: { DACNET_ETH_KEY: '0x1234' } })
    expect(errorCode(badEnv.stderr)).toBe('CLI_ETH_KEY_INVALID')

    // A key where a flag value goes: refused as usage, and never echoed back.
    const key = ethKey('flag')
    for (const args of [
      [...deploy, '--eth-key', key],
      [...deploy, '--private-key', key],
      [...deploy, '--eth-key-file', key],
      ['stake', '1', '--eth-key-file', key.slice(2)],
    ]) {
      const r = await dacnet(args)
      expect(errorCode(r.stderr), args.join(' ')).toBe('CLI_USAGE')
      expect(r.code).toBe(2)
      expect(r.stderr).not.toContain(key.slice(2))
    }
    // Nothing was deployed from any of these.
    expect(
      await chain.publicClient.getTransactionCount({ address: privateKeyToAccount(ethKey('deployer')).address }),
    ).toBe(0)
  })
})

describe('dacnet chain deploy', () => {
  it('deploys the token, registry and verifier and writes a valid chain.json', async () => {
    const r = await runDeploy()
    expect(r.code, r.stderr).toBe(0)
    setChainFile(parseChainFile(JSON.parse(await readFile(chainPath, 'utf8')), chainPath))
    expect(file).toMatchObject({
      rpcUrl: chain.anvil.rpcUrl,
      chainId: chain.anvil.chainId,
      epochBlocks: 20,
      networkId: 9,
    })
    expect(r.stdout).toContain(file.registry)
    expect(r.stdout).toContain(file.certificateVerifier)
    const read = <
      F extends 'networkId' | 'token' | 'minStake' | 'retentionSeconds' | 'maxMembers' | 'genesisBlock' | 'owner',
    >(
      functionName: F,
    ) => chain.publicClient.readContract({ address: file.registry, abi: dacnetRegistryAbi, functionName })
    expect(await read('networkId')).toBe(9)
    expect(await read('token')).toBe(file.token)
    expect(await read('minStake')).toBe(2n * TOKEN)
    expect(await read('retentionSeconds')).toBe(BigInt(RETENTION))
    expect(await read('maxMembers')).toBe(8)
    expect(await read('genesisBlock')).toBe(BigInt(file.deploymentBlock))
    expect(await read('owner')).toBe(privateKeyToAccount(ethKey('deployer')).address)
    expect(await chain.publicClient.getCode({ address: file.certificateVerifier })).toMatch(/^0x[0-9a-f]{100,}/)

    // Never over an existing file without --force.
    const again = await cli(['chain', 'deploy', '--rpc', chain.anvil.rpcUrl, '--out', 'chain.json'], {
      cwd: dir,
      env: { DACNET_ETH_KEY: ethKey('deployer') },
    })
    expect(errorCode(again.stderr)).toBe('CLI_ALREADY_EXISTS')
  })

  it('validates chain.json strictly', async () => {
    const original = JSON.parse(await readFile(chainPath, 'utf8')) as Record<string, unknown>
    const cases: [Record<string, unknown>, string][] = [
      [{ ...original, extra: 1 }, 'extra'],
      [{ ...original, registry: '0x1234' }, 'registry'],
      // A mixed-case address must carry its EIP-55 checksum.
      [{ ...original, token: (original['token'] as string).replace(/[a-f]/, (c) => c.toUpperCase()) }, 'token'],
      [{ ...original, chainId: '31337' }, 'chainId'],
      [{ ...original, rpcUrl: 'ws://127.0.0.1:8545' }, 'rpcUrl'],
      [
        Object.fromEntries(Object.entries(original).filter(([k]) => k !== 'certificateVerifier')),
        'certificateVerifier',
      ],
    ]
    for (const [content, field] of cases) {
      const path = join(dir, 'broken-chain.json')
      await writeFile(path, JSON.stringify(content))
      const r = await cli(['chain', 'status', '--chain', path, '--debug'], { cwd: dir })
      expect(errorCode(r.stderr), field).toBe('CLI_CHAIN_FILE_INVALID')
      expect(r.stderr).toContain(`"field":"${field}"`)
    }
    // chain.json on another chain than the RPC serves.
    const elsewhere = join(dir, 'elsewhere-chain.json')
    await writeFile(elsewhere, JSON.stringify({ ...original, chainId: 1 }))
    expect(errorCode((await cli(['chain', 'status', '--chain', elsewhere], { cwd: dir })).stderr)).toBe(
      'CLI_CHAIN_MISMATCH',
    )
    expect(errorCode((await cli(['chain', 'status'], { cwd: dir })).stderr)).toBe('CLI_USAGE')
  })
})

describe('init --chain and register', () => {
  it('writes the chain section into the node config', async () => {
    for (const [name, node] of Object.entries(nodes)) {
      const r = await runInit(name, node)
      expect(r.code, r.stderr).toBe(0)
      node.peerId = (JSON.parse(r.stdout) as { peerId: string }).peerId
      expect(r.stderr).toContain('dacnet register --config')
      const config = JSON.parse(await readFile(join(node.dir, 'config.json'), 'utf8'))
      expect(config.chain).toEqual({
        rpcUrl: file.rpcUrl,
        registry: file.registry,
        confirmations: 2,
        pollIntervalSeconds: 4,
        maxHeadStallSeconds: 120,
      })
      node.secretKey = await decryptKeystore(await readFile(join(node.dir, 'keystore.json'), 'utf8'), PASSWORD)
    }
    const both = await dacnet(['init', '--dir', join(dir, 'x'), '--chain', 'chain.json', '--committee', 'c.json'])
    expect(errorCode(both.stderr)).toBe('CLI_USAGE')
  })

  it('registers each node directory with its keys, peer id and announce addresses', async () => {
    await fund(nodes.a.label, 100n)
    await fund(nodes.b.label, 100n)
    // Operator a's key from the environment, b's from a file.
    const a = await dacnet(['register', '--config', join(nodes.a.dir, 'config.json'), '--stake', '30'], {
      DACNET_ETH_KEY: ethKey(nodes.a.label),
    })
    expect(a.code, a.stderr).toBe(0)
    expect(a.stdout).toMatch(
      new RegExp(`registered ${nodes.a.peerId} as member 0 with 30 DACS .*serves from epoch \\d+`),
    )
    const b = await json(
      [
        'register',
        '--config',
        join(nodes.b.dir, 'config.json'),
        '--stake',
        '20000000000000000000wei',
        '--eth-key-file',
        await keyFile(nodes.b.label),
      ],
      // The node's own chain section is enough without a chain.json.
      { DACNET_CHAIN: '' },
    )
    expect(b).toMatchObject({
      index: 1,
      stake: (20n * TOKEN).toString(),
      peerId: nodes.b.peerId,
      multiaddrs: [`/dns4/b.example.org/tcp/5381/p2p/${nodes.b.peerId}`],
    })
    nodes.a.index = 0
    nodes.b.index = 1
    const servesFrom = Math.max(Number(/serves from epoch (\d+)/.exec(a.stdout)![1]), Number(b['servesFromEpoch']))
    expect(servesFrom).toBe((await currentEpoch()) + 1)

    const again = await dacnet(['register', '--config', join(nodes.a.dir, 'config.json'), '--stake', '30'], {
      DACNET_ETH_KEY: ethKey(nodes.a.label),
    })
    expect(errorCode(again.stderr)).toBe('CLI_ALREADY_REGISTERED')
    const poor = await dacnet(['register', '--config', join(nodes.a.dir, 'config.json'), '--stake', '30'], {
      DACNET_ETH_KEY: ethKey('nobody'),
    })
    expect(errorCode(poor.stderr)).toBe('CLI_INSUFFICIENT_FUNDS')
  })
})
