/**
 * What the node processes cost while idle and at their peak: CPU over an idle window between dispersals, and
 * each node's resident memory at rest and at its peak while a large blob is dispersed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type BenchRow, median } from '../lib.ts'
import type { BenchCluster } from './cluster.ts'
import { disperseOne, RandomBlobs, round } from './dispersal.ts'
import { childPidsNamed, cpuSecondsOf, memoryOf, ownCpuSeconds, resetPeak } from './proc.ts'
import { implOf, MiB, row, sizeLabel } from './rows.ts'

/**
 * After a dispersal has settled, members go on working for a while: the certificate's gossip, LevelDB, and a DHT
 * provider record for the blob (a query over about 20 peers, two at a time per node); right after start-up they
 * also fill their DHT routing tables. Idle readings wait until that is over: at least QUIET_MIN_MS, then until
 * two seconds' CPU of all members together has stopped falling (within QUIET_RATIO of the two before), at most
 * QUIET_MAX_MS. Two-second windows, because a member's idle CPU comes in bursts (gossip heartbeats, chain polls).
 */
const QUIET_WINDOW_MS = 2_000
const QUIET_RATIO = 1.2
const QUIET_MIN_MS = 6_000
const QUIET_MAX_MS = 30_000
/** The bound: a node's peak is at most its idle RSS plus three times the share it stores. */
const PEAK_GOAL_SHARES = 3
const PEAK_GOAL_SIZE = 32 * MiB

/** CPU of an idle cluster, in cores (CPU-seconds per second): each member's, and this process's (sequencer and light client). */
export interface IdleRates {
  members: number[]
  own: number
}

/** Waits until the members are quiet (see QUIET_WINDOW_MS); returns how long that took, in ms. */
export async function waitForQuiet(cluster: BenchCluster, signal: AbortSignal): Promise<number> {
  await cluster.settled(signal)
  const pids = cluster.pids()
  const total = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0)
  const started = performance.now()
  let before = total()
  let previous = Number.POSITIVE_INFINITY
  while (performance.now() - started < QUIET_MAX_MS) {
    await sleep(QUIET_WINDOW_MS, undefined, { signal })
    const now = total()
    const used = now - before
    before = now
    if (used * QUIET_RATIO >= previous && performance.now() - started >= QUIET_MIN_MS) break
    previous = used
  }
  return performance.now() - started
}

/**
 * Every node's CPU over `seconds` with no dispersal under way, once the members are quiet after the last one.
 * Returns the row and the idle rates, which the sustained run subtracts to show the CPU of dispersal alone.
 */
export async function idleCpu(
  cluster: BenchCluster,
  seconds: number,
  signal: AbortSignal,
): Promise<{ row: BenchRow; idle: IdleRates }> {
  const quietMs = await waitForQuiet(cluster, signal)
  const pids = cluster.pids()
  const chainPids = childPidsNamed('anvil')
  const before = pids.map(cpuSecondsOf)
  const chainBefore = chainPids.map(cpuSecondsOf)
  const ownBefore = ownCpuSeconds()
  const started = performance.now()
  await sleep(seconds * 1000, undefined, { signal })
  const elapsed = (performance.now() - started) / 1000
  const coresPerMember = pids.map((pid, i) => (cpuSecondsOf(pid) - before[i]!) / elapsed)
  const ownCores = (ownCpuSeconds() - ownBefore) / elapsed
  const chainCores = chainPids.reduce((sum, pid, i) => sum + (cpuSecondsOf(pid) - chainBefore[i]!) / elapsed, 0)
  const total = coresPerMember.reduce((a, b) => a + b, 0)
  const percent = coresPerMember.map((c) => round(c * 100))
  return {
    idle: { members: coresPerMember, own: ownCores },
    row: row(`idle CPU, ${cluster.size} members together`, total * 100, '% of a core', 1, {
      impl: implOf(cluster.kind),
      higherIsBetter: false,
      extra: {
        seconds: round(elapsed),
        quietAfterMs: Math.round(quietMs),
        perMemberMedianPercent: round(median(percent)),
        perMemberMaxPercent: Math.max(...percent),
        perMemberPercent: percent,
        sequencerAndLightClientPercent: round(ownCores * 100),
        ...(chainPids.length > 0 ? { anvilPercent: round(chainCores * 100) } : {}),
        committee: cluster.kind,
      },
    }),
  }
}

/**
 * Each node's resident set at rest (VmRSS, its baseline), then its peak (VmHWM, reset to the baseline first where
 * the kernel allows) while one blob of `size` bytes is dispersed and until every member has stored its share.
 * A node's share is the shard and proof bytes sent to it.
 */
export async function peakRssRows(cluster: BenchCluster, size: number, signal: AbortSignal): Promise<BenchRow[]> {
  const quietMs = await waitForQuiet(cluster, signal)
  const blobs = new RandomBlobs(size, 1)
  const pids = cluster.pids()
  const baseline = pids.map((pid) => memoryOf(pid).rss)
  const reset = pids.map(resetPeak)
  const ownReset = resetPeak(process.pid)
  const dispersed = await disperseOne(cluster, blobs.blob(0), signal)
  await cluster.settled(signal)
  const peaks = pids.map((pid) => memoryOf(pid).peak)
  const ownPeak = memoryOf(process.pid).peak
  const mib = (bytes: number) => round(bytes / MiB)
  const nodes = pids.map((_, i) => {
    const share = dispersed.sent.get(i) ?? 0
    return {
      member: i,
      stake: cluster.committee.members[i]!.stake.toString(),
      shareMiB: mib(share),
      baselineMiB: mib(baseline[i]!),
      peakMiB: mib(peaks[i]!),
      aboveBaselineInShares: share > 0 ? round((peaks[i]! - baseline[i]!) / share) : null,
      peakReset: reset[i],
    }
  })
  const worst = Math.max(...nodes.map((n) => n.aboveBaselineInShares ?? 0))
  const worstNode = nodes.find((n) => n.aboveBaselineInShares === worst)
  const what = `${sizeLabel(size)} dispersal, ${cluster.size} members`
  const common = { impl: implOf(cluster.kind), higherIsBetter: false }
  return [
    row(`peak RSS per node during a ${what} (median node)`, median(peaks) / MiB, 'MiB', 1, {
      ...common,
      extra: {
        maxMiB: mib(Math.max(...peaks)),
        minMiB: mib(Math.min(...peaks)),
        timeToCertificateMs: round(dispersed.ms),
        sequencerPeakMiB: ownReset ? mib(ownPeak) : null,
        nodes,
      },
    }),
    row(`idle RSS per node before it, the baseline (median node)`, median(baseline) / MiB, 'MiB', 1, {
      ...common,
      extra: {
        maxMiB: mib(Math.max(...baseline)),
        minMiB: mib(Math.min(...baseline)),
        quietAfterMs: Math.round(quietMs),
      },
    }),
    row(`peak RSS above baseline in shares held, worst node of a ${what}`, worst, 'x share', 1, {
      ...common,
      ...(size === PEAK_GOAL_SIZE ? { goal: PEAK_GOAL_SHARES } : {}),
      extra: { worstNode, peakResetToBaseline: reset.every(Boolean) },
    }),
  ]
}
