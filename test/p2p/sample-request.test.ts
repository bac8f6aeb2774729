import * as varint from 'uint8-varint'
import { describe, expect, it } from 'vitest'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import { MAX_SAMPLE_INDICES } from '../../src/p2p/limits.ts'
import { SampleRequest } from '../../src/p2p/pb/dacnet.js'
import { decodeSampleRequest } from '../../src/p2p/sample.ts'

/**
 * SampleRequest bytes written by hand: `repeated uint32 indices = 2` unpacked (tag 0x10 before every index, as
 * dacnet encodes it) and packed (tag 0x12, a length, then the varints: a proto3 encoder's default).
 */

const blobId = encodeBlob(new Uint8Array(10), { networkId: 5, epoch: 1, k: 4, n: 12 }).blobId.bytes
const BLOB_ID = [0x0a, blobId.length, ...blobId]

const unpacked = (...indices: number[]) => indices.flatMap((i) => [0x10, ...varint.encode(i)])
function packed(...indices: number[]): number[] {
  const body = indices.flatMap((i) => [...varint.encode(i)])
  return [0x12, ...varint.encode(body.length), ...body]
}

const decode = (...bytes: number[]) => decodeSampleRequest(Uint8Array.from(bytes))

function refusal(bytes: number[]): string | undefined {
  try {
    decodeSampleRequest(Uint8Array.from(bytes))
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('SampleRequest.indices on the wire', () => {
  it('packed [16, 5] decodes as [16, 5], like its unpacked form (the generated decoder alone reads [2, 5])', () => {
    expect(packed(16, 5)).toEqual([0x12, 0x02, 0x10, 0x05])
    expect(decode(...BLOB_ID, ...packed(16, 5)).indices).toEqual([16, 5])
    expect(decode(...BLOB_ID, ...unpacked(16, 5)).indices).toEqual([16, 5])
    expect(decode(...BLOB_ID, ...packed(16, 5)).blobId).toEqual(blobId)
    // What dacnet itself sends is unpacked, and decodes to what was encoded.
    const ours = SampleRequest.encode({ blobId, indices: [16, 5] })
    expect([...ours]).toEqual([...BLOB_ID, ...unpacked(16, 5)])
    expect(decodeSampleRequest(ours)).toEqual({ blobId, indices: [16, 5] })
  })

  it('multi-byte varints, several runs in any mix, and fields in any order', () => {
    const big = [300, 0, 65_535, 65_536, 2 ** 32 - 1]
    expect(decode(...BLOB_ID, ...packed(...big)).indices).toEqual(big)
    // Repeated occurrences concatenate in order; an empty packed run adds nothing.
    const mixed = [...unpacked(1), ...packed(2, 3), ...unpacked(4), ...packed(), ...packed(5)]
    expect(decode(...mixed, ...BLOB_ID).indices).toEqual([1, 2, 3, 4, 5])
    // Unknown fields of every wire type are skipped, before and after a packed run.
    const unknown = [0x48, 0x96, 0x01, 0x55, 1, 2, 3, 4, 0x5a, 0x02, 0xaa, 0xbb, 0x61, 1, 2, 3, 4, 5, 6, 7, 8]
    expect(decode(...unknown, ...BLOB_ID, ...packed(9, 8), ...unknown).indices).toEqual([9, 8])
  })

  it('the limit of 64 indices counts packed and unpacked alike', () => {
    const indices = Array.from({ length: MAX_SAMPLE_INDICES }, (_, i) => i)
    expect(decode(...BLOB_ID, ...packed(...indices)).indices).toEqual(indices)
    expect(refusal([...BLOB_ID, ...packed(...indices, 64)])).toBe(P2pErrorCode.MALFORMED_MESSAGE)
    expect(refusal([...BLOB_ID, ...packed(...indices.slice(0, 40)), ...unpacked(...indices.slice(15))])).toBe(
      P2pErrorCode.MALFORMED_MESSAGE,
    )
  })

  it('a packed run that overruns the request or cuts an index, or a field of the wrong wire type, is refused', () => {
    const cases: [string, number[]][] = [
      ['run longer than the request', [...BLOB_ID, 0x12, 0x05, 0x07, 0x05]],
      ['index cut at the end of the request', [...BLOB_ID, 0x12, 0x01, 0x80]],
      ['index running past its run', [...BLOB_ID, 0x12, 0x01, 0x80, 0x01]],
      ['indices as fixed32', [...BLOB_ID, 0x15, 1, 0, 0, 0]],
      ['indices as fixed64', [...BLOB_ID, 0x11, 1, 0, 0, 0, 0, 0, 0, 0]],
      ['blob_id as a varint', [0x08, 0x01, ...unpacked(1)]],
      ['an invalid wire type', [...BLOB_ID, 0x17, ...unpacked(1)]],
    ]
    for (const [what, bytes] of cases) expect(refusal(bytes), what).toBe(P2pErrorCode.MALFORMED_MESSAGE)
  })
})
