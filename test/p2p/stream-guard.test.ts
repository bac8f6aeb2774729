import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { MAX_INBOUND_SAMPLE_STREAMS } from '../../src/p2p/limits.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { requestSamples, type SampleService } from '../../src/p2p/sample.ts'
import { registerProtocols, type StopServing } from '../../src/p2p/service.ts'
import { prng, randomData, withProofs } from '../erasure/helpers.ts'
import { type Gate, gate, outcomeOf, startNodes, stopAll, waitFor } from './helpers.ts'

/**
 * A peer that keeps opening sample streams past the per-connection limit is cut off and refused for a while,
 * while an honest client on the same holder is served throughout; against real libp2p nodes on loopback.
 */

const blob = encodeBlob(randomData(40_000, prng(41)), { networkId: 5, epoch: 1, k: 4, n: 12 })
const all = withProofs(blob)
/** Streams past the limit the flooder may open before it is cut off (the default is 64 in 10 s). */
const OVERFLOW_LIMIT = 5
const REFUSAL_MS = 2_000

let holder: DacnetLibp2p
let flooder: DacnetLibp2p
let honest: DacnetLibp2p
let stopServing: StopServing
/** Outcomes the holder counted, by code, and for which peer. */
const outcomes: { outcome: string; peer: string }[] = []
/** While closed, the flooder's requests stay in the service (its streams stay open). */
let hold: Gate | undefined
/** The flooder's requests that reached the service. */
let flooderReads = 0

const sample: SampleService = {
  async readShard(_blobId, index, requester) {
    if (requester === flooder.peerId.toString()) {
      flooderReads++
      await hold?.promise
    }
    return all[index]
  },
}

const ask = (client: DacnetLibp2p, timeoutMs = 4_000) =>
  requestSamples(client, holder.peerId, blob.blobId, [0, 1], { shardSize: blob.header.shardSize, timeoutMs })
const counted = (outcome: string, peer: DacnetLibp2p) =>
  outcomes.filter((o) => o.outcome === outcome && o.peer === peer.peerId.toString()).length

beforeAll(async () => {
  ;[holder, flooder, honest] = (await startNodes(3)) as [DacnetLibp2p, DacnetLibp2p, DacnetLibp2p]
  stopServing = await registerProtocols(
    holder,
    { sample },
    {
      streamOverflowLimit: OVERFLOW_LIMIT,
      peerRefusalMs: REFUSAL_MS,
      onServed: (_protocol, _ms, outcome, exchange) => outcomes.push({ outcome, peer: exchange.peer }),
    },
  )
  await flooder.dial(holder.getMultiaddrs())
  await honest.dial(holder.getMultiaddrs())
})

afterAll(async () => {
  hold?.open()
  await stopServing?.()
  await stopAll([holder, flooder, honest])
})

describe('a peer opening sample streams past the per-connection limit', { timeout: 30_000 }, () => {
  it('has each extra stream reset and counted, then is disconnected and refused; an honest client is served', async () => {
    hold = gate()
    const held = Array.from({ length: MAX_INBOUND_SAMPLE_STREAMS }, () => outcomeOf(ask(flooder, 20_000)))
    await waitFor(() => flooderReads === MAX_INBOUND_SAMPLE_STREAMS, 'the flooder’s 16 requests in the service')
    // Up to the overflow limit, each stream past the 16 is reset (the client sees a reset) and the peer stays.
    for (let i = 0; i < OVERFLOW_LIMIT; i++) expect(await outcomeOf(ask(flooder))).toBe(P2pErrorCode.STREAM_ENDED)
    expect(counted(P2pErrorCode.TOO_MANY_STREAMS, flooder)).toBe(OVERFLOW_LIMIT)
    expect(holder.getConnections(flooder.peerId)).toHaveLength(1)
    expect(await outcomeOf(ask(honest))).toBe('ok')

    // One more: the peer is cut off, every stream it had with it.
    expect(await outcomeOf(ask(flooder))).not.toBe('ok')
    await waitFor(() => holder.getConnections(flooder.peerId).length === 0, 'the flooder disconnected')
    expect(counted(P2pErrorCode.TOO_MANY_STREAMS, flooder)).toBe(OVERFLOW_LIMIT + 1)
    expect(counted(P2pErrorCode.PEER_REFUSED, flooder)).toBe(1)
    for (const outcome of await Promise.all(held)) expect(outcome).not.toBe('ok')
    // None of the streams past the limit reached the service.
    expect(flooderReads).toBe(MAX_INBOUND_SAMPLE_STREAMS)
    hold.open()

    // Refused while the refusal lasts: a new connection is closed as it opens, and nothing is served to it.
    const refusedBefore = counted(P2pErrorCode.PEER_REFUSED, flooder)
    expect(await outcomeOf(ask(flooder))).not.toBe('ok')
    expect(counted(P2pErrorCode.PEER_REFUSED, flooder)).toBeGreaterThan(refusedBefore)
    expect(counted('ok', flooder)).toBe(0)

    // The honest client, on its own connection, is served throughout and never counted.
    expect(await outcomeOf(ask(honest))).toBe('ok')
    expect(outcomes.filter((o) => o.peer === honest.peerId.toString()).map((o) => o.outcome)).toEqual(['ok', 'ok'])

    // Once the refusal is over the peer is served again.
    await new Promise((resolve) => setTimeout(resolve, REFUSAL_MS + 200))
    expect(await outcomeOf(ask(flooder))).toBe('ok')
  })
})
