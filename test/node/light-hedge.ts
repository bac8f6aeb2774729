import { createServer, type Server, type Socket } from 'node:net'
import { expect } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { type Assignment, assignShards } from '../../src/committee/assignment.ts'
import type { Logger } from '../../src/logger.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { LightClient, type SampleOptions, type SampleResult } from '../../src/node/light-client.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import {
  ErasurePool,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

/**
 * Light clients against holders that stay silent. A SIGSTOPped member still has its TCP connections accepted (the
 * kernel does that) but never writes a byte, so a dial, a noise handshake or a request to it stalls until
 * something gives up. Here a silent member is exactly that — a plain TCP server at the member's address that
 * accepts and never writes — or a real node whose sample handler never answers (silence on an open connection);
 * every other member is a real committee node over real libp2p. The hedge must count such holders silent long
 * before the 5 s request timeout, report them NODE_SILENT, abort what it sent them, and count no sample as a
 * success without a valid proof.
 *
 * The committee, the blob and the helpers that light-hedge.test.ts and light-hedge-stopped.test.ts share.
 */

export const NETWORK = 5252
const BLOB_SIZE = 64 * 1024
/** 40 in all: members 4 and 5 hold 30% of the stake, just under the third that may fail. */
const STAKES = [7n, 7n, 7n, 7n, 6n, 6n]
export const QUIET = [4, 5]
/** Half the 5 s request timeout: a client that waits out a silent holder even once cannot pass. */
export const HEDGED_WITHIN_MS = 2_500

const committees = new SwappableCommitteeSource()
export const members: RunningMember[] = []
/** Each member's TCP port, kept when a silent server takes its place. */
const ports: number[] = []
const silentServers = new Map<number, SilentServer>()
export const clients: DacnetLibp2p[] = []
export let sequencer: DacnetLibp2p
let pool: ErasurePool
export let certificate: Certificate
export let assignment: Assignment

/** A TCP listener that accepts every connection and never writes: a stopped process, seen from outside. */
export interface SilentServer {
  server: Server
  open: Set<Socket>
  accepted: number
}

/** A silent server on `port` (0: any free port). */
export async function silentServer(port = 0): Promise<SilentServer> {
  const silent: SilentServer = { server: createServer(), open: new Set(), accepted: 0 }
  silent.server.on('connection', (socket) => {
    silent.accepted++
    silent.open.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => silent.open.delete(socket))
    socket.resume() // reads and drops what comes, so that the client closing it is seen; never writes
  })
  await new Promise<void>((resolve, reject) => {
    silent.server.once('error', reject)
    silent.server.listen(port, '127.0.0.1', resolve)
  })
  return silent
}

export async function closeSilentServer(silent: SilentServer): Promise<void> {
  for (const socket of silent.open) socket.destroy()
  await new Promise((resolve) => silent.server.close(resolve))
}

/** Member i's process stops: its node goes, and its port accepts connections that nothing ever answers. */
export async function silence(i: number): Promise<SilentServer> {
  await members[i]!.node.stop()
  const silent = await silentServer(ports[i])
  silentServers.set(i, silent)
  return silent
}

/** Six members at STAKES, a sequencer, and one blob dispersed to them, certified. */
export async function startCommittee(): Promise<void> {
  for (const stake of STAKES) members.push(await startMember(await memberIdentity(stake), committees))
  for (const m of members) ports.push(Number(/\/tcp\/(\d+)/.exec(m.node.addresses()[0]!)![1]))
  sequencer = await startClient('server')
  committees.registry = registryOf(NETWORK, [
    {
      epoch: 0,
      members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
      sequencers: [sequencer.peerId.toString()],
    },
  ])
  pool = new ErasurePool({ size: 1 })
  const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: 15_000 })
  const result = await disperser.disperse(randomData(BLOB_SIZE, prng(707)))
  certificate = result.certificate
  assignment = assignShards(await committees.getCommittee(0), result.blob.blobId.bytes, certificate.header.n)
}

export async function stopCommittee(): Promise<void> {
  for (const c of clients) await c.stop()
  await sequencer?.stop()
  for (const m of members) await m.node.stop()
  for (const s of silentServers.values()) await closeSilentServer(s)
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
}

/** A light client on a new libp2p node with no connection yet, as a fresh `dacnet sample` starts. */
export async function freshClient(): Promise<LightClient> {
  return (await freshNode()).client
}

export async function freshNode(logger?: Logger): Promise<{ client: LightClient; libp2p: DacnetLibp2p }> {
  const libp2p = await startClient()
  clients.push(libp2p)
  return { client: new LightClient({ libp2p, committees, ...(logger ? { logger } : {}) }), libp2p }
}

export type TimedResult = SampleResult & { wall: number }

/**
 * A check that drew some index of the members in `quiet`: draws are uniform, so a check may (about 1 time in 100
 * here) draw none of them and say nothing about them; up to three checks, each by `client()`.
 */
export async function checkDrawing(
  quiet: number[],
  client: () => Promise<LightClient>,
  opts: SampleOptions = {},
): Promise<TimedResult> {
  for (let tries = 1; ; tries++) {
    const result = await timedSample(await client(), opts)
    const drew = [...result.failures, ...result.unanswered].some((f) => quiet.includes(f.member))
    if (drew || tries === 3) return result
    expect(result.failures).toEqual([])
  }
}

export async function timedSample(client: LightClient, opts: SampleOptions = {}): Promise<TimedResult> {
  const started = performance.now()
  const result = await client.sample(certificate, { ...opts, signal: AbortSignal.timeout(30_000) })
  return { ...result, wall: performance.now() - started }
}

export const membersFailed = (result: SampleResult) => [...new Set(result.failures.map((f) => f.member))].sort()

/**
 * What every outcome must respect: failures and unanswered samples name the holder of their index, each index
 * once, and successes had valid proofs. A sample still unanswered at the verdict never counted as a success.
 */
export function expectConsistent(result: SampleResult): void {
  const notOk = [...result.failures, ...result.unanswered]
  expect(new Set(notOk.map((f) => f.index)).size).toBe(notOk.length)
  for (const f of notOk) expect(f.member).toBe(assignment.holderOf(f.index))
  // Every success counted is a shard that came with a valid proof (bytes count what arrived).
  expect(result.bytes).toBeGreaterThanOrEqual(result.distinctSuccesses * certificate.header.shardSize)
  expect(result.successes).toBeLessThanOrEqual(result.samples - notOk.length)
}
