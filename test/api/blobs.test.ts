import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApiServer } from '../../src/api/index.ts'
import type { ApiServer } from '../../src/api/options.ts'
import { certificateFromJson } from '../../src/attest/certificate-codec.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import { fromHex } from '../../src/committee/hex.ts'
import { blobIdOf, parseBlobId } from '../../src/erasure/blob-id.ts'
import { verifyMerkleProof } from '../../src/erasure/merkle.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { requestSamples } from '../../src/p2p/sample.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import { startClient } from '../node/harness.ts'
import { type ApiCommittee, call, postBlob, type ResponseBody, startApiCommittee, TOKEN } from './helpers.ts'
import { expectError, expectSchema } from './schema.ts'

let committee: ApiCommittee
/** On the API node (member 0, also the sequencer): dispersal enabled. */
let api: ApiServer
/**
 * On member 1: read-only; holds its share of what member 0 disperses and learns certificates by gossip. The
 * read endpoints are checked here because member 0 does not store its own share (see the `fails` test).
 */
let memberApi: ApiServer
let light: DacnetLibp2p
let blobId: string
const data = randomData(150_000, prng(5380))

beforeAll(async () => {
  committee = await startApiCommittee([25n, 25n, 25n, 25n])
  api = await startApiServer({
    node: committee.apiNode,
    disperser: committee.disperser,
    token: TOKEN,
    port: 0,
    registry: committee.registry,
  })
  memberApi = await startApiServer({ node: committee.members[1]!.node, port: 0 })
  light = await startClient()
  await light.dial(committee.members[1]!.node.libp2p.getMultiaddrs())
  const res = await postBlob(api.url, data)
  expect(res.status).toBe(200)
  blobId = res.body.blobId
})

afterAll(async () => {
  await api?.close()
  await memberApi?.close()
  await light?.stop()
  await committee?.close()
})

describe('POST /v1/blobs then the read endpoints', () => {
  it('gives a certificate that verifies against the committee', async () => {
    const res = await postBlob(api.url, randomData(10_000, prng(1)))
    expect(res.status).toBe(200)
    expectSchema(res.body, 'Dispersal')
    const certificate = certificateFromJson(res.body.certificate)
    const verified = verifyCertificate(certificate, await committee.committees.getCommittee(0))
    expect(res.body.signers).toEqual(verified.signers)
    expect(res.body.signedStake).toBe(verified.signedStake.toString())
    expect(res.body.totalStake).toBe('100')
    expect(res.body.header.dataSize).toBe(10_000)
    expect(res.body.timings.totalMs).toBeGreaterThanOrEqual(res.body.timings.certifyMs)
  })

  it('GET /v1/blobs/:id: header, held shards (this member’s assignment), times', async () => {
    const res = await call(`${memberApi.url}/v1/blobs/${blobId}`)
    expect(res.status).toBe(200)
    expectSchema(res.body, 'Blob')
    const n = Number(res.body.header.n)
    const assignment = assignShards(await committee.committees.getCommittee(0), parseBlobId(blobId).bytes, n)
    expect(res.body.heldShards).toEqual(assignment.shardsOf(1))
    expect(res.body.blobId).toBe(blobId)
    expect(blobIdOf(fromHex(res.body.headerBytes)!).toString()).toBe(blobId)
    expect(res.body.header.dataSize).toBe(data.length)
    expect(res.body.attested).toBe(true)
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.parse(res.body.storedAt))
  })

  it('GET /v1/blobs/:id includes the certificate once the member received it by gossip', async () => {
    let body: ResponseBody
    for (let attempt = 0; attempt < 50; attempt++) {
      body = (await call(`${memberApi.url}/v1/blobs/${blobId}`)).body
      if (body.certificate !== null) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expectSchema(body, 'Blob')
    expect(body.certificate.blobId).toBe(blobId)
    verifyCertificate(certificateFromJson(body.certificate), await committee.committees.getCommittee(0))
  })

  it('GET a held shard: JSON with a proof that verifies, or raw bytes with the proof in a header', async () => {
    const blob = (await call(`${memberApi.url}/v1/blobs/${blobId}`)).body
    const index = blob.heldShards[0]
    const res = await call(`${memberApi.url}/v1/blobs/${blobId}/shards/${index}`)
    expect(res.status).toBe(200)
    expectSchema(res.body, 'Shard')
    const shard = { index, data: fromHex(res.body.data)!, proof: fromHex(res.body.proof)! }
    expect(shard.data.length).toBe(blob.header.shardSize)
    expect(verifyMerkleProof(fromHex(blob.header.root)!, index, blob.header.n, shard.data, shard.proof)).toBe(true)

    const raw = await fetch(`${memberApi.url}/v1/blobs/${blobId}/shards/${index}`, {
      headers: { accept: 'application/octet-stream' },
    })
    expect(raw.status).toBe(200)
    expect(raw.headers.get('content-type')).toBe('application/octet-stream')
    expect(raw.headers.get('x-dacnet-shard-index')).toBe(String(index))
    expect(raw.headers.get('x-dacnet-shard-proof')).toBe(res.body.proof)
    expect(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(shard.data))).toBe(true)
  })

  it('refuses a bad blob id (400) and an unknown one (404)', async () => {
    expectError(await call(`${memberApi.url}/v1/blobs/not-a-blob-id`), 400, 'ERASURE_INVALID_BLOB_ID')
    // A CID, but not of a blob header (dag-pb, CIDv0).
    expectError(
      await call(`${memberApi.url}/v1/blobs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG`),
      400,
      'ERASURE_INVALID_BLOB_ID',
    )
    const unknown = blobIdOf(randomData(65, prng(2))).toString()
    expectError(await call(`${memberApi.url}/v1/blobs/${unknown}`), 404, 'API_BLOB_NOT_FOUND')
    expectError(await call(`${memberApi.url}/v1/blobs/${unknown}/shards/0`), 404, 'API_BLOB_NOT_FOUND')
    expectError(await call(`${memberApi.url}/v1/blobs/bad/shards/0`), 400, 'ERASURE_INVALID_BLOB_ID')
  })

  it('refuses a shard index that is malformed or out of range (400) and one not held (404)', async () => {
    const blob = (await call(`${memberApi.url}/v1/blobs/${blobId}`)).body
    for (const index of ['x', '-1', '01', '1e3', '65536', '99999999']) {
      expectError(await call(`${memberApi.url}/v1/blobs/${blobId}/shards/${index}`), 400, 'API_INVALID_SHARD_INDEX')
    }
    expectError(
      await call(`${memberApi.url}/v1/blobs/${blobId}/shards/${blob.header.n}`),
      400,
      'API_INVALID_SHARD_INDEX',
    )
    const notHeld = [...Array(blob.header.n).keys()].find((i) => !blob.heldShards.includes(i))
    expectError(await call(`${memberApi.url}/v1/blobs/${blobId}/shards/${notHeld}`), 404, 'API_SHARD_NOT_HELD')
  })

  it('GET /v1/status: peers, stored blobs, disk use, samples served', async () => {
    const blob = (await call(`${memberApi.url}/v1/blobs/${blobId}`)).body
    const answers = await requestSamples(
      light,
      committee.members[1]!.node.libp2p.getMultiaddrs(),
      parseBlobId(blobId),
      blob.heldShards.slice(0, 2),
      {
        shardSize: blob.header.shardSize,
      },
    )
    expect([...answers.values()].every((a) => a !== null)).toBe(true)
    const res = await call(`${memberApi.url}/v1/status`)
    expect(res.status).toBe(200)
    expectSchema(res.body, 'Status')
    expect(res.body.peerId).toBe(committee.members[1]!.node.peerId)
    expect(res.body.running).toBe(true)
    expect(res.body.peers).toBeGreaterThanOrEqual(2)
    expect(res.body.storage.blobs).toBe(2)
    expect(res.body.storage.bytes).toBeGreaterThan(0)
    expect(res.body.storage.diskBytes).toBeGreaterThan(0)
    expect(res.body.served.store).toBe(2)
    expect(res.body.samplesServed).toBe(1)
    expect(res.body.disperseEnabled).toBe(false)
    const own = await call(`${api.url}/v1/status`)
    expectSchema(own.body, 'Status')
    expect(own.body.disperseEnabled).toBe(true)
  })

  // libp2p cannot dial itself: a node that is both member and sequencer stores its own share directly
  // (Disperser's localMember) and keeps the certificate it made.
  it('the API node stores its own share of a blob it disperses, and keeps the certificate', async () => {
    const res = await call(`${api.url}/v1/blobs/${blobId}`)
    expect(res.status).toBe(200)
    expect(res.body.certificate).not.toBeNull()
  })

  it('answers unknown routes and methods with 404 API_ROUTE_NOT_FOUND', async () => {
    expectError(await call(`${api.url}/v2/nothing`), 404, 'API_ROUTE_NOT_FOUND')
    expectError(await call(`${api.url}/v1/blobs/${blobId}`, { method: 'DELETE' }), 404, 'API_ROUTE_NOT_FOUND')
  })

  it('GET /health: 200 while the node runs, 503 once it stopped', async () => {
    const res = await call(`${memberApi.url}/health`)
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } })
    expectSchema(res.body, 'Health')
    await committee.members[1]!.node.stop()
    expectError(await call(`${memberApi.url}/health`), 503, 'API_NODE_NOT_RUNNING')
    expectError(await call(`${memberApi.url}/v1/blobs/${blobId}`), 503, 'STORAGE_CLOSED')
    const status = await call(`${memberApi.url}/v1/status`)
    expect(status.body.running).toBe(false)
  })
})
