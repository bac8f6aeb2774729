/**
 * `dacnet da-server` as an operator runs it: its own OS process, a committee file, the sequencer's key; the
 * batcher's put and op-node's get over HTTP; SIGTERM ends it cleanly.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreatePeerKey } from '../../src/p2p/identity.ts'
import { cli, collect, errorCode, killLeftovers, removeDir, spawnCli, tempDir, waitFor } from '../cli/helpers.ts'
import {
  type MemberIdentity,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startMember,
} from '../node/harness.ts'

const NETWORK = 5382
const STAKES = [30n, 25n, 25n, 20n]

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

/** The committee file a `dacnet committee create` would write for these members and this sequencer. */
function committeeFileJson(members: { identity: MemberIdentity; addresses: string[] }[], sequencer: string): string {
  return JSON.stringify({
    version: 1,
    networkId: NETWORK,
    epochs: [
      {
        epoch: 0,
        members: members.map(({ identity, addresses }) => ({
          peerId: identity.peerId,
          publicKey: hex(identity.publicKey),
          proofOfPossession: hex(identity.proofOfPossession),
          stake: identity.stake.toString(),
          multiaddrs: addresses,
        })),
        sequencers: [{ peerId: sequencer }],
      },
    ],
  })
}

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let dir: string
let keyPath: string
let committeePath: string

beforeAll(async () => {
  dir = await tempDir('dacnet-da-server-')
  keyPath = join(dir, 'sequencer.key')
  committeePath = join(dir, 'committee.json')
  const sequencer = peerIdFromPrivateKey(await loadOrCreatePeerKey(keyPath)).toString()
  for (const stake of STAKES) members.push(await startMember(await memberIdentity(stake), committees))
  const listed = members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() }))
  committees.registry = registryOf(NETWORK, [{ epoch: 0, members: listed, sequencers: [sequencer] }])
  await writeFile(committeePath, committeeFileJson(listed, sequencer))
}, 30_000)

afterAll(async () => {
  killLeftovers()
  for (const m of members) await m.node.stop().catch(() => {})
  await removeDirs(members.map((m) => m.dir))
  await removeDir(dir)
}, 30_000)

describe('dacnet da-server', () => {
  it('serves put and get for the committee in the file, logs the progress, and exits 0 on SIGTERM', async () => {
    const child = spawnCli(['da-server', '--key', keyPath, '--committee', committeePath, '--port', '0'], { cwd: dir })
    const out = collect(child)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const url = await waitFor(() => /da server ready .*url=(http:\/\/\S+)/.exec(out.stderr())?.[1], 30_000, 'ready')
      const data = new Uint8Array(50_000).map((_, i) => (i * 7) % 251)
      const put = await fetch(`${url}/put`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: data,
      })
      expect(put.status, out.stderr()).toBe(200)
      const commitment = new Uint8Array(await put.arrayBuffer())
      expect([...commitment.subarray(0, 3)]).toEqual([0x01, 0x64, 0x01])
      const get = await fetch(`${url}/get/${hex(commitment)}?l1_inclusion_block_number=12`)
      expect(get.status).toBe(200)
      expect(get.headers.get('content-type')).toBe('application/octet-stream')
      expect(Buffer.from(await get.arrayBuffer()).equals(Buffer.from(data))).toBe(true)
      expect(out.stderr()).toMatch(/put: encoded[\s\S]*put: member stored[\s\S]*put: certified[\s\S]*get: served/)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(out.stderr()).toContain('da server stopped')
  }, 60_000)

  it('refuses an unknown log level as a usage error before it connects', async () => {
    const result = await cli(['da-server', '--key', keyPath, '--committee', committeePath, '--log-level', 'loud'])
    expect([result.code, errorCode(result.stderr)]).toEqual([2, 'CLI_USAGE'])
  })
})
