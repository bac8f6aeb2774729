/**
 * The reading side of a blob, against a running cluster: the light client's availability check (warm, on the
 * devnet's light client with its connections open; cold, on a fresh libp2p node that has to dial every holder it
 * asks) and retrieval of the whole blob by the devnet's retriever.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Certificate } from '../../src/attest/certificate.ts'
import type { CommitteeSource } from '../../src/committee/source.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { HASH_SIZE } from '../../src/erasure/merkle.ts'
import { LightClient, type SampleResult } from '../../src/node/light-client.ts'
import { createDacnetLibp2p } from '../../src/p2p/node.ts'
import { type BenchRow, median } from '../lib.ts'
import type { BenchCluster } from './cluster.ts'
import type { Dispersed, RandomBlobs } from './dispersal.ts'
import { round } from './dispersal.ts'
import { implOf, KiB, MiB, row, sizeLabel } from './rows.ts'

/** The goals, for a 16 MiB blob on 16 members. */
const WARM_GOAL_MS = 25
const COLD_GOAL_MS = 100
const BYTES_GOAL_KIB = 256
const RETRIEVE_GOAL_MS = 500
const GOAL_SIZE = 16 * MiB
const GOAL_MEMBERS = 16

/**
 * Bytes a check downloaded: the light client's own count when it keeps one (`SampleResult.bytes`), else
 * an estimate — every distinct index asked, each a shard and a proof of ceil(log2 n) hashes (exact for the
 * power-of-two n of the default shape), framing and protobuf overhead left out.
 */
function downloaded(result: SampleResult, header: BlobHeader): { bytes: number; estimated: boolean } {
  if ('bytes' in result && typeof result.bytes === 'number') return { bytes: result.bytes, estimated: false }
  const asked = result.distinctSuccesses + new Set(result.failures.map((f) => f.index)).size
  const proofBytes = Math.ceil(Math.log2(header.n)) * HASH_SIZE
  return { bytes: asked * (header.shardSize + proofBytes), estimated: true }
}

interface Check {
  ms: number
  result: SampleResult
}

async function check(client: LightClient, certificate: Certificate, signal: AbortSignal): Promise<Check> {
  const started = performance.now()
  const result = await client.sample(certificate, { signal })
  const ms = performance.now() - started
  if (!result.available) throw new Error(`the light client found blob ${result.blobId} unavailable`)
  return { ms, result }
}

/** A light client on a libp2p node of its own (no gossip, no DHT, as `dacnet sample` runs it), started now: nothing dialled, nothing known. */
export async function freshLightClient(
  committees: CommitteeSource,
): Promise<{ client: LightClient; stop(): Promise<void> }> {
  const libp2p = await createDacnetLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    dhtMode: 'off',
    listen: [],
    localNetwork: true,
    gossip: false,
  })
  await libp2p.start()
  return { client: new LightClient({ libp2p, committees }), stop: async () => libp2p.stop() }
}

export async function lightClientRows(
  cluster: BenchCluster,
  certificates: readonly Certificate[],
  warmRuns: number,
  coldRuns: number,
  signal: AbortSignal,
): Promise<BenchRow[]> {
  const header = certificates[0]!.header
  const size = header.dataSize
  const atGoal = size === GOAL_SIZE && cluster.size === GOAL_MEMBERS
  const what = `${sizeLabel(size)}, ${cluster.size} members`
  const common = { impl: implOf(cluster.kind), higherIsBetter: false }
  const client = cluster.roles.lightClient
  // Opens the light node's connections to the holders it asks: what a light client following the chain has.
  await check(client, certificates[0]!, signal)
  const warm: Check[] = []
  for (let i = 0; i < warmRuns; i++) warm.push(await check(client, certificates[i % certificates.length]!, signal))

  const cold: Check[] = []
  const startMs: number[] = []
  for (let i = 0; i < coldRuns; i++) {
    signal.throwIfAborted()
    const started = performance.now()
    const fresh = await freshLightClient(cluster.roles.committees)
    startMs.push(performance.now() - started)
    try {
      cold.push(await check(fresh.client, certificates[i % certificates.length]!, signal))
    } finally {
      await fresh.stop()
    }
  }

  const bytes = warm.map((w) => downloaded(w.result, header))
  const estimated = bytes.some((b) => b.estimated)
  const extra = (runs: Check[]) => ({
    min: round(Math.min(...runs.map((r) => r.ms))),
    max: round(Math.max(...runs.map((r) => r.ms))),
    samplesP50: median(runs.map((r) => r.result.samples)),
    distinctP50: median(runs.map((r) => r.result.distinctSuccesses)),
    blobs: Math.min(runs.length, certificates.length),
  })
  return [
    row(`light-client check, warm (connections open), ${what}`, median(warm.map((w) => w.ms)), 'ms', warm.length, {
      ...common,
      ...(atGoal ? { goal: WARM_GOAL_MS } : {}),
      extra: extra(warm),
    }),
    row(
      `light-client check, cold (fresh libp2p, dials included), ${what}`,
      median(cold.map((c) => c.ms)),
      'ms',
      cold.length,
      {
        ...common,
        ...(atGoal ? { goal: COLD_GOAL_MS } : {}),
        extra: { ...extra(cold), libp2pStartMsP50: round(median(startMs)) },
      },
    ),
    row(
      `light-client bytes downloaded per check, ${what}`,
      median(bytes.map((b) => b.bytes)) / KiB,
      'KiB',
      warm.length,
      {
        ...common,
        ...(atGoal ? { goal: BYTES_GOAL_KIB } : {}),
        extra: {
          estimated,
          ...(estimated
            ? { estimate: 'distinct indices asked x (shardSize + ceil(log2 n) x 32), framing left out' }
            : {}),
          shardSize: header.shardSize,
          n: header.n,
          k: header.k,
        },
      },
    ),
  ]
}

/** Retrieval of dispersed blobs, each checked byte for byte against what was dispersed. */
export async function retrievalRow(
  cluster: BenchCluster,
  dispersed: readonly Dispersed[],
  blobs: RandomBlobs,
  runs: number,
  signal: AbortSignal,
): Promise<BenchRow> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const j = i % dispersed.length
    const started = performance.now()
    const back = await cluster.roles.retriever.retrieve(dispersed[j]!.certificate, { signal })
    times.push(performance.now() - started)
    if (back.kind !== 'ok' || !Buffer.from(back.data).equals(blobs.blob(j))) {
      throw new Error(`retrieval of blob ${j} did not give back the bytes dispersed`)
    }
  }
  const size = blobs.size
  return row(`retrieval ${sizeLabel(size)}, ${cluster.size} members`, median(times), 'ms', times.length, {
    impl: implOf(cluster.kind),
    higherIsBetter: false,
    ...(size === GOAL_SIZE && cluster.size === GOAL_MEMBERS ? { goal: RETRIEVE_GOAL_MS } : {}),
    extra: { min: round(Math.min(...times)), max: round(Math.max(...times)), blobs: Math.min(runs, dispersed.length) },
  })
}
