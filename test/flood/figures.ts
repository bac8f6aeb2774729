import type { NodeReport } from './protocol.ts'
import { round } from './stats.ts'

/** The flooders' side of a phase. */
export interface FlooderFigures {
  identities: number
  /** Requests asked, answered in full, and refused or failed, per second over all identities. */
  askedPerSecond: number
  servedPerSecond: number
  refusedPerSecond: number
  refused: Record<string, number>
  /** The busiest identity's answered requests per second. */
  maxServedPerIdentityPerSecond: number
  /** The flooders' process's CPU over the flood, in % of one core (it runs on the node's machine, at niceness 10). */
  cpuPercent: number
}

/** The node's side of a phase, measured in its own process. */
export interface NodeFigures {
  rssAtStartMb: number
  peakRssMb: number
  /** The node process's CPU over the phase, in % of one core. */
  cpuPercent: number
  loopDelayP99Ms: number
  gcMaxPauseMs: number
  gcTotalMs: number
  /** Pauses by kind: how many, their sum and the longest, ms. */
  gcByKind: NodeReport['gcByKind']
  /** Sample exchanges the node finished, by outcome. */
  sampleOutcomes: Record<string, number>
}

/** What the flooders of a connection phase (burst, stall) got. */
export interface ConnectionFloodFigures {
  /** Handshakes attempted (burst) or sockets held open (stall). */
  attempts: number
  /** Burst: how the dials ended ('ok' or the error); stall: sockets the node closed before the end. */
  outcomes: Record<string, number>
  /** Burst: time to a connection; stall: time until the node closed a stalled socket (median), ms. */
  p50Ms: number
}

export function flooderFigures(
  perIdentity: { served: number; refused: Record<string, number> }[],
  seconds: number,
  cpuMs: number,
): FlooderFigures {
  const refused: Record<string, number> = {}
  let served = 0
  let refusals = 0
  for (const tally of perIdentity) {
    served += tally.served
    for (const [code, count] of Object.entries(tally.refused)) {
      refused[code] = (refused[code] ?? 0) + count
      refusals += count
    }
  }
  return {
    identities: perIdentity.length,
    askedPerSecond: round((served + refusals) / seconds),
    servedPerSecond: round(served / seconds),
    refusedPerSecond: round(refusals / seconds),
    refused,
    maxServedPerIdentityPerSecond: round(Math.max(...perIdentity.map((t) => t.served)) / seconds),
    cpuPercent: round(cpuMs / (10 * seconds)),
  }
}

const MB = 1024 * 1024

export function nodeFigures(report: NodeReport): NodeFigures {
  return {
    rssAtStartMb: round(report.rssAtMarkBytes / MB),
    peakRssMb: round(report.peakRssBytes / MB),
    cpuPercent: round((100 * report.cpuMs) / report.wallMs),
    loopDelayP99Ms: round(report.loopDelayP99Ms),
    gcMaxPauseMs: round(report.gcMaxPauseMs),
    gcTotalMs: round(report.gcTotalMs),
    gcByKind: Object.fromEntries(
      Object.entries(report.gcByKind).map(([kind, k]) => [
        kind,
        { count: k.count, totalMs: round(k.totalMs), maxMs: round(k.maxMs) },
      ]),
    ),
    sampleOutcomes: report.sampleOutcomes,
  }
}
