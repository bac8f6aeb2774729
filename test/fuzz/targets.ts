/**
 * What dacnet reads from outside, as fuzz targets: the wire messages of every protocol (and the frame reader
 * under them), the blob header and id, the certificate in binary, JSON and on-chain form, BadEncoding evidence,
 * and the committee file. Seeds are the protocol's own vectors, so mutations start from inputs that decode.
 */
import { readFileSync } from 'node:fs'
import type { Stream } from '@libp2p/interface'
import { certificateFromJson, decodeCertificate } from '../../src/attest/certificate-codec.ts'
import { blsKeyVerifier } from '../../src/attest/pop.ts'
import { decodeOnchainCertificate } from '../../src/chain/onchain-certificate.ts'
import { parseCommitteeFile } from '../../src/committee/file.ts'
import { parseBlobId } from '../../src/erasure/blob-id.ts'
import { checkShard, decodeBlob, verifyBadEncoding } from '../../src/erasure/decode.ts'
import { decodeEvidence, encodeEvidence } from '../../src/erasure/evidence.ts'
import { decodeHeader } from '../../src/erasure/header.ts'
import { DacnetError } from '../../src/errors.ts'
import { FrameReader } from '../../src/p2p/framing.ts'
import { MAX_QUERY_REQUEST_BYTES, MAX_STORE_REQUEST_BYTES, replyFrameLimit } from '../../src/p2p/limits.ts'
import { Reply, ReplyKind, Shard, StoreRequest, StoreResponse } from '../../src/p2p/pb/dacnet.js'
import { decodeSampleRequest } from '../../src/p2p/sample.ts'
import { decodeReplyFrame, decodeShardFrame } from '../../src/p2p/shard-frame.ts'
import { decodeFrame } from '../../src/p2p/wire.ts'
import { inconsistentBlob, prng, randomData, withProofs } from '../erasure/helpers.ts'
import type { FuzzTarget } from './fuzz.ts'

const root = new URL('../../', import.meta.url)
const json = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'))
const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/^0x/, ''), 'hex'))
const utf8 = (text: string) => new TextEncoder().encode(text)

const attestVectors = json('test/attest/fixtures/vectors.json')
const committeeVectors = json('test/committee/fixtures/vectors.json')
const erasureVectors = json('test/vectors/erasure.json')
const onchainVector = json('test/chain/fixtures/onchain-vector.json')

const certificateBytes = fromHex(attestVectors.certificate.binary)
const headerSeeds: Uint8Array[] = erasureVectors.blobs.map((b: { header: string }) => fromHex(b.header))
const blobIdSeeds = erasureVectors.blobs.map((b: { blobId: string }) => parseBlobId(b.blobId).bytes)

/** A shard with its proof, as the vectors give it, and the header it belongs to. */
const vectorBlob = erasureVectors.blobs[0]
const vectorHeader = decodeHeader(fromHex(vectorBlob.header))
const shardSeed = Shard.encode({
  index: 0,
  data: fromHex(vectorBlob.shards[0]),
  proof: fromHex(vectorBlob.proofs[0]),
})

/** Evidence of an inconsistent encoding (one recovery shard tampered after the extension), which verifies. */
function evidenceSeed(): Uint8Array {
  const bad = inconsistentBlob(
    randomData(900, prng(5)),
    { networkId: 1, epoch: 0, k: 3, n: 7 },
    {
      afterExtend: (shards) => {
        shards[5]![17]! ^= 0x5a
      },
    },
  )
  const result = decodeBlob(bad.header, withProofs(bad).slice(2, 5))
  if (result.kind !== 'bad-encoding') throw new Error('the evidence seed must be a bad encoding')
  return encodeEvidence(bad.header, result.evidence)
}

/** A stream of bytes as the frame reader sees one: the input arrives in pieces, then the sender closes. */
class ByteStream extends EventTarget {
  readableEnded = false
  remoteWriteStatus = 'writable'
  readStatus = 'readable'
  resume(): void {
    this.readStatus = 'readable'
  }
  pause(): void {
    this.readStatus = 'paused'
  }
  deliver(pieces: Uint8Array[]): void {
    for (const data of pieces) this.dispatchEvent(Object.assign(new Event('message'), { data }))
    this.remoteWriteStatus = 'closed'
    this.dispatchEvent(new Event('remoteCloseWrite'))
  }
}

/** Input bytes cut into pieces at offsets the input itself chooses (its first byte), as a network would. */
function pieces(input: Uint8Array): Uint8Array[] {
  const step = 1 + ((input[0] ?? 0) % 17)
  const out: Uint8Array[] = []
  for (let at = 0; at < input.length; at += step) out.push(input.subarray(at, at + step))
  return out
}

/** Frames with their varint length prefix, as a peer would send them. */
function framed(...frames: Uint8Array[]): Uint8Array {
  const parts = frames.flatMap((f) => {
    const prefix: number[] = []
    let n = f.length
    do {
      prefix.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0))
      n >>>= 7
    } while (n > 0)
    return [new Uint8Array(prefix), f]
  })
  return new Uint8Array(Buffer.concat(parts))
}

export function fuzzTargets(): FuzzTarget[] {
  return [
    {
      name: 'blob header',
      seeds: headerSeeds,
      run: (input) => void decodeHeader(input),
    },
    {
      name: 'blob id',
      seeds: blobIdSeeds,
      run: (input) => void parseBlobId(input),
    },
    {
      name: 'certificate (binary)',
      seeds: [certificateBytes],
      run: (input) => void decodeCertificate(input),
    },
    {
      name: 'certificate (JSON)',
      seeds: [utf8(JSON.stringify(attestVectors.certificate.json))],
      run: (input) => void certificateFromJson(new TextDecoder().decode(input)),
    },
    {
      name: 'certificate (on-chain form)',
      seeds: [fromHex(onchainVector.onchain)],
      run: (input) => void decodeOnchainCertificate(input),
    },
    {
      name: 'BadEncoding evidence',
      seeds: [evidenceSeed()],
      // Decoding, then the verification a contract or a second retriever runs on what decoded.
      run: (input) => {
        const { header, evidence } = decodeEvidence(input)
        verifyBadEncoding(header, evidence)
      },
    },
    {
      name: 'committee file',
      seeds: [utf8(JSON.stringify(committeeVectors.committeeFile))],
      run: (input) => void parseCommitteeFile(new TextDecoder().decode(input), { verifier: blsKeyVerifier }),
    },
    {
      name: 'sample request',
      seeds: [
        utf8(''),
        new Uint8Array([0x0a, 0x24, ...blobIdSeeds[0]!, 0x10, 0x01, 0x10, 0x02]),
        new Uint8Array([0x0a, 0x24, ...blobIdSeeds[0]!, 0x12, 0x03, 0x01, 0x02, 0x03]),
      ],
      maxBytes: MAX_QUERY_REQUEST_BYTES,
      run: (input) => {
        const request = decodeSampleRequest(input)
        parseBlobId(request.blobId)
      },
    },
    {
      name: 'store request and response',
      seeds: [
        StoreRequest.encode({ header: headerSeeds[0]!, shardCount: 3 }),
        StoreResponse.encode({ errorCode: '', errorMessage: '', signature: new Uint8Array(96).fill(7) }),
      ],
      maxBytes: MAX_STORE_REQUEST_BYTES * 4,
      run: (input) => {
        const request = decodeFrame(StoreRequest, input, 'store request')
        decodeHeader(request.header)
        decodeFrame(StoreResponse, input, 'store response')
      },
    },
    {
      name: 'shard frame',
      seeds: [shardSeed],
      run: (input) => {
        const shard = decodeShardFrame(input)
        const problem = checkShard(vectorHeader, { index: shard.index, data: shard.data, proof: shard.proof })
        if (problem) throw new DacnetError(problem.code, problem.reason)
      },
    },
    {
      name: 'reply frame',
      seeds: [
        Reply.encode({
          kind: ReplyKind.SHARD,
          shard: { index: 0, data: new Uint8Array(8), proof: new Uint8Array(32) },
        }),
        Reply.encode({ kind: ReplyKind.HEADER, header: headerSeeds[0]!, count: 4 }),
        Reply.encode({ kind: ReplyKind.ERROR, errorCode: 'NODE_BUSY', errorMessage: 'busy' }),
      ],
      run: (input) => void decodeReplyFrame(input),
    },
    {
      name: 'frame stream',
      seeds: [framed(shardSeed, shardSeed), framed(utf8('x'), new Uint8Array(0)), new Uint8Array([0x81, 0x00, 0x01])],
      maxBytes: 4096,
      // Frames until the stream ends, each bounded by a reply's limit for the vector shard size.
      run: async (input) => {
        const stream = new ByteStream()
        const reader = new FrameReader(stream as unknown as Stream, { highWater: 512 })
        stream.deliver(pieces(input))
        try {
          while ((await reader.next(replyFrameLimit(vectorHeader.shardSize))) !== null) {}
        } finally {
          reader.release()
        }
      },
    },
  ]
}
