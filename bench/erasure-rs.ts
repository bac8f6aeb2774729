/**
 * Reed–Solomon codec throughput, dacnet's WebAssembly-SIMD codec side by side with the oracle
 * (`@typeberry/native`: reed-solomon-simd compiled to WebAssembly without SIMD) in the same process.
 * MB/s are of original data (16 MiB per run). The oracle takes shards of at most 65535 bytes, so where
 * the shards are longer it runs on 64-byte-aligned column stripes (the code acts on columns independently).
 *
 * Encode rows: `dacnet` returns fresh recovery shards, as `rsEncode(original, r)` does; `dacnet, into reused shards`
 * writes them into the same caller-owned shards run after run (`rsEncode(original, r, into)`), as dacnet's encoder
 * does (it extends a blob's codeword in place, src/erasure/columns.ts) and as reed-solomon-simd's own encoder does
 * (its recovery shards are borrowed from its reused work buffer). The difference is the cost of fresh memory: ~48
 * MiB of new pages a call at k=1024/n=4096.
 *
 * Decode pattern: every original is dropped; the decoder gets exactly k recovery shards, for k=1024/n=4096
 * a seeded random choice of 1024 of the 3072 (so they span nearly all of them), for k=64/n=128 all 64.
 *
 * `node bench/erasure-rs.ts` prints the rows as JSON lines.
 */
import { init, reedSolomon } from '@typeberry/native'
import { rsDecode, rsEncode } from '../src/erasure/rs/index.ts'
import { type BenchRow, type BenchSuite, mbPerSecond, median, timeRuns } from './lib.ts'

const MiB = 1024 * 1024
/** Original bytes per run, as the goals state. */
const DATA_BYTES = 16 * MiB
/** Largest oracle shard length: a multiple of 64 below 65536. */
const ORACLE_MAX_SHARD = 65536 - 64
/** Measured runs per row, after WARMUP unmeasured ones (the first calls pay JIT tier-up and first-touch page faults). */
const RUNS = 9
const WARMUP = 2

interface Case {
  k: number
  n: number
  encodeGoal: number
  decodeGoal?: number
}

const CASES: Case[] = [
  // Goals of issue 12 §5 (they were 200, 100 and 400 MB/s).
  { k: 1024, n: 4096, encodeGoal: 400, decodeGoal: 200 },
  { k: 64, n: 128, encodeGoal: 1500 },
]

/** Deterministic bytes (xorshift32), so every run of the benchmark codes the same data. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  const words = new Uint32Array(out.buffer, 0, length >> 2)
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x >>> 0
  }
  return out
}

/** `count` distinct values from 0..range-1, seeded (partial Fisher–Yates). */
function pickDistinct(range: number, count: number, seed: number): number[] {
  const all = Array.from({ length: range }, (_, i) => i)
  let x = seed >>> 0 || 1
  for (let i = 0; i < count; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const j = i + ((x >>> 0) % (range - i))
    ;[all[i], all[j]] = [all[j]!, all[i]!]
  }
  return all.slice(0, count).sort((a, b) => a - b)
}

/** Column stripes [offset, offset + length) of at most ORACLE_MAX_SHARD bytes, 64-byte aligned. */
function stripes(shardLength: number): [number, number][] {
  const count = Math.ceil(shardLength / ORACLE_MAX_SHARD)
  const step = Math.ceil(shardLength / count / 64) * 64
  const out: [number, number][] = []
  for (let offset = 0; offset < shardLength; offset += step) out.push([offset, Math.min(step, shardLength - offset)])
  return out
}

/** The given shards' stripe [offset, offset + length), concatenated as the oracle wants them. */
function gather(shards: Uint8Array[], offset: number, length: number): Uint8Array {
  const out = new Uint8Array(shards.length * length)
  for (const [i, s] of shards.entries()) out.set(s.subarray(offset, offset + length), i * length)
  return out
}

/** Slowest and fastest run in MB/s: the spread matters as much as the median on a shared machine. */
function spread(times: number[]): { min: number; max: number } {
  const round = (x: number) => Math.round(x * 10) / 10
  return {
    min: round(mbPerSecond(DATA_BYTES, Math.max(...times))),
    max: round(mbPerSecond(DATA_BYTES, Math.min(...times))),
  }
}

function row(name: string, impl: string, times: number[], goal?: number): BenchRow {
  return {
    suite: 'erasure',
    name,
    impl,
    median: mbPerSecond(DATA_BYTES, median(times)),
    unit: 'MB/s',
    runs: times.length,
    ...(goal === undefined ? {} : { goal, higherIsBetter: true }),
    ...(impl === 'oracle' ? { higherIsBetter: true } : {}),
    extra: spread(times),
  }
}

async function benchCase({ k, n, encodeGoal, decodeGoal }: Case): Promise<BenchRow[]> {
  const { ShardsCollection, encode, decode } = reedSolomon
  const r = n - k
  const shardLength = DATA_BYTES / k
  const data = pseudoRandomBytes(DATA_BYTES, k)
  const original = Array.from({ length: k }, (_, i) => data.subarray(i * shardLength, (i + 1) * shardLength))
  const parts = stripes(shardLength)
  const label = `k=${k} n=${n} 16MiB`

  // Encode. Oracle inputs are laid out before timing; its copies in and out of wasm are timed.
  const oracleInputs = parts.map(([offset, length]) => gather(original, offset, length))
  const oracleEncode = () =>
    parts.map(([, length], s) => encode(r, new ShardsCollection(length, oracleInputs[s]!)).take_data())
  const oursEncode = await timeRuns(() => rsEncode(original, r), RUNS, WARMUP)
  const slab = new Uint8Array(r * shardLength)
  const into = Array.from({ length: r }, (_, j) => slab.subarray(j * shardLength, (j + 1) * shardLength))
  const oursEncodeInto = await timeRuns(() => rsEncode(original, r, into), RUNS, WARMUP)
  const theirsEncode = await timeRuns(oracleEncode, RUNS, WARMUP)

  // Decode from k recovery shards, all originals missing.
  const recovery = rsEncode(original, r)
  if (!recovery.every((s, j) => Buffer.compare(s, into[j]!) === 0)) throw new Error(`encode into mismatch for ${label}`)
  const chosen = pickDistinct(r, k, 7 * k + 1)
  const shards = new Map<number, Uint8Array>(chosen.map((j) => [k + j, recovery[j]!]))
  const indices = Uint16Array.from(chosen, (j) => k + j)
  const chosenShards = chosen.map((j) => recovery[j]!)
  const oracleDecodeInputs = parts.map(([offset, length]) => gather(chosenShards, offset, length))
  const oracleDecode = () =>
    parts.map(([, length], s) =>
      decode(k, r, new ShardsCollection(length, oracleDecodeInputs[s]!, indices.slice())).take_data(),
    )
  const check = rsDecode(k, r, shards)
  if (!check.every((s, i) => Buffer.compare(s, original[i]!) === 0)) throw new Error(`decode mismatch for ${label}`)
  const oursDecode = await timeRuns(() => rsDecode(k, r, shards), RUNS, WARMUP)
  const theirsDecode = await timeRuns(oracleDecode, RUNS, WARMUP)

  const pattern = { pattern: `no originals; ${k} of the ${r} recovery shards` }
  const decodeRow = (impl: string, times: number[], goal?: number): BenchRow => {
    const base = row(`decode ${label}`, impl, times, goal)
    return { ...base, extra: { ...base.extra, ...pattern } }
  }
  return [
    row(`encode ${label}`, 'dacnet', oursEncode, encodeGoal),
    row(`encode ${label}`, 'dacnet, into reused shards', oursEncodeInto, encodeGoal),
    row(`encode ${label}`, 'oracle', theirsEncode),
    decodeRow('dacnet', oursDecode, decodeGoal),
    decodeRow('oracle', theirsDecode),
  ]
}

export const rsBench: BenchSuite = async () => {
  await init.reedSolomon()
  const rows: BenchRow[] = []
  for (const c of CASES) rows.push(...(await benchCase(c)))
  return rows
}

if (import.meta.main) {
  for (const r of await rsBench()) console.log(JSON.stringify(r))
}
