import type { SerializedError } from '../errors.ts'
import type { CodewordLayout } from './columns.ts'
import type { BadEncodingEvidence, DecodeOptions, EvidenceCheckOptions } from './decode.ts'
import type { EncodeParams } from './encode.ts'
import type { BlobHeader } from './header.ts'
import type { ShardWithProof } from './shard.ts'

/** Messages between the ErasurePool and its workers. */
export type WorkerRequest =
  | { id: number; op: 'encode'; data: Uint8Array; params: EncodeParams }
  | { id: number; op: 'decode'; header: BlobHeader; shards: ShardWithProof[]; opts?: DecodeOptions }
  | { id: number; op: 'decodeChecked'; header: BlobHeader; shards: ShardWithProof[]; leaves: Uint8Array }
  | { id: number; op: 'decodeUnchecked'; header: BlobHeader; shards: ShardWithProof[] }
  | {
      id: number
      op: 'checkBadEncoding'
      header: BlobHeader
      evidence: BadEncodingEvidence
      opts?: EvidenceCheckOptions
    }
  /** Part of an encoding split between workers (src/erasure/columns.ts); `codeword` and `leaves` are shared memory. */
  | { id: number; op: 'extendColumns'; codeword: Uint8Array; layout: CodewordLayout; from: number; to: number }
  | {
      id: number
      op: 'hashLeaves'
      codeword: Uint8Array
      layout: CodewordLayout
      leaves: Uint8Array
      first: number
      end: number
      known?: Uint8Array
    }
  | {
      id: number
      op: 'commitLeaves'
      leaves: Uint8Array
      dataSize: number
      params: EncodeParams
      /** Memory of an earlier encoding's proofs, for these if it is large enough (every byte is written). */
      arena?: ArrayBuffer
    }
  | {
      id: number
      op: 'recoverInto'
      codeword: Uint8Array
      layout: CodewordLayout
      shards: ShardWithProof[]
      from?: number
      to?: number
    }
  | {
      id: number
      op: 'finishDecode'
      codeword: Uint8Array
      layout: CodewordLayout
      leaves: Uint8Array
      root: Uint8Array
      dataSize: number
      /** Memory for the blob, `dataSize` bytes, its pages already in (see `prefault`); fresh memory if absent. */
      into?: ArrayBuffer
    }
  | { id: number; op: 'prefault'; bytes: number }

export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError }

/** The distinct ArrayBuffers behind some views, to hand over by transfer instead of copying. */
export function transferablesOf(views: readonly Uint8Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>()
  for (const view of views) {
    if (view.buffer instanceof ArrayBuffer && view.buffer.byteLength > 0) buffers.add(view.buffer)
  }
  return [...buffers]
}
