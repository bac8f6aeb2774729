/**
 * The chain commands against a real anvil and the real contracts: `chain deploy` writes chain.json, node
 * directories made with `init --chain` register, `chain status` shows them once their epoch is in force, stake
 * changes unbond and pay out after the lock, `chain verify` asks the verifier contract, and Ethereum keys come
 * only from a private file or the environment. Every command runs in-process through runCli.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type Hex, keccak256, toBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SecretKey } from '../../src/attest/bls.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { certificateToJson, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { decryptKeystore } from '../../src/attest/keystore.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { dacnetRegistryAbi } from '../../src/chain/artifacts/DacnetRegistry.ts'
import { dacnetTokenAbi } from '../../src/chain/artifacts/DacnetToken.ts'
import { ChainCommitteeSource } from '../../src/chain/committee-source.ts'
import { type ChainFile, parseChainFile } from '../../src/cli/chain/chain-file.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { signedCertificate } from '../attest/helpers.ts'
import { type Chain, startChain, TOKEN } from '../chain/helpers.ts'
import { cli, errorCode, removeDir, tempDir } from './helpers.ts'

const EPOCH_BLOCKS = 20
const RETENTION = 3600
const PASSWORD = 'correct horse battery staple'

let chain: Chain
let dir: string
let chainPath: string
let file: ChainFile
let sequencer: string

/** A deterministic Ethereum key, written to a file of `mode`. */
function ethKey(label: string): Hex {
  return keccak256(toBytes(`dacnet-cli-chain-test-${label}`))
}

async function keyFile(label: string, mode = 0o600): Promise<string> {
  const path = join(dir, `${label}.eth-key`)
  await writeFile(path, `${ethKey(label)}\n`, { mode })
  await chmod(path, mode)
  return path
}

/** `dacnet ...args` with the chain file in the environment, as an operator would set it up. */
function dacnet(args: string[], env: Record<string, string> = {}) {
  return cli(args, { cwd: dir, env: { DACNET_CHAIN: chainPath, ...env } })
}

async function json(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const r = await dacnet([...args, '--json'], env)
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

/** Mines empty blocks (anvil_mine) until the epoch in force at 2 confirmations is `epoch`. */
async function mineUntilInForce(epoch: number): Promise<void> {
  const target = BigInt(file.deploymentBlock + epoch * EPOCH_BLOCKS + 2)
  const latest = await chain.publicClient.getBlockNumber()
  if (target > latest) await chain.testClient.mine({ blocks: Number(target - latest) })
}

async function currentEpoch(): Promise<number> {
  const latest = await chain.publicClient.getBlockNumber()
  return Math.floor((Number(latest) - file.deploymentBlock) / EPOCH_BLOCKS)
}

/** Gas money and `tokens` whole staking tokens for an operator, from the deployer who holds the supply. */
async function fund(label: string, tokens: bigint): Promise<void> {
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

async function tokenBalance(label: string): Promise<bigint> {
  return chain.publicClient.readContract({
    address: file.token,
    abi: dacnetTokenAbi,
    functionName: 'balanceOf',
    args: [privateKeyToAccount(ethKey(label)).address],
  })
}

beforeAll(async () => {
  chain = await startChain()
  dir = await tempDir('dacnet-cli-chain-')
  chainPath = join(dir, 'chain.json')
  sequencer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  await chain.testClient.setBalance({ address: privateKeyToAccount(ethKey('deployer')).address, value: 10n ** 22n })
  await writeFile(join(dir, 'password.txt'), PASSWORD)
})

afterAll(async () => {
  await chain?.anvil.stop()
  await removeDir(dir)
})

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
    const r = await cli(
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
    expect(r.code, r.stderr).toBe(0)
    file = parseChainFile(JSON.parse(await readFile(chainPath, 'utf8')), chainPath)
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

/** Node directories made with `init --chain`, their operators and (decrypted in the test) their BLS keys. */
const nodes = {
  a: { dir: '', label: 'operator-a', peerId: '', index: -1, secretKey: undefined as SecretKey | undefined },
  b: { dir: '', label: 'operator-b', peerId: '', index: -1, secretKey: undefined as SecretKey | undefined },
}
let servesFrom = 0

describe('init --chain and register', () => {
  it('writes the chain section into the node config', async () => {
    for (const [name, node] of Object.entries(nodes)) {
      node.dir = join(dir, `node-${name}`)
      const r = await dacnet([
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
      expect(r.code, r.stderr).toBe(0)
      node.peerId = (JSON.parse(r.stdout) as { peerId: string }).peerId
      expect(r.stderr).toContain('dacnet register --config')
      const config = JSON.parse(await readFile(join(node.dir, 'config.json'), 'utf8'))
      expect(config.chain).toEqual({
        rpcUrl: file.rpcUrl,
        registry: file.registry,
        confirmations: 2,
        pollIntervalSeconds: 4,
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
    servesFrom = Math.max(Number(/serves from epoch (\d+)/.exec(a.stdout)![1]), Number(b['servesFromEpoch']))
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

describe('dacnet chain status', () => {
  it('lists the registered members from the epoch after their registration', async () => {
    const before = await json(['chain', 'status'])
    expect(before['committee']).toBeNull()
    expect(before['live']).toMatchObject({ members: 2, totalStake: (50n * TOKEN).toString() })

    await mineUntilInForce(servesFrom)
    const status = await json(['chain', 'status'])
    expect(status['epochs']).toMatchObject({ inForce: servesFrom, epochBlocks: '20' })
    expect(status['committee']).toMatchObject({
      epoch: servesFrom,
      threshold: '2/3',
      adversary: '1/3',
      // The shape per blob (PROTOCOL.md §2.3) for two members: kMax(16) = 5 - 1 for an empty blob; 32 MiB needs
      // n = 32768 (kMax(16384) = 5460 would make shards of 6,208 bytes).
      shapes: { totalShards: null, smallest: { k: 4, n: 16 }, largest: { k: 10921, n: 32768 }, maxBlobSize: 32 << 20 },
      retentionSeconds: RETENTION,
      sequencers: [sequencer],
      members: [
        {
          index: 0,
          peerId: nodes.a.peerId,
          stake: (30n * TOKEN).toString(),
          share: 0.6,
          multiaddrs: [`/dns4/a.example.org/tcp/5381/p2p/${nodes.a.peerId}`],
        },
        { index: 1, peerId: nodes.b.peerId, stake: (20n * TOKEN).toString(), share: 0.4 },
      ],
    })
    const text = await dacnet(['chain', 'status', '--eth-key-file', await keyFile(nodes.a.label)])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(`epoch ${servesFrom} (record 0): 2 members, total stake 50 DACS, threshold 2/3`)
    expect(text.stdout).toContain('k/n 4/16 (empty blob) to 10921/32768 (32.0 MiB)')
    expect(text.stdout).toMatch(new RegExp(`0\\s+${nodes.a.peerId}\\s+30 DACS\\s+60.0%\\s+/dns4/a.example.org`))
    expect(text.stdout).toContain('member 0 with 30 DACS; holds 70 DACS')
    expect(text.stdout).toContain('no stake unbonding')
  })
})

/** A certificate of `committee` signed by the members whose indices are listed, with the keys from the keystores. */
function certify(committee: Committee, signers: number[]): Certificate {
  const keyOf = (i: number) => Object.values(nodes).find((n) => n.peerId === committee.members[i]!.peerId)!.secretKey!
  return signedCertificate(committee, signers, { secretKeyOf: keyOf })
}

describe('dacnet chain verify', () => {
  let certificate: Certificate

  beforeAll(async () => {
    const source = new ChainCommitteeSource({ rpcUrl: file.rpcUrl, registry: file.registry, verifier: blsKeyVerifier })
    try {
      certificate = certify(await source.getCommittee(servesFrom), [0, 1])
    } finally {
      await source.stop()
    }
    await writeFile(join(dir, 'cert.json'), JSON.stringify(certificateToJson(certificate)))
    await writeFile(join(dir, 'cert.bin'), encodeCertificate(certificate))
  })

  it('accepts a valid certificate on-chain and off-chain, and reports the gas', async () => {
    const r = await dacnet(['chain', 'verify', 'cert.json', '-o', 'cert.l1.hex'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^on-chain {3}valid: reason 0 \(valid: every check passed\); \d+ gas$/m)
    expect(r.stdout).toMatch(/^off-chain {2}valid: bafkrei\S+ \(epoch \d+\) signed by 2\/2 members/m)
    const verdict = await json(['chain', 'verify', 'cert.bin'])
    expect(verdict).toMatchObject({
      verified: true,
      onchain: { verified: true, reason: 0, name: 'valid', recordIndex: 0, verifier: file.certificateVerifier },
      offchain: { valid: true, signers: 2, members: 2 },
    })
    expect(BigInt((verdict['onchain'] as { gas: string }).gas)).toBeGreaterThan(150_000n)
    // The on-chain form written with -o verifies as it is.
    expect((await json(['chain', 'verify', 'cert.l1.hex']))['verified']).toBe(true)
    // The client commands read the same committee from the chain.
    const offline = await dacnet(['verify', 'cert.json'])
    expect(offline.code, offline.stderr).toBe(0)
    expect(offline.stdout).toMatch(/^valid: /)
  })

  it('refuses a tampered certificate with the contract reason and exit 1', async () => {
    // Member 1 taken out of the bitmap: the signed stake no longer matches the signers.
    const tampered = { ...certificateToJson(certificate), signers: '0x01' }
    await writeFile(join(dir, 'tampered.json'), JSON.stringify(tampered))
    const r = await dacnet(['chain', 'verify', 'tampered.json'])
    expect(r.code).toBe(1)
    expect(errorCode(r.stderr)).toBe('CLI_CERTIFICATE_REFUSED')
    expect(r.stdout).toMatch(/^on-chain {3}REFUSED: reason 7 \(stake: /m)
    expect(r.stdout).toMatch(/^off-chain {2}REFUSED: ATTEST_/m)
    const verdict = await dacnet(['chain', 'verify', 'tampered.json', '--json'])
    expect(verdict.code).toBe(1)
    expect(JSON.parse(verdict.stdout)).toMatchObject({
      verified: false,
      onchain: { reason: 7 },
      offchain: { valid: false },
    })

    // One bit of the witness's committee summary flipped: the record's hash no longer matches.
    const form = (await readFile(join(dir, 'cert.l1.hex'), 'utf8')).trim()
    const bytes = Buffer.from(form.slice(2), 'hex')
    const summaryAt = encodeCertificate(certificate).length + 1 + 4 + 96
    bytes[summaryAt + 10]! ^= 0x01
    await writeFile(join(dir, 'flipped.l1.hex'), `0x${bytes.toString('hex')}\n`)
    const flipped = await dacnet(['chain', 'verify', 'flipped.l1.hex', '--json'])
    expect(flipped.code).toBe(1)
    expect(JSON.parse(flipped.stdout)).toMatchObject({ onchain: { reason: 4, name: 'summary mismatch' } })
  })
})

describe('stake, unstake and withdraw', () => {
  it('change the stake from the next epoch, lock what unbonds, and pay it after the retention', async () => {
    const a = { DACNET_ETH_KEY: ethKey(nodes.a.label) }
    const added = await dacnet(['stake', '5'], a)
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toMatch(
      /^member 0 \(0x[0-9a-fA-F]{40}\) now stakes 35 DACS \(\+5 DACS\), counted from epoch \d+$/m,
    )

    const removed = await json(['unstake', '10.5'], a)
    expect(removed).toMatchObject({ stake: ((245n * TOKEN) / 10n).toString(), left: false })
    expect(removed['unbonding']).toMatchObject({ state: 'serving', amount: ((105n * TOKEN) / 10n).toString() })
    const unstakedIn = Number((removed['unbonding'] as { lastServedEpoch: string }).lastServedEpoch)

    // Still serving: nothing is sent.
    const early = await dacnet(['withdraw'], a)
    expect(early.code, early.stderr).toBe(0)
    expect(early.stdout).toContain(`nothing paid yet: 10.5 DACS unbonding, serving through epoch ${unstakedIn}`)

    // The epoch after: the first withdraw fixes the release time (retention after the epoch began).
    await mineUntilInForce(unstakedIn + 1)
    const locked = await json(['withdraw'], a)
    expect(locked).toMatchObject({ paid: '0', unbonding: { state: 'locked' } })
    expect(locked['transaction']).toMatch(/^0x/)
    const text = await dacnet(['withdraw'], a)
    expect(text.stdout).toMatch(/nothing paid yet: 10\.5 DACS unbonding, locked until \d{4}-\d\d-\d\dT/)

    const balance = await tokenBalance(nodes.a.label)
    await chain.testClient.increaseTime({ seconds: RETENTION + 1 })
    await chain.testClient.mine({ blocks: 1 })
    const paid = await dacnet(['withdraw'], a)
    expect(paid.code, paid.stderr).toBe(0)
    expect(paid.stdout).toMatch(/^withdrew 10\.5 DACS to 0x/)
    expect(await tokenBalance(nodes.a.label)).toBe(balance + (105n * TOKEN) / 10n)
    expect((await dacnet(['withdraw'], a)).stdout).toContain('nothing to withdraw')

    // Leaving: everything unbonds.
    const left = await json(['unstake', '--all'], a)
    expect(left).toMatchObject({ stake: '0', left: true })
  })

  it('refuses what the registry would refuse, with the reason', async () => {
    const b = { DACNET_ETH_KEY: ethKey(nodes.b.label) }
    expect(errorCode((await dacnet(['unstake', '100'], b)).stderr)).toBe('CLI_USAGE')
    const belowMinimum = await dacnet(['unstake', '19'], b)
    expect(errorCode(belowMinimum.stderr)).toBe('CHAIN_TRANSACTION_FAILED')
    expect(belowMinimum.stderr).toContain('StakeBelowMinimum')
    expect(belowMinimum.stderr).toContain('--all')
    expect(errorCode((await dacnet(['unstake', '1', '--all'], b)).stderr)).toBe('CLI_USAGE')
    expect(errorCode((await dacnet(['stake', '1'], { DACNET_ETH_KEY: ethKey('nobody') })).stderr)).toBe(
      'CLI_NOT_A_MEMBER',
    )
    expect(errorCode((await dacnet(['stake', '1000'], b)).stderr)).toBe('CLI_INSUFFICIENT_FUNDS')
    expect(errorCode((await dacnet(['stake', '1.0000000000000000001'], b)).stderr)).toBe('CLI_USAGE')
    // Nothing above moved the stake.
    expect((await json(['chain', 'status'], b))['account']).toMatchObject({ stake: (20n * TOKEN).toString() })
  })
})

describe('client commands on the chain', () => {
  it('take the committee file or the chain, never both', async () => {
    const cases: [string[], Record<string, string>][] = [
      [['verify', 'cert.json', '--committee', 'committee.json', '--chain', 'chain.json'], {}],
      [['verify', 'cert.json'], { DACNET_COMMITTEE: 'committee.json' }],
      [['sample', 'cert.json', '--committee', 'committee.json', '--rpc', file.rpcUrl], { DACNET_CHAIN: '' }],
    ]
    for (const [args, env] of cases) {
      const r = await dacnet(args, env)
      expect(errorCode(r.stderr), args.join(' ')).toBe('CLI_USAGE')
    }
    // A flag beats the other source's variable.
    const r = await cli(['verify', 'cert.json', '--chain', 'chain.json'], {
      cwd: dir,
      env: { DACNET_COMMITTEE: 'nowhere.json' },
    })
    expect(r.code, r.stderr).toBe(0)
  })
})
