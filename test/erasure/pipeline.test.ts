import { describe, expect, it } from 'vitest'
import { checkBadEncoding, decodeBlob, verifyBadEncoding } from '../../src/erasure/decode.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { ErasureErrorCode } from '../../src/erasure/errors.ts'
import { decodeEvidence, encodeEvidence } from '../../src/erasure/evidence.ts'
import { HEADER_VERSION } from '../../src/erasure/header.ts'
import { HASH_SIZE, leafHash, proofLength, rootFromProof } from '../../src/erasure/merkle.ts'
import { inconsistentBlob, prng, randomData, subsets, withProofs } from './helpers.ts'

const params = { networkId: 7, epoch: 3, k: 3, n: 7 }

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('encodeBlob / decodeBlob', () => {
  it('gives back the exact bytes from every choice of k shards', () => {
    const data = randomData(1000, prng(1))
    const blob = encodeBlob(data, params)
    expect(blob.shards).toHaveLength(7)
    expect(blob.header.shardSize).toBe(384)
    const all = withProofs(blob)
    let count = 0
    for (const chosen of subsets(7, 3)) {
      const result = decodeBlob(
        blob.header,
        chosen.map((i) => all[i]!),
      )
      expect(result.kind, `subset ${chosen}`).toBe('ok')
      if (result.kind === 'ok') expect(Buffer.from(result.data).equals(Buffer.from(data))).toBe(true)
      count++
    }
    expect(count).toBe(35)
  })

  it('works for larger random shapes, including k = 1 and empty blobs', () => {
    const rand = prng(2)
    for (const [size, k, n] of [
      [0, 1, 2],
      [1, 1, 5],
      [5000, 10, 11],
      [70_000, 16, 50],
      [100_000, 100, 300],
    ] as const) {
      const data = randomData(size, rand)
      const blob = encodeBlob(data, { networkId: 1, epoch: 0, k, n })
      const shuffled = withProofs(blob).sort(() => rand() - 0.5)
      const result = decodeBlob(blob.header, shuffled.slice(0, k))
      expect(result.kind).toBe('ok')
      if (result.kind === 'ok') expect(Buffer.from(result.data).equals(Buffer.from(data))).toBe(true)
    }
  })

  it('prefers original shards and sets aside shards with a bad proof or size', () => {
    const data = randomData(3000, prng(3))
    const blob = encodeBlob(data, params)
    const all = withProofs(blob)
    const badProof = { ...all[0]!, data: all[0]!.data.slice() }
    badProof.data[5]! ^= 0xff
    const wrongSize = { ...all[1]!, data: all[1]!.data.subarray(0, 64) }
    const result = decodeBlob(blob.header, [badProof, wrongSize, all[2]!, all[6]!, all[4]!, all[5]!])
    expect(result.kind).toBe('ok')
    if (result.kind !== 'ok') return
    expect(result.used).toEqual([2, 4, 5])
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
      [0, ErasureErrorCode.INVALID_PROOF],
      [1, ErasureErrorCode.INVALID_SHARD],
    ])
    expect(Buffer.from(result.data).equals(Buffer.from(data))).toBe(true)
  })

  it('refuses fewer than k valid shards, oversized blobs and bad parameters with their codes', () => {
    const blob = encodeBlob(randomData(500, prng(4)), params)
    const all = withProofs(blob)
    expect(codeOf(() => decodeBlob(blob.header, all.slice(0, 2)))).toBe(ErasureErrorCode.NOT_ENOUGH_SHARDS)
    expect(codeOf(() => decodeBlob(blob.header, [all[0]!, all[0]!, all[1]!]))).toBe(ErasureErrorCode.NOT_ENOUGH_SHARDS)
    expect(codeOf(() => encodeBlob(new Uint8Array(2000), { ...params, maxBlobSize: 1999 }))).toBe(
      ErasureErrorCode.BLOB_TOO_LARGE,
    )
    for (const bad of [
      { k: 0, n: 4 },
      { k: 4, n: 4 },
      { k: 2, n: 65537 },
      { k: 1.5, n: 4 },
    ]) {
      expect(
        codeOf(() => encodeBlob(new Uint8Array(10), { ...params, ...bad })),
        JSON.stringify(bad),
      ).toBe(ErasureErrorCode.INVALID_PARAMS)
    }
  })
})

describe('BadEncoding', () => {
  const data = randomData(900, prng(5))

  it('every choice of k valid shards of an inconsistent encoding reaches the same verdict, and its evidence verifies', () => {
    // One recovery shard is not the Reed–Solomon extension of the originals, but it has a valid proof.
    const bad = inconsistentBlob(data, params, {
      afterExtend: (shards) => {
        shards[5]![17]! ^= 0x5a
      },
    })
    const all = withProofs(bad)
    for (const chosen of subsets(7, 3)) {
      const result = decodeBlob(
        bad.header,
        chosen.map((i) => all[i]!),
      )
      expect(result.kind, `subset ${chosen}`).toBe('bad-encoding')
      if (result.kind !== 'bad-encoding') continue
      expect(result.reason).toBe('root-mismatch')
      expect(result.evidence.shards.map((s) => s.index)).toEqual(chosen)
      expect(verifyBadEncoding(bad.header, result.evidence)).toBe(true)
      const wire = decodeEvidence(encodeEvidence(bad.header, result.evidence))
      expect(wire.header).toEqual(bad.header)
      expect(verifyBadEncoding(wire.header, wire.evidence)).toBe(true)
    }
  })

  it('finds the bad shard among more than k offered even when the k it decodes from are good', () => {
    // The decoder uses the k lowest indices (0, 1, 2): their re-encoding differs from the commitment only at
    // shard 5, which it also checked. Every leaf outside the k decoded from must be hashed from the re-encoding.
    const bad = inconsistentBlob(data, params, {
      afterExtend: (shards) => {
        shards[5]![17]! ^= 0x5a
      },
    })
    const result = decodeBlob(bad.header, withProofs(bad))
    expect(result.kind).toBe('bad-encoding')
    if (result.kind !== 'bad-encoding') return
    expect(result.reason).toBe('root-mismatch')
    expect(result.evidence.shards.map((s) => s.index)).toEqual([0, 1, 2])
    expect(verifyBadEncoding(bad.header, result.evidence)).toBe(true)
  })

  it('a codeword whose padding is not zero is a bad encoding too', () => {
    // The last byte of the last original lies past dataSize, where an honest encoder leaves zero.
    const bad = inconsistentBlob(data, params, {
      beforeExtend: (originals) => {
        originals[2]![originals[2]!.length - 1] = 1
      },
    })
    const all = withProofs(bad)
    for (const chosen of subsets(7, 3)) {
      const result = decodeBlob(
        bad.header,
        chosen.map((i) => all[i]!),
      )
      expect(result.kind === 'bad-encoding' && result.reason, `subset ${chosen}`).toBe('nonzero-padding')
      if (result.kind === 'bad-encoding') expect(verifyBadEncoding(bad.header, result.evidence)).toBe(true)
    }
  })

  it('evidence from a good encoding, with a bad proof, or of the wrong size does not verify', () => {
    const good = encodeBlob(data, params)
    const goodShards = withProofs(good).slice(1, 4)
    expect(verifyBadEncoding(good.header, { shards: goodShards })).toBe(false)
    expect(codeOf(() => checkBadEncoding(good.header, { shards: goodShards }))).toBe(ErasureErrorCode.INVALID_EVIDENCE)

    const bad = inconsistentBlob(data, params, {
      afterExtend: (shards) => {
        shards[6]![0]! ^= 1
      },
    })
    const result = decodeBlob(bad.header, withProofs(bad).slice(4))
    expect(result.kind).toBe('bad-encoding')
    if (result.kind !== 'bad-encoding') return
    const shards = result.evidence.shards
    expect(verifyBadEncoding(bad.header, { shards: shards.slice(0, 2) })).toBe(false)
    expect(verifyBadEncoding(bad.header, { shards: [shards[0]!, shards[0]!, shards[1]!] })).toBe(false)
    const tampered = shards.map((s) => ({ ...s, proof: s.proof.slice() }))
    tampered[1]!.proof[0]! ^= 1
    expect(verifyBadEncoding(bad.header, { shards: tampered })).toBe(false)
  })

  it('refuses malformed serialized evidence with ERASURE_INVALID_EVIDENCE', () => {
    const bad = inconsistentBlob(data, params, {
      afterExtend: (shards) => {
        shards[3]![0]! ^= 1
      },
    })
    const result = decodeBlob(bad.header, withProofs(bad).slice(0, 3))
    if (result.kind !== 'bad-encoding') throw new Error('expected bad encoding')
    const wire = encodeEvidence(bad.header, result.evidence)
    expect(codeOf(() => decodeEvidence(wire.subarray(0, wire.length - 1)))).toBe(ErasureErrorCode.INVALID_EVIDENCE)
    const longer = new Uint8Array(wire.length + 1)
    longer.set(wire)
    expect(codeOf(() => decodeEvidence(longer))).toBe(ErasureErrorCode.INVALID_EVIDENCE)
    const otherVersion = wire.slice()
    otherVersion[0] = 9
    expect(codeOf(() => decodeEvidence(otherVersion))).toBe(ErasureErrorCode.INVALID_EVIDENCE)
    // A header that does not decode (a header version no one knows) makes the evidence invalid, not the header.
    const wrongHeader = wire.slice()
    wrongHeader[1] = 0xee
    expect(codeOf(() => decodeEvidence(wrongHeader))).toBe(ErasureErrorCode.INVALID_EVIDENCE)
    expect(codeOf(() => decodeEvidence(undefined as unknown as Uint8Array))).toBe(ErasureErrorCode.INVALID_EVIDENCE)
    expect(codeOf(() => checkBadEncoding(bad.header, { shards: [null, null, null] as never }))).toBe(
      ErasureErrorCode.INVALID_EVIDENCE,
    )
  })

  it('refuses evidence whose own header asks for a huge codeword, before any hashing or decoding', () => {
    // k = 1, n = 65536: one 8 KiB shard whose proof is 16 made-up siblings, the root computed from them. Checking
    // it would re-encode 65,535 shards of 8 KiB (512 MiB): the evidence names its own header, so nothing else stops it.
    const rand = prng(77)
    const data = randomData(8192, rand)
    const proof = randomData(proofLength(0, 65536) * HASH_SIZE, rand)
    const root = rootFromProof(leafHash(data), 0, 65536, proof)!
    const header = {
      version: HEADER_VERSION,
      networkId: 1,
      epoch: 0,
      dataSize: 8192,
      k: 1,
      n: 65536,
      shardSize: 8192,
      root,
    }
    const evidence = { shards: [{ index: 0, data, proof }] }
    let start = performance.now()
    expect(codeOf(() => checkBadEncoding(header, evidence))).toBe(ErasureErrorCode.INVALID_EVIDENCE)
    expect(verifyBadEncoding(header, evidence)).toBe(false)
    expect(performance.now() - start).toBeLessThan(100)
    // A checker that takes larger blobs sets its own limit; a blob above it is refused the same way.
    expect(codeOf(() => checkBadEncoding(header, evidence, { maxBlobSize: 4096 }))).toBe(
      ErasureErrorCode.INVALID_EVIDENCE,
    )
    // Decoding the same shard under that header would re-encode the same codeword: refused alike, as a header no
    // blob this decoder takes has; a blob above the decoder's maximum is too large.
    start = performance.now()
    expect(codeOf(() => decodeBlob(header, evidence.shards))).toBe(ErasureErrorCode.HEADER_INVALID)
    expect(performance.now() - start).toBeLessThan(100)
    expect(codeOf(() => decodeBlob(header, evidence.shards, { maxBlobSize: 4096 }))).toBe(
      ErasureErrorCode.BLOB_TOO_LARGE,
    )
  })
})
