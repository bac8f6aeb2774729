import { execFile } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificateBlobId } from '../../src/attest/certificate.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import { isDacnetError } from '../../src/errors.ts'
import { createClient } from '../../src/node/client.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { generatePeerKey, parsePeerKey, writePeerKey } from '../../src/p2p/identity.ts'
import { DHT_PROTOCOL } from '../../src/p2p/protocols.ts'
import {
  ErasurePool,
  type MemberIdentity,
  memberIdentity,
  type RunningMember,
  removeDirs,
  SwappableCommitteeSource,
  startMember,
} from '../node/harness.ts'

/** createClient against a real committee: four members on loopback (libp2p, LevelDB), a committee file on disk. */

const NETWORK = 4343
/** libp2p's identify protocol. */
const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0'
const STAKES = [30n, 25n, 25n, 20n]
const FOUR_LINES = fileURLToPath(new URL('./four-lines.ts', import.meta.url))
/** Time a finished program may take to exit: Node's own shutdown, never a timer or socket left open. */
const LINGER_MS = 5_000

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let dir: string
let committeePath: string
let keyPath: string

const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`

/** The committee file a network publishes: every member with its proof of possession and its listed addresses. */
function committeeFile(identities: MemberIdentity[], addresses: string[][], sequencer: string): string {
  return JSON.stringify({
    version: 1,
    networkId: NETWORK,
    epochs: [
      {
        epoch: 0,
        members: identities.map((m, i) => ({
          peerId: m.peerId,
          publicKey: hex(m.publicKey),
          proofOfPossession: hex(m.proofOfPossession),
          stake: m.stake.toString(),
          multiaddrs: addresses[i],
        })),
        sequencers: [{ peerId: sequencer }],
      },
    ],
  })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dacnet-client-'))
  const identities = await Promise.all(STAKES.map((stake) => memberIdentity(stake)))
  for (const identity of identities) members.push(await startMember(identity, committees))
  const sequencerKey = await generatePeerKey()
  keyPath = join(dir, 'sequencer.key')
  await writePeerKey(keyPath, sequencerKey)
  const text = committeeFile(
    identities,
    members.map((m) => m.node.addresses()),
    peerIdFromPrivateKey(sequencerKey).toString(),
  )
  committeePath = join(dir, 'committee.json')
  await writeFile(committeePath, text)
  committees.registry = parseCommitteeFile(text, { verifier: blsKeyVerifier })
}, 60_000)

afterAll(async () => {
  await Promise.all(members.map((m) => m.node.stop()))
  await removeDirs([...members.map((m) => m.dir), dir])
})

describe('createClient', () => {
  it("runs an SDK user's four lines in their own process: disperse, sample, retrieve, then the process ends", async () => {
    const result = await new Promise<{ code: number | null; lingered: boolean; stdout: string; stderr: string }>(
      (resolve) => {
        const child = execFile(process.execPath, [FOUR_LINES, committeePath, keyPath], { timeout: 60_000 })
        let stdout = ''
        let stderr = ''
        let lingered = false
        let grace: NodeJS.Timeout | undefined
        child.stdout!.on('data', (d) => {
          stdout += d
          // The program's last line is out: from here only open handles could keep it running.
          grace ??= setTimeout(() => {
            lingered = true
            child.kill('SIGKILL')
          }, LINGER_MS)
        })
        child.stderr!.on('data', (d) => {
          stderr += d
        })
        child.on('exit', (code) => {
          clearTimeout(grace)
          resolve({ code, lingered, stdout, stderr })
        })
      },
    )
    expect(result.lingered, 'the process still ran after its last line: something the client created is open').toBe(
      false,
    )
    expect(result.code, result.stderr).toBe(0)
    const seen = JSON.parse(result.stdout)
    expect(seen).toMatchObject({ connected: 4, available: true, intact: true })
    expect(BigInt(seen.signedStake)).toBeGreaterThanOrEqual(67n)
    expect(seen.confidence).toBeGreaterThanOrEqual(1 - 1e-6)
  }, 70_000)

  it('stops what it created and leaves what the caller passed in: the caller stops its own source and pool', async () => {
    const pool = new ErasurePool({ size: 1 })
    try {
      const client = await createClient({ committees, pool, localNetwork: true, gossipWaitMs: 0 })
      expect(client.connected).toBe(4)
      expect(client.libp2p.status).toBe('started')
      const blob = new TextEncoder().encode('kept by the caller\n'.repeat(500))
      const sequencerless = await client.disperser.disperse(blob).catch((err: unknown) => err)
      // A fresh key is no registered sequencer: every member refuses the store.
      expect(isDacnetError(sequencerless)).toBe(true)
      await client.stop()
      expect(client.libp2p.status).toBe('stopped')
      // stop() is idempotent, and left the caller's pool working.
      await client.stop()
      const encoded = await pool.encodeBlob(blob, { networkId: NETWORK, epoch: 0, k: 4, n: 8 })
      expect(encoded.shards).toHaveLength(8)
      // ...and the caller's committee source answering.
      expect((await committees.getCommittee(0)).size).toBe(4)
    } finally {
      await pool.close()
    }
  }, 60_000)

  it('disperses and verifies with the key given in memory, sharing the caller source', async () => {
    await using client = await createClient({
      committees,
      key: parsePeerKey(await readFile(keyPath), keyPath),
      localNetwork: true,
    })
    const { certificate } = await client.disperser.disperse(new Uint8Array(50_000).fill(7))
    expect(verifyCertificate(certificate, await committees.getCommittee(0)).signedStake).toBe(certificate.signedStake)
  }, 60_000)

  it('samples and retrieves without DHT or gossip, identifying no holder it dials', async () => {
    await using sequencer = await createClient({
      committees,
      key: parsePeerKey(await readFile(keyPath), keyPath),
      localNetwork: true,
    })
    const data = new Uint8Array(40_000).map((_, i) => (i * 7) & 0xff)
    const { certificate } = await sequencer.disperser.disperse(data)
    await using light = await createClient({ committees, localNetwork: true, gossip: false, dht: false })
    expect(light.libp2p.services.dht).toBeUndefined()
    expect(light.libp2p.services.pubsub).toBeUndefined()
    const sampled = await light.lightClient.sample(certificate)
    expect(sampled.available).toBe(true)
    // A bare blob id: with no DHT to ask for providers, the retriever asks the committee.
    const back = await light.retriever.retrieve(certificateBlobId(certificate).toString())
    expect(back.kind === 'ok' && Buffer.from(back.data).equals(Buffer.from(data))).toBe(true)
    const { members: listed } = await committees.getCommittee(0)
    // The sequencer identified each member on connecting, and so knows all it serves; the light client knows the
    // protocols it asked for, and identify's, which it answered when the member identified it.
    const asked = (p: string) => /^\/dacnet\/(sample|retrieve)\//.test(p) || p === IDENTIFY_PROTOCOL
    for (const member of listed) {
      const id = peerIdFromString(member.peerId)
      await expect.poll(async () => (await sequencer.libp2p.peerStore.get(id)).protocols).toContain(DHT_PROTOCOL)
      const known = (await light.libp2p.peerStore.get(id)).protocols
      expect(known.filter((p) => !asked(p))).toEqual([])
    }
    // Stopped while a check runs, and checked after: never a verdict that the blob is unavailable.
    const checking = light.lightClient.sample(certificate, { confidence: 1 - 1e-12 }).then(
      (r) => (r.available ? 'available' : 'unavailable'),
      (e: { code?: string }) => e.code,
    )
    await light.stop()
    expect(['available', 'NODE_SHUTTING_DOWN']).toContain(await checking)
    expect(await light.lightClient.sample(certificate).catch((e: { code?: string }) => e.code)).toBe(
      'NODE_SHUTTING_DOWN',
    )
    expect(await light.retriever.retrieve(certificate).catch((e: { code?: string }) => e.code)).toBe(
      'NODE_SHUTTING_DOWN',
    )
  }, 60_000)

  it('refuses options that name no committees or two sources, and a committee file that is not there', async () => {
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (err: unknown) => (isDacnetError(err) ? err.code : String(err)),
      )
    expect(await code(createClient({}))).toBe(NodeErrorCode.INVALID_OPTIONS)
    expect(await code(createClient({ committee: committeePath, committees }))).toBe(NodeErrorCode.INVALID_OPTIONS)
    expect(await code(createClient({ committees, gossipWaitMs: -1 }))).toBe(NodeErrorCode.INVALID_OPTIONS)
    // A string where a switch belongs would read as "on": refused rather than guessed.
    const notBoolean = { committees, dht: 'false' } as unknown as Parameters<typeof createClient>[0]
    expect(await code(createClient(notBoolean))).toBe(NodeErrorCode.INVALID_OPTIONS)
    expect(await code(createClient({ chain: join(dir, 'no-chain.json') }))).toBe(NodeErrorCode.INVALID_OPTIONS)
    expect(await code(createClient({ committee: join(dir, 'missing.json') }))).toMatch(/^COMMITTEE_/)
  })
})
