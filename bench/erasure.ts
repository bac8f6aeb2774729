import { randomBytes } from 'node:crypto'
import { encodeBlob } from '../src/erasure/encode.ts'
import { buildMerkleTree } from '../src/erasure/merkle.ts'
import { rsBench } from './erasure-rs.ts'
import { type BenchRow, type BenchSuite, median, timeRuns } from './lib.ts'

const MiB = 1024 * 1024

/** Merkle build over 16 MiB of shards, at the two shard counts of the Reed–Solomon goals. */
async function merkleRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  for (const count of [1024, 4096]) {
    const shardSize = (16 * MiB) / count
    const all = new Uint8Array(randomBytes(16 * MiB))
    const shards = Array.from({ length: count }, (_, i) => all.subarray(i * shardSize, (i + 1) * shardSize))
    const times = await timeRuns(() => buildMerkleTree(shards), 9, 2)
    rows.push({
      suite: 'erasure',
      name: `merkle build 16MiB in ${count} shards`,
      impl: 'dacnet',
      median: median(times),
      unit: 'ms',
      runs: times.length,
      higherIsBetter: false,
    })
  }
  return rows
}

/** The whole pipeline (split, extend, commit, proofs, header) for one 16 MiB blob. */
async function pipelineRows(): Promise<BenchRow[]> {
  const data = new Uint8Array(randomBytes(16 * MiB))
  const rows: BenchRow[] = []
  for (const [k, n] of [
    [1024, 4096],
    [64, 128],
  ] as const) {
    const times = await timeRuns(() => encodeBlob(data, { networkId: 1, epoch: 0, k, n }), 5, 1)
    rows.push({
      suite: 'erasure',
      name: `encodeBlob k=${k} n=${n} 16MiB (RS + Merkle + proofs)`,
      impl: 'dacnet',
      median: data.length / 1e6 / (median(times) / 1e3),
      unit: 'MB/s',
      runs: times.length,
      higherIsBetter: true,
    })
  }
  return rows
}

export const erasureBench: BenchSuite = async () => [
  ...(await rsBench()),
  ...(await merkleRows()),
  ...(await pipelineRows()),
]

if (import.meta.main) {
  for (const row of await erasureBench()) console.log(JSON.stringify(row))
}
