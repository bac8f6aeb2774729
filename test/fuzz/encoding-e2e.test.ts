/**
 * A sample of the fuzzed sequencer's shard sets against real nodes: four committee members (libp2p on loopback,
 * LevelDB in temp dirs). Over the store protocol a member refuses shards that fail their proofs — another
 * commitment's rows, or a flipped bit — and keeps nothing; a consistent commitment to rows that are not a codeword
 * is certified (members cannot tell), and two retrievers, each streaming from the holders the certificate's
 * assignment names, reach the verdict the rows show: the exact bytes, or BadEncoding with evidence that verifies.
 * The pure-level suite (encoding.test.ts, `npm run soak -- encoding`) runs the full corpus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assignShards } from '../../src/committee/assignment.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { checkBadEncoding, verifyBadEncoding } from '../../src/erasure/decode.ts'
import type { EncodedBlob } from '../../src/erasure/encode.ts'
import { decodeEvidence, encodeEvidence } from '../../src/erasure/evidence.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { Retriever } from '../../src/node/retriever.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { sendStore } from '../../src/p2p/store.ts'
import { prng } from '../erasure/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  oneEpochRegistry,
  type RunningMember,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from '../node/harness.ts'
import { failureOf } from '../p2p/helpers.ts'
import { COMMITMENTS, fuzzedCommitment } from './encoding-cases.ts'
import type { Commitment } from './encoding-oracle.ts'

const NETWORK = 9199
const STAKES = [30n, 25n, 25n, 20n]
/** Commitments dispersed: a strategy each, drawn with the day's seed. */
const CASES = 8
const SEED = Number(process.env['DACNET_FUZZ_SEED'] ?? Math.floor(Date.now() / 86_400_000))

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
let sequencer: DacnetLibp2p
let reader: DacnetLibp2p
let pool: ErasurePool
let disperser: Disperser
let retrievers: Retriever[]
let committee: Committee

beforeAll(async () => {
  for (const stake of STAKES) members.push(await startMember(await memberIdentity(stake), committees))
  for (let i = 0; i < members.length; i++) {
    await members[i]!.node.libp2p.dial(members[(i + 1) % members.length]!.node.libp2p.getMultiaddrs())
  }
  sequencer = await startClient()
  reader = await startClient()
  committees.registry = oneEpochRegistry(NETWORK, members, [sequencer])
  committee = await committees.getCommittee(0)
  pool = new ErasurePool({ size: 1 })
  disperser = new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: 15_000, retryDelayMs: 100 })
  retrievers = [
    new Retriever({ libp2p: reader, committees, pool }),
    new Retriever({ libp2p: sequencer, committees, pool }),
  ]
}, 120_000)

afterAll(async () => {
  for (const m of members) await m.node.stop().catch(() => {})
  for (const node of [sequencer, reader]) await node?.stop()
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
})

const encoded = (c: Commitment): EncodedBlob => ({
  header: c.header,
  headerBytes: c.headerBytes,
  blobId: c.blobId,
  shards: c.shards.map((s) => s.data),
  proofs: c.shards.map((s) => s.proof),
})

describe('a badly-encoding sequencer against real nodes', () => {
  it(`${CASES} fuzzed commitments: failing shards refused over the wire, every retriever reaches the rows' verdict`, async () => {
    const rand = prng(SEED)
    const seen = new Set<string>()
    for (let i = 0; i < CASES; i++) {
      const strategy = COMMITMENTS[Math.floor(rand() * COMMITMENTS.length)]!
      const size = 1 + Math.floor(rand() * 20_000)
      const caseSeed = Math.floor(rand() * 2 ** 31)
      const label = `case ${i}: ${strategy}, ${size} bytes, seed ${caseSeed} (DACNET_FUZZ_SEED=${SEED})`
      const { commitment, verdict } = fuzzedCommitment(committee, size, strategy, caseSeed)
      const rival = fuzzedCommitment(committee, size, 'honest', caseSeed + 1).commitment

      // One member is sent another commitment's rows under this header, or its own rows with one bit flipped.
      const target = committee.members[i % committee.members.length]!
      const running = members.find((m) => m.identity.peerId === target.peerId)!
      const own = assignShards(committee, commitment.blobId.bytes, commitment.header.n).shardsOf(target.index)
      const spoiled = own.map((index) => ({ ...commitment.shards[index]! }))
      if (i % 2 === 0) {
        spoiled[0] = { ...rival.shards[own[0]!]! }
      } else {
        spoiled[0] = { ...spoiled[0]!, data: spoiled[0]!.data.slice() }
        spoiled[0].data[Math.floor(rand() * spoiled[0].data.length)]! ^= 1 << Math.floor(rand() * 8)
      }
      const refused = await failureOf(
        sendStore(sequencer, running.node.libp2p.getMultiaddrs(), commitment.headerBytes, spoiled),
      )
      expect(refused?.code, label).toBe('STORAGE_INVALID_PROOF')
      expect(refused?.meta?.['remote'], label).toBe(true)
      expect(await running.node.store.hasBlob(commitment.blobId), label).toBe(false)
      expect(await running.node.store.getAttestation(commitment.blobId), label).toBeUndefined()

      // The proofs all hold, so the committee certifies whatever the rows are.
      const { certificate } = await disperser.disperseEncoded(encoded(commitment))
      for (const retriever of retrievers) {
        const got = await retriever.retrieve(certificate)
        if (verdict.kind === 'ok') {
          expect(got.kind, label).toBe('ok')
          if (got.kind === 'ok') expect(Buffer.from(got.data).equals(Buffer.from(verdict.data)), label).toBe(true)
        } else {
          expect(got.kind === 'bad-encoding' && got.reason, label).toBe(verdict.reason)
          if (got.kind !== 'bad-encoding') continue
          expect(verifyBadEncoding(got.header, got.evidence), label).toBe(true)
          const parsed = decodeEvidence(encodeEvidence(got.header, got.evidence))
          expect(checkBadEncoding(parsed.header, parsed.evidence), label).toBe(verdict.reason)
          expect(verifyBadEncoding(rival.header, got.evidence), label).toBe(false)
        }
      }
      seen.add(verdict.kind === 'ok' ? 'ok' : verdict.reason)
    }
    // Most strategies are not codewords: the sample reaches a BadEncoding verdict.
    expect(seen.has('root-mismatch') || seen.has('nonzero-padding')).toBe(true)
  })
})
