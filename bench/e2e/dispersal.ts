/**
 * Dispersals through a running cluster, as a rollup's sequencer makes them: `Disperser.disperse` on fresh random
 * bytes, timed from the call (encoding included) to the certificate, as the devnet's "certified in" column is.
 */
import { randomBytes } from 'node:crypto'
import { type Certificate, certificateSigners } from '../../src/attest/certificate.ts'
import type { BlobHeader } from '../../src/erasure/header.ts'
import { type BenchRow, mbPerSecond, median, quantile } from '../lib.ts'
import type { BenchCluster } from './cluster.ts'
import { cpuSecondsOf, ownCpuSeconds } from './proc.ts'
import type { IdleRates } from './resources.ts'
import { implOf, MiB, row, sizeLabel } from './rows.ts'

/**
 * Bytes between two blobs cut from one random buffer: each blob is a window shifted by this much, so every blob
 * is distinct (a distinct blob id) without drawing count × size random bytes.
 */
const BLOB_STEP_BYTES = 4096

/** `count` distinct blobs of `size` bytes, as views of one random buffer. */
export class RandomBlobs {
  readonly size: number
  readonly #bytes: Uint8Array

  constructor(size: number, count: number) {
    this.size = size
    this.#bytes = new Uint8Array(randomBytes(size + BLOB_STEP_BYTES * Math.max(0, count - 1)))
  }

  blob(i: number): Uint8Array {
    return this.#bytes.subarray(i * BLOB_STEP_BYTES, i * BLOB_STEP_BYTES + this.size)
  }
}

export interface Dispersed {
  /** Time to certificate: the `disperse` call, encoding included. */
  ms: number
  encodeMs: number
  certificate: Certificate
  header: BlobHeader
  /** Shard and proof bytes sent to each member, by member index (filled in as sends finish, stragglers too). */
  sent: Map<number, number>
  /** Shards sent to each member, by member index. */
  sentShards: Map<number, number>
  /** Member indices in the order their attestations were accepted (stragglers after the certificate too). */
  receiptOrder: number[]
  /** Members that failed (after the disperser's one retry), with the failure's code. */
  failures: { member: number; code: string }[]
}

export async function disperseOne(cluster: BenchCluster, data: Uint8Array, signal: AbortSignal): Promise<Dispersed> {
  const sent = new Map<number, number>()
  const sentShards = new Map<number, number>()
  const receiptOrder: number[] = []
  const failures: Dispersed['failures'] = []
  const started = performance.now()
  const result = await cluster.roles.disperser.disperse(data, {
    signal,
    onSent: (s) => {
      sent.set(s.member, s.bytes)
      sentShards.set(s.member, s.shards)
    },
    onReceipt: (r) => receiptOrder.push(r.member),
    onFailure: (f) => failures.push({ member: f.member, code: f.code }),
  })
  const ms = performance.now() - started
  const { certificate, encodeMs } = result
  return { ms, encodeMs, certificate, header: certificate.header, sent, sentShards, receiptOrder, failures }
}

export interface Cell {
  size: number
  blobs: RandomBlobs
  dispersed: Dispersed[]
}

/**
 * `count` blobs of `size` bytes one after another, each dispersed once the one before has settled with every
 * member (so no straggler of the last blob weighs on the next), each timed to its certificate.
 */
export async function certificateCell(
  cluster: BenchCluster,
  size: number,
  count: number,
  signal: AbortSignal,
): Promise<Cell> {
  const blobs = new RandomBlobs(size, count)
  const dispersed: Dispersed[] = []
  for (let i = 0; i < count; i++) {
    signal.throwIfAborted()
    dispersed.push(await disperseOne(cluster, blobs.blob(i), signal))
    await cluster.settled(signal)
  }
  return { size, blobs, dispersed }
}

/** The goals for time to certificate, on the 16-member committee, in ms. */
const CERTIFICATE_GOALS_MS: Record<number, number> = { [16 * MiB]: 1500, [MiB]: 100 }
const GOAL_MEMBERS = 16

export function certificateRow(cluster: BenchCluster, cell: Cell): BenchRow {
  const times = cell.dispersed.map((d) => d.ms)
  const { k, n, shardSize } = cell.dispersed[0]!.header
  const goal = cluster.size === GOAL_MEMBERS ? CERTIFICATE_GOALS_MS[cell.size] : undefined
  return row(
    `time to certificate ${sizeLabel(cell.size)}, ${cluster.size} members`,
    median(times),
    'ms',
    times.length,
    {
      impl: implOf(cluster.kind),
      higherIsBetter: false,
      ...(goal !== undefined ? { goal } : {}),
      extra: {
        p90: round(quantile(times, 0.9)),
        min: round(Math.min(...times)),
        max: round(Math.max(...times)),
        encodeMsP50: round(median(cell.dispersed.map((d) => d.encodeMs))),
        memberFailures: cell.dispersed.flatMap((d) => d.failures),
        signersInCertificateP50: median(cell.dispersed.map((d) => certificateSigners(d.certificate).length)),
        members: cluster.size,
        blobBytes: cell.size,
        k,
        n,
        shardSize,
        committee: cluster.kind,
      },
    },
  )
}

/**
 * `count` blobs dispersed back to back: the next as soon as the last has its certificate, while members that the
 * certificate did not wait for still receive theirs. Throughput is the blob bytes over the time from the first
 * call to the last certificate; the CPU of the sequencer (this process) and of every member is counted from the
 * first call until every member has answered for every blob.
 */
export async function sustainedRows(
  cluster: BenchCluster,
  size: number,
  count: number,
  idle: IdleRates | undefined,
  signal: AbortSignal,
): Promise<{ rows: BenchRow[]; dispersed: Dispersed[]; blobs: RandomBlobs }> {
  await cluster.settled(signal)
  const blobs = new RandomBlobs(size, count)
  const pids = cluster.pids()
  const ownBefore = ownCpuSeconds()
  const nodesBefore = pids.map(cpuSecondsOf)
  const started = performance.now()
  const dispersed: Dispersed[] = []
  for (let i = 0; i < count; i++) dispersed.push(await disperseOne(cluster, blobs.blob(i), signal))
  const certifiedMs = performance.now() - started
  await cluster.settled(signal)
  const settledMs = performance.now() - started
  // Members publish provider records once stores pause: the CPU window runs until they have.
  await cluster.providersPublished(signal)
  const windowMs = performance.now() - started
  const ownCpu = ownCpuSeconds() - ownBefore
  const nodeCpu = pids.map((pid, i) => cpuSecondsOf(pid) - nodesBefore[i]!)
  const dispersedMiB = (count * size) / MiB
  const storedBytes = dispersed.reduce((sum, d) => sum + [...d.sent.values()].reduce((a, b) => a + b, 0), 0)
  const storedMiB = storedBytes / MiB
  const memberCpu = nodeCpu.reduce((a, b) => a + b, 0)
  // What the same window would have cost with no dispersal, from the idle reading, to show the dispersals' own cost.
  const idleMemberCpu = idle ? idle.members.reduce((a, b) => a + b, 0) * (windowMs / 1000) : undefined
  const idleOwnCpu = idle ? idle.own * (windowMs / 1000) : undefined
  const members = `${cluster.size} members`
  const common = { impl: implOf(cluster.kind), higherIsBetter: false }
  const rows = [
    row(
      `sustained dispersal, ${sizeLabel(size)} blobs back to back, ${members}`,
      mbPerSecond(count * size, certifiedMs),
      'MB/s',
      count,
      {
        ...common,
        higherIsBetter: true,
        ...(cluster.size === GOAL_MEMBERS ? { goal: 20 } : {}),
        extra: {
          blobs: count,
          blobBytes: size,
          toLastCertificateMs: Math.round(certifiedMs),
          untilAllStoredMs: Math.round(settledMs),
          untilAllStoredMBps: round(mbPerSecond(count * size, settledMs)),
          timeToCertificateP50: round(median(dispersed.map((d) => d.ms))),
        },
      },
    ),
    row(`sequencer CPU per MiB dispersed, ${members}`, ownCpu / dispersedMiB, 'CPU-s/MiB', count, {
      ...common,
      extra: {
        cpuSeconds: round(ownCpu),
        dispersedMiB,
        ...(idleOwnCpu !== undefined
          ? { idleCpuSecondsInWindow: round(idleOwnCpu), netOfIdle: round((ownCpu - idleOwnCpu) / dispersedMiB) }
          : {}),
        windowMs: Math.round(windowMs),
      },
    }),
    row(`member CPU per MiB stored, ${members} together`, memberCpu / storedMiB, 'CPU-s/MiB', count, {
      ...common,
      extra: {
        cpuSeconds: round(memberCpu),
        storedMiB: round(storedMiB),
        perMemberCpuSeconds: nodeCpu.map(round),
        ...(idleMemberCpu !== undefined
          ? { idleCpuSecondsInWindow: round(idleMemberCpu), netOfIdle: round((memberCpu - idleMemberCpu) / storedMiB) }
          : {}),
        windowMs: Math.round(windowMs),
      },
    }),
  ]
  return { rows, dispersed, blobs }
}

export function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
