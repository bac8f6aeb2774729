import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { Retriever } from '../../src/node/retriever.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  oneEpochRegistry,
  type RunningMember,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

/**
 * Retrieval against real members (libp2p on loopback, LevelDB) that allow one retrieve request a second per peer:
 * a retriever taking blobs back to back goes past that, and is answered P2P_RATE_LIMITED when the window ends.
 */

const NETWORK = 7474
const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let sequencer: DacnetLibp2p
let reader: DacnetLibp2p
let pool: ErasurePool
const blobs = [randomData(200_000, prng(7474)), randomData(150_000, prng(7475))]
const certificates: Certificate[] = []

beforeAll(async () => {
  for (const stake of [30n, 25n, 25n, 20n]) {
    members.push(await startMember(await memberIdentity(stake), committees, { retrieveRatePerSecond: 1 }))
  }
  sequencer = await startClient()
  reader = await startClient()
  committees.registry = oneEpochRegistry(NETWORK, members, [sequencer])
  pool = new ErasurePool({ size: 1 })
  const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: 15_000 })
  for (const data of blobs) certificates.push((await disperser.disperse(data)).certificate)
  while (disperser.unsettled > 0) await new Promise((resolve) => setTimeout(resolve, 10))
}, 60_000)

afterAll(async () => {
  for (const m of members) await m.node.stop().catch(() => {})
  for (const n of [sequencer, reader]) await n?.stop()
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
})

describe('retrieval from holders over their request rate', () => {
  it('asks a rate-limited holder again after its window instead of giving the blob up', async () => {
    const retriever = new Retriever({ libp2p: reader, committees, pool })
    const started = performance.now()
    for (let round = 0; round < 2; round++) {
      for (const [i, certificate] of certificates.entries()) {
        const back = await retriever.retrieve(certificate, { signal: AbortSignal.timeout(20_000) })
        expect(back.kind).toBe('ok')
        if (back.kind === 'ok') expect(Buffer.from(back.data).equals(Buffer.from(blobs[i]!))).toBe(true)
      }
    }
    // Four retrievals from the same holders at one request a second each: they waited for the windows.
    expect(performance.now() - started).toBeGreaterThan(1_500)
  }, 60_000)
})
