/** Worker-thread fixture: encodes the shards it is sent and posts the recovery shards back. */
import { parentPort } from 'node:worker_threads'
import { rsEncode } from '../../../src/erasure/rs/index.ts'

parentPort!.on('message', (msg: { original: Uint8Array[]; recoveryCount: number }) => {
  parentPort!.postMessage(rsEncode(msg.original, msg.recoveryCount))
})
