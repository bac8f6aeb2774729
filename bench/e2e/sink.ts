/**
 * The transfer part of the dispersal breakdown: what dacnet's libp2p stack (TCP on loopback, noise, yamux, the
 * store protocol's length-prefixed frames sent in ~60 KiB batches, and its high-water marks) carries between two
 * processes, with nothing done to the bytes at either end. A sink process reads every frame of each stream and answers with one small
 * frame, as a member answers a store with its signature; the sender sends each member's share on a stream of
 * its own, all at once, as the disperser does.
 *
 * Run as a process of its own by `startSink`; it tells its address over IPC and stops when the channel closes.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { FrameBatch, FrameReader, writeFrame } from '../../src/p2p/framing.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../src/p2p/node.ts'
import { trackProcess } from './cleanup.ts'

const SINK_PROTOCOL = '/dacnet-bench/sink/1.0.0'
/** Largest frame the sink reads: a shard of a 32 MiB blob at the smallest k of any committee, with its proof. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024
/** The sink's answer: the byte count it read, as 8 bytes. */
const REPLY_BYTES = 8
/** Streams the sink takes at once from one sender: one per member of the largest committee, and more. */
const MAX_STREAMS = 256
const SINK_START_TIMEOUT_MS = 30_000

async function newLibp2p(listen: string[]): Promise<DacnetLibp2p> {
  const libp2p = await createDacnetLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    dhtMode: 'client',
    listen,
    localNetwork: true,
  })
  await libp2p.start()
  return libp2p
}

async function runSink(): Promise<void> {
  const libp2p = await newLibp2p(['/ip4/127.0.0.1/tcp/0'])
  await libp2p.handle(
    SINK_PROTOCOL,
    async (stream) => {
      const reader = new FrameReader(stream)
      try {
        let bytes = 0
        for (let frame = await reader.next(MAX_FRAME_BYTES); frame !== null; frame = await reader.next(MAX_FRAME_BYTES))
          bytes += frame.byteLength
        reader.release()
        const reply = new Uint8Array(REPLY_BYTES)
        new DataView(reply.buffer).setBigUint64(0, BigInt(bytes))
        await writeFrame(stream, reply)
        await stream.close()
      } catch (err) {
        reader.release()
        stream.abort(err as Error)
      }
    },
    { maxInboundStreams: MAX_STREAMS },
  )
  process.send!({ address: libp2p.getMultiaddrs()[0]!.toString() })
  process.once('disconnect', () => {
    Promise.resolve(libp2p.stop()).finally(() => process.exit(0))
  })
}

/** One stream's worth: `frames` frames of `frameBytes` each (a member's share: its shards with their proofs). */
export interface Share {
  frames: number
  frameBytes: number
}

export interface Sink {
  /** Sends every share at once, each on its own stream, and resolves with the ms until every answer is in. */
  send(shares: readonly Share[], signal: AbortSignal): Promise<number>
  stop(): Promise<void>
}

/** Starts the sink process and a sender node here, connected before the first transfer is timed. */
export async function startSink(): Promise<Sink> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const untrack = trackProcess({ kill: () => child.kill('SIGKILL') })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let sender: DacnetLibp2p | undefined
  const stop = async () => {
    await sender?.stop()
    if (child.connected) child.disconnect()
    const timer = setTimeout(() => child.kill('SIGKILL'), SINK_START_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
    untrack()
  }
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the transfer sink did not start')), SINK_START_TIMEOUT_MS)
      child.once('message', (m: { address: string }) => {
        clearTimeout(timer)
        resolve(m.address)
      })
      exited.then(() => reject(new Error('the transfer sink exited before it listened')))
    })
    sender = await newLibp2p([])
    const target = multiaddr(address)
    await sender.dial(target)
    const from = sender
    let payload = new Uint8Array(0)
    return {
      stop,
      async send(shares, signal) {
        const largest = Math.max(...shares.map((s) => s.frameBytes))
        if (payload.length < largest) payload = new Uint8Array(largest)
        const started = performance.now()
        await Promise.all(
          shares.map(async ({ frames, frameBytes }) => {
            const stream = await from.dialProtocol(target, SINK_PROTOCOL, { signal })
            const reader = new FrameReader(stream)
            try {
              const frame = payload.subarray(0, frameBytes)
              // Batched into ~60 KiB sends, as the store protocol sends a member's shards.
              const batch = new FrameBatch(stream, { signal })
              for (let i = 0; i < frames; i++) await batch.add(frame)
              await batch.flush()
              await stream.close({ signal })
              const reply = await reader.expect(REPLY_BYTES, 'the sink reply', signal)
              const read = Number(new DataView(reply.buffer, reply.byteOffset).getBigUint64(0))
              if (read !== frames * frameBytes) throw new Error(`the sink read ${read} of ${frames * frameBytes} bytes`)
            } finally {
              reader.release()
            }
          }),
        )
        return performance.now() - started
      },
    }
  } catch (err) {
    await stop()
    throw err
  }
}

if (import.meta.main) await runSink()
