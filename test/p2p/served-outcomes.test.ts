import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeBlob } from '../../src/erasure/encode.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'
import { DacnetError } from '../../src/errors.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { RetrieveRequest } from '../../src/p2p/pb/dacnet.js'
import { RETRIEVE_PROTOCOL, STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { openRetrieve } from '../../src/p2p/retrieve.ts'
import { registerProtocols } from '../../src/p2p/service.ts'
import { type StoreIntake, sendStore } from '../../src/p2p/store.ts'
import { CANCELLED, type ServedExchange } from '../../src/p2p/wire.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { failureOf, startNodes, stopAll, waitFor } from './helpers.ts'

/**
 * How a server reports each inbound exchange: who asked, for which blob (stores), and how it ended — served in
 * full, refused with a code, or cancelled by a client that stopped reading once it had what it needed.
 */

const blob = encodeBlob(randomData(2_000_000, prng(71)), { networkId: 5, epoch: 1, k: 4, n: 16 })
const all = withProofs(blob)
/** Blobs whose stores fail inside the server with an untyped error: in admission (epoch 2), in the intake (epoch 3). */
const faultyAdmit = encodeBlob(randomData(100_000, prng(72)), { networkId: 5, epoch: 2, k: 4, n: 16 })
const faultyIntake = encodeBlob(randomData(100_000, prng(73)), { networkId: 5, epoch: 3, k: 4, n: 16 })

let server: DacnetLibp2p
let client: DacnetLibp2p
const served: { protocol: string; outcome: string; exchange: ServedExchange }[] = []

beforeAll(async () => {
  ;[server, client] = (await startNodes(2)) as [DacnetLibp2p, DacnetLibp2p]
  const held = new Map<number, ShardWithProof>(all.map((s) => [s.index, s]))
  await registerProtocols(
    server,
    {
      store: {
        admit(_peer, header): StoreIntake {
          if (header.epoch === 2) throw new TypeError("Cannot read properties of undefined (reading 'members')")
          if (header.epoch === 3) {
            return {
              add: () => undefined,
              finish: () => Promise.reject(new Error('database exploded')),
              abort: () => undefined,
            }
          }
          throw new DacnetError('NODE_HEADER_MISMATCH', 'blob above the maximum')
        },
      },
      retrieve: {
        async holdings(id) {
          if (id.equals(faultyAdmit.blobId)) return { headerBytes: faultyAdmit.headerBytes, indices: [0, 1] }
          return id.equals(blob.blobId) ? { headerBytes: blob.headerBytes, indices: [...held.keys()] } : null
        },
        async readShard(id, index) {
          if (id.equals(faultyAdmit.blobId)) throw new TypeError("Cannot read properties of undefined (reading 'data')")
          return held.get(index)
        },
      },
    },
    { onServed: (protocol, _ms, outcome, exchange) => served.push({ protocol, outcome, exchange }) },
  )
  await client.dial(server.getMultiaddrs())
})

afterAll(() => stopAll([server, client]))

async function nextServed(protocol: string) {
  const before = served.filter((s) => s.protocol === protocol).length
  await waitFor(() => served.filter((s) => s.protocol === protocol).length > before, `a ${protocol} exchange`)
  return () => served.filter((s) => s.protocol === protocol).at(-1)!
}

describe('served outcomes', () => {
  it('a refused store carries its code, the reason it was sent, the peer and the blob id', async () => {
    const seen = nextServed(STORE_PROTOCOL)
    const err = await failureOf(sendStore(client, server.peerId, blob.headerBytes, all.slice(0, 4)))
    expect(err?.code).toBe('NODE_HEADER_MISMATCH')
    expect((await seen)()).toEqual({
      protocol: STORE_PROTOCOL,
      outcome: 'NODE_HEADER_MISMATCH',
      exchange: { peer: client.peerId.toString(), blobId: blob.blobId.toString(), reason: 'blob above the maximum' },
    })
  })

  it('a store the server fails by a fault of its own is answered P2P_SERVICE_FAILED, its cause only in its log', async () => {
    for (const [faulty, cause] of [
      [faultyAdmit, "TypeError: Cannot read properties of undefined (reading 'members')"],
      [faultyIntake, 'Error: database exploded'],
    ] as const) {
      const seen = nextServed(STORE_PROTOCOL)
      const err = await failureOf(sendStore(client, server.peerId, faulty.headerBytes, withProofs(faulty).slice(0, 4)))
      // Answered, not reset: the sender learns the member's fault rather than a broken connection.
      expect(err?.code).toBe(P2pErrorCode.SERVICE_FAILED)
      expect(err?.meta?.['remote']).toBe(true)
      expect(err?.message).toContain('the node failed to handle the store')
      expect(err?.message).not.toContain(cause)
      expect((await seen)()).toEqual({
        protocol: STORE_PROTOCOL,
        outcome: P2pErrorCode.SERVICE_FAILED,
        exchange: {
          peer: client.peerId.toString(),
          blobId: faulty.blobId.toString(),
          reason: `the node failed to handle the store (${cause})`,
        },
      })
    }
  })

  it('a retrieval read to its end is ok; one the client stops after its first shard is cancelled, not an error', async () => {
    let seen = nextServed(RETRIEVE_PROTOCOL)
    const whole = await openRetrieve(client, server.peerId, blob.blobId)
    let count = 0
    for await (const _ of whole.shards) count++
    expect(count).toBe(16)
    expect((await seen)().outcome).toBe('ok')

    seen = nextServed(RETRIEVE_PROTOCOL)
    const partial = await openRetrieve(client, server.peerId, blob.blobId)
    for await (const _ of partial.shards) break
    expect((await seen)()).toEqual({
      protocol: RETRIEVE_PROTOCOL,
      outcome: CANCELLED,
      exchange: { peer: client.peerId.toString() },
    })
  })

  it('a retrieval the holder fails by a fault of its own is answered ERROR P2P_SERVICE_FAILED, not cut', async () => {
    const seen = nextServed(RETRIEVE_PROTOCOL)
    const err = await failureOf(
      (async () => {
        const session = await openRetrieve(client, server.peerId, faultyAdmit.blobId)
        for await (const _ of session.shards);
      })(),
    )
    expect(err?.code).toBe(P2pErrorCode.SERVICE_FAILED)
    expect(err?.meta?.['remote']).toBe(true)
    expect((await seen)().outcome).toBe(P2pErrorCode.SERVICE_FAILED)
  })

  it('a stream that ends before its request is complete is still P2P_STREAM_ENDED', async () => {
    const seen = nextServed(RETRIEVE_PROTOCOL)
    const stream = await client.dialProtocol(server.peerId, RETRIEVE_PROTOCOL)
    // Half a request frame, then the stream is reset.
    const frame = RetrieveRequest.encode({ blobId: blob.blobId.bytes })
    stream.send(new Uint8Array([frame.length, ...frame.subarray(0, 5)]))
    stream.abort(new Error('gone'))
    expect((await seen)().outcome).toBe(P2pErrorCode.STREAM_ENDED)
  })
})
