/**
 * The oracle: reed-solomon-simd compiled to WebAssembly, from `@typeberry/native`. Test-only. It takes
 * shards of a multiple of 64 bytes below 65536, all in one buffer; decode returns only the restored
 * originals, with their indices.
 */
import { init, reedSolomon } from '@typeberry/native'

/** Longest shard the oracle accepts: a multiple of 64 below 65536. */
export const ORACLE_MAX_SHARD = 65536 - 64

let ready: Promise<void> | undefined

export function initOracle(): Promise<void> {
  ready ??= init.reedSolomon().then(() => undefined)
  return ready
}

function concat(shards: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(shards.length * length)
  for (const [i, s] of shards.entries()) out.set(s, i * length)
  return out
}

function split(data: Uint8Array, length: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < data.length / length; i++) out.push(data.slice(i * length, (i + 1) * length))
  return out
}

/** The oracle's recovery shards for `original`. */
export function oracleEncode(original: Uint8Array[], recoveryCount: number): Uint8Array[] {
  const length = original[0]!.length
  const { ShardsCollection, encode } = reedSolomon
  return split(encode(recoveryCount, new ShardsCollection(length, concat(original, length))).take_data(), length)
}

/** The oracle's decode: all k originals from the given shards (0..k-1 original, k.. recovery). */
export function oracleDecode(k: number, recoveryCount: number, shards: Map<number, Uint8Array>): Uint8Array[] {
  const entries = [...shards].sort((a, b) => a[0] - b[0])
  const length = entries[0]![1].length
  const { ShardsCollection, decode } = reedSolomon
  const input = new ShardsCollection(
    length,
    concat(
      entries.map(([, s]) => s),
      length,
    ),
    Uint16Array.from(entries.map(([i]) => i)),
  )
  const out = decode(k, recoveryCount, input)
  const indices = out.take_indices() ?? new Uint16Array(0)
  const restored = split(out.take_data(), length)
  const result: Uint8Array[] = []
  for (let i = 0; i < k; i++) {
    const given = shards.get(i)
    if (given) result[i] = given
  }
  indices.forEach((index, j) => {
    result[index] = restored[j]!
  })
  return result
}
