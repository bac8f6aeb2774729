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

/** After the last dispersal settles, let each node finish what follows a store (logs, gossip, LevelDB) first. */
const QUIET_BEFORE_MS = 1_000
/** The bound: a node's peak is at most its idle RSS plus three times the share it stores. */
const PEAK_GOAL_SHARES = 3
const PEAK_GOAL_SIZE = 32 * MiB

/**
 * Every node's CPU over `seconds` with no dispersal under way. Returns the row and each member's rate in cores
 * (CPU-seconds per second), which the sustained run subtracts to show the members' CPU net of idling.
 */
export async function idleCpu(
  cluster: BenchCluster,
  seconds: number,
  signal: AbortSignal,
): Promise<{ row: BenchRow; coresPerMember: number[] }> {
  await cluster.settled(signal)
  await sleep(QUIET_BEFORE_MS, undefined, { signal })
  const pids = cluster.pids()
  const chainPids = childPidsNamed('anvil')
  const before = pids.map(cpuSecondsOf)
  const chainBefore = chainPids.map(cpuSecondsOf)
  const ownBefore = ownCpuSeconds()
  const started = performance.now()
  await sleep(seconds * 1000, undefined, { signal })
  const elapsed = (performance.now() - started) / 1000
  const coresPerMember = pids.map((pid, i) => (cpuSecondsOf(pid) - before[i]!) / elapsed)
  const chainCores = chainPids.reduce((sum, pid, i) => sum + (cpuSecondsOf(pid) - chainBefore[i]!) / elapsed, 0)
  const total = coresPerMember.reduce((a, b) => a + b, 0)
  const percent = coresPerMember.map((c) => round(c * 100))
  return {
    coresPerMember,
    row: row(`idle CPU, ${cluster.size} members together`, total * 100, '% of a core', 1, {
      impl: implOf(cluster.kind),
      higherIsBetter: false,
      extra: {
        seconds: round(elapsed),
        perMemberMedianPercent: round(median(percent)),
        perMemberMaxPercent: Math.max(...percent),
        perMemberPercent: percent,
        sequencerAndLightClientPercent: round(((ownCpuSeconds() - ownBefore) / elapsed) * 100),
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
  await cluster.settled(signal)
  await sleep(QUIET_BEFORE_MS, undefined, { signal })
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
      extra: { maxMiB: mib(Math.max(...baseline)), minMiB: mib(Math.min(...baseline)) },
    }),
    row(`peak RSS above baseline in shares held, worst node of a ${what}`, worst, 'x share', 1, {
      ...common,
      ...(size === PEAK_GOAL_SIZE ? { goal: PEAK_GOAL_SHARES } : {}),
      extra: { worstNode, peakResetToBaseline: reset.every(Boolean) },
    }),
  ]
}
