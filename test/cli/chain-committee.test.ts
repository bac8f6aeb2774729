/**
 * The chain commands once a committee is registered, against a real anvil and the real contracts: `chain status`
 * shows the members once their epoch is in force, `chain verify` asks the verifier contract, stake changes unbond
 * and pay out after the lock, and the client commands take the committee from the chain. Every command runs
 * in-process through runCli.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { certificateToJson, encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { ChainCommitteeSource } from '../../src/chain/committee-source.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { signedCertificate } from '../attest/helpers.ts'
import { TOKEN } from '../chain/helpers.ts'
import {
  chain,
  dacnet,
  deployAndRegister,
  dir,
  ethKey,
  file,
  json,
  keyFile,
  mineUntilInForce,
  nodes,
  RETENTION,
  sequencer,
  servesFrom,
  startChainDir,
  stopChainDir,
  tokenBalance,
} from './chain-helpers.ts'
import { cli, errorCode } from './helpers.ts'

beforeAll(async () => {
  await startChainDir()
  await deployAndRegister()
})

afterAll(stopChainDir)

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
