import { assembleBlob, type EncodedBlob } from '../../src/erasure/encode.ts'
import { splitBlob } from '../../src/erasure/layout.ts'
import { buildMerkleTree } from '../../src/erasure/merkle.ts'
import { rsEncode } from '../../src/erasure/rs/index.ts'
import type { ShardWithProof } from '../../src/erasure/shard.ts'

/** A small deterministic PRNG (mulberry32) so that failures reproduce from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomData(size: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (rand() * 256) | 0
  return out
}

export function withProofs(blob: Pick<EncodedBlob, 'shards' | 'proofs'>): ShardWithProof[] {
  return blob.shards.map((data, index) => ({ index, data, proof: blob.proofs[index]! }))
}

/** Every size-`size` subset of 0..n-1, in lexicographic order. */
export function* subsets(n: number, size: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === size) {
    yield prefix
    return
  }
  for (let i = start; i <= n - (size - prefix.length); i++) yield* subsets(n, size, i + 1, [...prefix, i])
}

/**
 * What a malicious sequencer could commit to. `afterExtend` changes shards after the Reed–Solomon extension
 * and before the Merkle tree, so every shard has a valid proof but the set is not a codeword; `beforeExtend`
 * changes the originals first (e.g. non-zero padding), which gives a codeword that breaks the blob layout.
 */
export function inconsistentBlob(
  data: Uint8Array,
  params: { networkId: number; epoch: number; k: number; n: number },
  tamper: { afterExtend?: (shards: Uint8Array[]) => void; beforeExtend?: (originals: Uint8Array[]) => void },
): EncodedBlob {
  const originals: Uint8Array[] = splitBlob(data, params.k).map((s) => s.slice()) // tampering must not touch `data`
  tamper.beforeExtend?.(originals)
  const shards = originals.concat(rsEncode(originals, params.n - params.k)).map((s) => s.slice())
  tamper.afterExtend?.(shards)
  return assembleBlob(data.length, params, shards, buildMerkleTree(shards))
}
