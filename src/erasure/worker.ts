/**
 * Worker-thread entry of the ErasurePool: runs the CPU-bound erasure operations off the main thread.
 * Messages are plain data; results hand their big buffers back by transfer, not by copy.
 */
import { parentPort } from 'node:worker_threads'
import { DacnetError } from '../errors.ts'
import { extendColumns, finishDecode, hashLeaves, recoverInto } from './columns.ts'
import { checkBadEncoding, decodeBlob, decodeCheckedBlob, decodeUnchecked } from './decode.ts'
import { commitLeaves, encodeBlob } from './encode.ts'
import { ErasureErrorCode } from './errors.ts'
import type { WorkerRequest, WorkerResponse } from './worker-protocol.ts'
import { transferablesOf } from './worker-protocol.ts'

function run(request: WorkerRequest): { result: unknown; transfer: ArrayBuffer[] } {
  switch (request.op) {
    case 'encode': {
      const { header, headerBytes, shards, proofs } = encodeBlob(request.data, request.params)
      return { result: { header, headerBytes, shards, proofs }, transfer: transferablesOf([...shards, ...proofs]) }
    }
    case 'decode': {
      const result = decodeBlob(request.header, request.shards, request.opts)
      return { result, transfer: result.kind === 'ok' ? transferablesOf([result.data]) : [] }
    }
    case 'decodeChecked': {
      const result = decodeCheckedBlob(request.header, request.shards, request.leaves)
      return { result, transfer: result.kind === 'ok' ? transferablesOf([result.data]) : [] }
    }
    case 'decodeUnchecked': {
      const data = decodeUnchecked(request.header, request.shards)
      return { result: data, transfer: data === null ? [] : transferablesOf([data]) }
    }
    case 'checkBadEncoding':
      return { result: checkBadEncoding(request.header, request.evidence, request.opts), transfer: [] }
    case 'extendColumns':
      extendColumns(request.codeword, request.layout, request.from, request.to)
      return { result: null, transfer: [] }
    case 'hashLeaves':
      hashLeaves(request.codeword, request.layout, request.leaves, request.first, request.end, request.known)
      return { result: null, transfer: [] }
    case 'recoverInto':
      recoverInto(request.codeword, request.layout, request.shards, request.from, request.to)
      return { result: null, transfer: [] }
    case 'finishDecode': {
      const { codeword, layout, leaves, root, dataSize, into } = request
      const verdict = finishDecode(codeword, layout, leaves, root, dataSize, into)
      return { result: verdict, transfer: verdict.data === undefined ? [] : transferablesOf([verdict.data]) }
    }
    case 'prefault': {
      const buffer = prefaulted(request.bytes)
      return { result: buffer, transfer: [buffer] }
    }
    case 'commitLeaves': {
      const committed = commitLeaves(request.dataSize, request.params, request.leaves, request.arena)
      return { result: committed, transfer: transferablesOf(committed.proofs) }
    }
  }
}

const PAGE_BYTES = 4096

/** A zeroed buffer of `bytes` with every page written once, so that the kernel has mapped them all. */
function prefaulted(bytes: number): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes)
  const view = new Uint8Array(buffer)
  for (let at = 0; at < bytes; at += PAGE_BYTES) view[at] = 0
  return buffer
}

parentPort?.on('message', (request: WorkerRequest) => {
  let response: WorkerResponse
  let transfer: ArrayBuffer[] = []
  try {
    const done = run(request)
    response = { id: request.id, ok: true, result: done.result }
    transfer = done.transfer
  } catch (err) {
    const error =
      err instanceof DacnetError
        ? err.toObject()
        : { code: ErasureErrorCode.WORKER_FAILED, message: String((err as Error)?.message ?? err), meta: {} }
    response = { id: request.id, ok: false, error }
  }
  parentPort!.postMessage(response, transfer)
})
