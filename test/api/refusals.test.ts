import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startApiServer } from '../../src/api/index.ts'
import type { ApiServer } from '../../src/api/options.ts'
import { type ApiApp, createApiApp } from '../../src/api/server.ts'
import { parseBlobId } from '../../src/erasure/blob-id.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { createLogger } from '../../src/logger.ts'
import { CommitteeNode } from '../../src/node/committee-node.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import { openRetrieve } from '../../src/p2p/retrieve.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { ShardStore } from '../../src/storage/store.ts'
import { cli } from '../cli/helpers.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import {
  ErasurePool,
  type MemberIdentity,
  memberIdentity,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
} from '../node/harness.ts'
import { failureOf, waitFor } from '../p2p/helpers.ts'
import { expectSchema } from './schema.ts'

/**
 * What a node counts and logs of the exchanges it serves: refusals by code (never as served), one log line per
 * refused store, and retrievals the client stopped once it had enough as cancelled, not as errors. One real node
 * (libp2p on loopback, LevelDB), a registered sequencer and a stranger.
 */

const NETWORK = 61
const MAX_BLOB = 1024 * 1024
let identity: MemberIdentity
let node: CommitteeNode
let dir: string
let sequencer: DacnetLibp2p
let stranger: DacnetLibp2p
let pool: ErasurePool
let built: ApiApp
let server: ApiServer
const logLines: Record<string, unknown>[] = []
let storedBlobId: string
let oversizedBlobId: string

beforeAll(async () => {
  identity = await memberIdentity(10n)
  dir = await mkdtemp(join(tmpdir(), 'dacnet-refusals-'))
  const committees = new SwappableCommitteeSource()
  const libp2p = await createDacnetLibp2p({ privateKey: identity.peerKey, dhtMode: 'server', localNetwork: true })
  const logger = createLogger({ json: true, level: 'debug', write: (line) => logLines.push(JSON.parse(line)) })
  node = new CommitteeNode(
    { libp2p, store: await ShardStore.open(dir), committees, secretKey: identity.secretKey, logger },
    { maxBlobSize: MAX_BLOB, announceProviders: false },
  )
  await node.start()
  sequencer = await startClient('server')
  stranger = await startClient()
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: [{ identity, addresses: node.addresses() }],
      sequencers: [sequencer.peerId.toString()],
    },
  ])
  pool = new ErasurePool({ size: 1 })

  // One store served, and two refused: a stranger's, and a blob above the member's maximum.
  const disperser = new Disperser({ libp2p: sequencer, committees, pool })
  storedBlobId = (await disperser.disperse(randomData(900_000, prng(61)))).blob.blobId.toString()
  const small = encodeBlob(randomData(1_000, prng(62)), { networkId: NETWORK, epoch: 0, k: 1, n: 2 })
  const refusedStranger = await failureOf(
    sendStore(stranger, node.libp2p.getMultiaddrs(), small.headerBytes, withProofs(small)),
  )
  expect(refusedStranger?.code).toBe('NODE_UNREGISTERED_SEQUENCER')
  built = await createApiApp({ node })
  server = await startApiServer({ node, port: 0 })
}, 60_000)

afterAll(async () => {
  await built?.close()
  await server?.close()
  await node?.stop()
  await sequencer?.stop()
  await stranger?.stop()
  await pool?.close()
  await removeDirs(dir ? [dir] : [])
})

/** Inbound exchanges the node has counted, however they ended. */
function exchangesSeen(): number {
  const { served, refused, cancelled } = node.status()
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
  return sum(served) + sum(refused) + sum(cancelled)
}

async function status() {
  const res = await built.app.inject({ method: 'GET', url: '/v1/status' })
  expect(res.statusCode).toBe(200)
  const body = res.json()
  expectSchema(body, 'Status')
  return body
}

describe('refused stores', () => {
  it("a share far above the member's read buffer, refused for its size, reaches the sequencer with the member's code", async () => {
    // 12 MiB blob, k 1 of n 2: a 24 MiB share, refused at admission (NODE_HEADER_MISMATCH) while it streams in.
    const big = encodeBlob(randomData(12 * 1024 * 1024, prng(63)), { networkId: NETWORK, epoch: 0, k: 1, n: 2 })
    oversizedBlobId = big.blobId.toString()
    const err = await failureOf(sendStore(sequencer, node.libp2p.peerId, big.headerBytes, withProofs(big)))
    expect(err?.code).toBe('NODE_HEADER_MISMATCH')
    expect(err?.message).toContain(`above the maximum of ${MAX_BLOB}`)
    expect(err?.meta?.['remote']).toBe(true)
  }, 30_000)

  it('are counted by code, not as served, and each is one log line with its code, reason, peer and blob', async () => {
    const body = await status()
    expect(body.served.store).toBe(1)
    expect(body.refused).toEqual({ NODE_HEADER_MISMATCH: 1, NODE_UNREGISTERED_SEQUENCER: 1 })
    expect(node.status().refused).toEqual(body.refused)
    const refusedLines = logLines.filter((l) => l['msg'] === 'store refused')
    expect(refusedLines).toHaveLength(2)
    expect(refusedLines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        code: 'NODE_UNREGISTERED_SEQUENCER',
        peer: stranger.peerId.toString(),
      }),
    )
    expect(refusedLines).toContainEqual(
      expect.objectContaining({
        code: 'NODE_HEADER_MISMATCH',
        reason: expect.stringContaining(`above the maximum of ${MAX_BLOB}`),
        peer: sequencer.peerId.toString(),
        blobId: oversizedBlobId,
      }),
    )
  })

  it('from a peer that keeps trying are all counted, but logged once a minute per peer and code', async () => {
    const small = encodeBlob(randomData(1_000, prng(64)), { networkId: NETWORK, epoch: 0, k: 1, n: 2 })
    for (let i = 0; i < 5; i++) {
      const err = await failureOf(
        sendStore(stranger, node.libp2p.getMultiaddrs(), small.headerBytes, withProofs(small)),
      )
      expect(err?.code).toBe('NODE_UNREGISTERED_SEQUENCER')
    }
    await vi.waitFor(() => expect(node.status().refused['NODE_UNREGISTERED_SEQUENCER']).toBe(6))
    const strangerLines = logLines.filter(
      (l) => l['msg'] === 'store refused' && l['peer'] === stranger.peerId.toString(),
    )
    expect(strangerLines).toHaveLength(1)
  })
})

describe('retrievals the client stops after the shards it needs', () => {
  it('count as cancelled: not refused, not an error in the metrics', async () => {
    const before = await status()
    const seenBefore = exchangesSeen()
    const client = await startClient()
    try {
      const session = await openRetrieve(client, node.libp2p.getMultiaddrs(), parseBlobId(storedBlobId))
      expect(session.count).toBeGreaterThan(1)
      for await (const _shard of session.shards) break
      // The holder sees the stream end under its feet: wait until it has counted the exchange, however it ended.
      await waitFor(() => exchangesSeen() > seenBefore, 'the holder to count the retrieval')
    } finally {
      await client.stop()
    }
    const after = await status()
    expect(after.cancelled.retrieve).toBe(before.cancelled.retrieve + 1)
    expect(after.served.retrieve).toBe(before.served.retrieve)
    expect(after.refused).toEqual(before.refused)
    const metrics = (await built.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('dacnet_inbound_cancelled_total{protocol="retrieve"} 1')
    expect(metrics).not.toMatch(/dacnet_inbound_rejections_total\{protocol="retrieve"/)
  })
})

describe('dacnet status', () => {
  it('prints served, refused by code and cancelled exchanges', async () => {
    const { code, stdout } = await cli(['status', '--api', server.url])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^served\s+store 1, sample 0, retrieve 0$/m)
    // Most frequent first (the stranger kept trying above).
    expect(stdout).toMatch(/^refused\s+NODE_UNREGISTERED_SEQUENCER 6, NODE_HEADER_MISMATCH 1$/m)
    expect(stdout).toMatch(/^cancelled\s+sample 0, retrieve 1 /m)
  })
})
