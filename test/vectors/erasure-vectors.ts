/**
 * The erasure test vectors quoted in docs/PROTOCOL.md §1.7, computed from fixed inputs. `erasure.json` holds
 * the expected values; the test recomputes them, and `node test/vectors/erasure-vectors.ts` prints them.
 */
import { encodeBlob } from '../../src/erasure/encode.ts'
import { buildMerkleTree, merkleProof } from '../../src/erasure/merkle.ts'
import { rsEncode } from '../../src/erasure/rs/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Blob bytes counting up: byte i is i mod 251 (a prime, so shards never repeat each other). */
export function vectorBlob(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => i % 251)
}

export interface ErasureVector {
  name: string
  params: { networkId: number; epoch: number; k: number; n: number }
  dataSize: number
  header: string
  blobId: string
  root: string
  shards: string[]
  proofs: string[]
}

export function computeVectors(): ErasureVector[] {
  const cases = [
    { name: 'k=2 n=4, 100 bytes', size: 100, params: { networkId: 1, epoch: 0, k: 2, n: 4 } },
    { name: 'k=3 n=7, 200 bytes (n not a power of two)', size: 200, params: { networkId: 7, epoch: 3, k: 3, n: 7 } },
    { name: 'k=1 n=3, empty blob', size: 0, params: { networkId: 0xdac0_0001, epoch: 2 ** 40, k: 1, n: 3 } },
  ]
  return cases.map(({ name, size, params }) => {
    const blob = encodeBlob(vectorBlob(size), params)
    return {
      name,
      params,
      dataSize: size,
      header: hex(blob.headerBytes),
      blobId: blob.blobId.toString(),
      root: hex(blob.header.root),
      shards: blob.shards.map(hex),
      proofs: blob.proofs.map(hex),
    }
  })
}

export interface RsVector {
  k: number
  r: number
  /** Recovery shards, hex, indices k … k+r-1. */
  recovery: string[]
}

/** Reed–Solomon vectors (§1.1): 64-byte shards; original shard i, byte b is (64·i + b) mod 256. */
export function rsVectors(): RsVector[] {
  return [
    [2, 2],
    [3, 5],
    [5, 3],
  ].map(([k, r]) => {
    const originals = Array.from({ length: k! }, (_, i) =>
      Uint8Array.from({ length: 64 }, (_, b) => (64 * i + b) % 256),
    )
    return { k: k!, r: r!, recovery: rsEncode(originals, r!).map(hex) }
  })
}

/** Merkle-only vector: leaf i is the single byte i; roots for n = 1..5. */
export function merkleVectors(): { n: number; root: string; proofOfLast: string }[] {
  return [1, 2, 3, 4, 5].map((n) => {
    const leaves = Array.from({ length: n }, (_, i) => new Uint8Array([i]))
    const tree = buildMerkleTree(leaves)
    return { n, root: hex(tree.root), proofOfLast: hex(merkleProof(tree, n - 1)) }
  })
}

if (import.meta.main) {
  console.log(JSON.stringify({ reedSolomon: rsVectors(), blobs: computeVectors(), merkle: merkleVectors() }, null, 2))
}
