import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decodeBlob } from '../../src/erasure/decode.ts'
import { decodeHeader } from '../../src/erasure/header.ts'
import { verifyMerkleProof } from '../../src/erasure/merkle.ts'
import { computeVectors, merkleVectors, rsVectors, vectorBlob } from './erasure-vectors.ts'

const expected = JSON.parse(readFileSync(new URL('./erasure.json', import.meta.url), 'utf8'))
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))

describe('erasure test vectors (docs/PROTOCOL.md §1.1, §1.7)', () => {
  it('recomputes the Reed–Solomon vectors, and the protocol document quotes exactly them', () => {
    expect(rsVectors()).toEqual(expected.reedSolomon)
    const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')
    const quoted = [...doc.matchAll(/^recovery (\d+) \(index (\d+)\): ([0-9a-f]+)$/gm)]
    const published = expected.reedSolomon.flatMap((v: { k: number; recovery: string[] }) =>
      v.recovery.map((hex, j) => [String(j), String(v.k + j), hex]),
    )
    expect(quoted.map((m) => [m[1], m[2], m[3]])).toEqual(published)
  })

  it('recomputes every blob vector: shards, root, header, blob id, proofs', () => {
    expect(computeVectors()).toEqual(expected.blobs)
    expect(merkleVectors()).toEqual(expected.merkle)
  })

  it('the published values are self-consistent: proofs verify and any k shards decode to the blob', () => {
    for (const v of expected.blobs) {
      const header = decodeHeader(bytes(v.header))
      v.shards.forEach((shard: string, i: number) => {
        expect(verifyMerkleProof(header.root, i, header.n, bytes(shard), bytes(v.proofs[i]))).toBe(true)
      })
      const last = v.shards.map((s: string, index: number) => ({
        index,
        data: bytes(s),
        proof: bytes(v.proofs[index]),
      }))
      const result = decodeBlob(header, last.slice(header.n - header.k))
      expect(result.kind).toBe('ok')
      if (result.kind === 'ok') expect(result.data).toEqual(vectorBlob(v.dataSize))
    }
  })
})
