/**
 * Members that stop answering, on a real cluster: every member its own process (the devnet's `dacnet node`), the
 * sequencer, light client and retriever in this one. Members holding just under a third of the stake are paused
 * (SIGSTOP: the kernel still accepts their connections, nothing answers) and then killed (SIGKILL: connections
 * refused); then one more member goes the same way, taking the silent or dead stake just over a third.
 *
 * What is measured against the healthy cluster: time to certificate, the light client's check (warm and cold), how
 * silent holders are reported, how fast a dispersal that cannot reach q fails, and that every certificate made
 * along the way verifies and its blob comes back byte for byte once the members are back.
 */
import { randomBytes } from 'node:crypto'
import { freshLightClient } from '../../bench/e2e/clients.ts'
import { BenchCluster } from '../../bench/e2e/cluster.ts'
import { median } from '../../bench/lib.ts'
import type { Certificate } from '../../src/attest/certificate.ts'
import { verifyCertificate } from '../../src/attest/verify-certificate.ts'
import { isDacnetError } from '../../src/errors.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import type { LightClient, SampleResult } from '../../src/node/light-client.ts'
import type { SoakRow } from './row.ts'

export interface FaultOptions {
  members: number
  blobSize: number
  /** Dispersals per phase. */
  blobs: number
  /** Light-client checks per phase, warm and cold each. */
  checks: number
}

export const DEFAULT_FAULT_OPTIONS: FaultOptions = { members: 16, blobSize: 1 << 20, blobs: 5, checks: 9 }

/** A dispersal that cannot reach q must fail within this of its start (3 s silence deadline, encoding, slack). */
const UNREACHABLE_BOUND_MS = 6_000

interface Phase {
  name: string
  ttc: number[]
  warm: number[]
  cold: number[]
  codes: Set<string>
  unavailable: number
}

export async function faultRows(opts: FaultOptions, signal: AbortSignal): Promise<SoakRow[]> {
  const cluster = await BenchCluster.start(opts.members, 'file', signal)
  const stopped = new Set<number>()
  const certificates: { certificate: Certificate; data: Uint8Array }[] = []
  try {
    const { committee } = cluster
    const pids = cluster.pids()
    // The largest set of members, smallest stakes first, holding less than a third; plus one more member.
    const byStake = [...committee.members].sort((a, b) => (a.stake < b.stake ? -1 : a.stake > b.stake ? 1 : 0))
    const under: number[] = []
    let stake = 0n
    for (const member of byStake) {
      if ((stake + member.stake) * 3n >= committee.totalStake) break
      under.push(member.index)
      stake += member.stake
    }
    const over = byStake.find((m) => !under.includes(m.index))!.index
    const share = (indices: number[]) =>
      Number((indices.reduce((sum, i) => sum + committee.members[i]!.stake, 0n) * 1000n) / committee.totalStake) / 10

    const disperse = async (phase: Phase) => {
      for (let i = 0; i < opts.blobs; i++) {
        const data = new Uint8Array(randomBytes(opts.blobSize))
        const started = performance.now()
        const { certificate } = await cluster.roles.disperser.disperse(data, {
          signal,
          onFailure: (f) => phase.codes.add(`dispersal ${f.code}`),
        })
        phase.ttc.push(performance.now() - started)
        certificates.push({ certificate, data })
      }
    }
    /** One check's wall time, the certificate's verification included; its failures' codes go to the phase. */
    const check = async (phase: Phase, client: LightClient, certificate: Certificate): Promise<number> => {
      const started = performance.now()
      const result: SampleResult = await client.sample(certificate, { signal })
      if (!result.available) phase.unavailable++
      for (const f of result.failures) phase.codes.add(`sample ${f.code}`)
      // Holders still silent when the check concluded without them (counted as failures).
      if (result.unanswered.length > 0) phase.codes.add('sample unanswered')
      return performance.now() - started
    }
    const checks = async (phase: Phase) => {
      const recent = certificates.slice(-opts.blobs).map((c) => c.certificate)
      for (let i = 0; i < opts.checks; i++) {
        phase.warm.push(await check(phase, cluster.roles.lightClient, recent[i % recent.length]!))
        const fresh = await freshLightClient(cluster.roles.committees)
        try {
          phase.cold.push(await check(phase, fresh.client, recent[i % recent.length]!))
        } finally {
          await fresh.stop()
        }
      }
    }
    const phase = (name: string): Phase => ({ name, ttc: [], warm: [], cold: [], codes: new Set(), unavailable: 0 })
    const signalAll = (indices: Iterable<number>, sig: NodeJS.Signals) => {
      for (const i of indices) process.kill(pids[i]!, sig)
    }
    /** A dispersal that must fail with NODE_THRESHOLD_UNREACHABLE: how long it took and whom it named. */
    const unreachable = async () => {
      const started = performance.now()
      try {
        const { certificate } = await cluster.roles.disperser.disperse(new Uint8Array(randomBytes(opts.blobSize)), {
          signal,
        })
        certificates.push({ certificate, data: new Uint8Array() })
        return { ms: performance.now() - started, code: 'certified', named: [] as string[] }
      } catch (err) {
        const named = ((err as { meta?: { failures?: { member: number; code: string }[] } }).meta?.failures ?? []).map(
          (f) => `${f.member}:${f.code}`,
        )
        return {
          ms: performance.now() - started,
          code: isDacnetError(err) ? err.code : String(err),
          named,
        }
      }
    }

    const healthy = phase('healthy')
    await disperse(healthy)
    await checks(healthy) // warms the light client's connections too
    healthy.warm.length = 0
    healthy.cold.length = 0
    await checks(healthy)

    /** Takes the under-a-third members out with `sig`, disperses and checks, then one more: q out of reach. */
    const fault = async (sig: 'SIGSTOP' | 'SIGKILL', verb: string) => {
      const p = phase(`${under.length} members ${verb} (${share(under)}% of stake)`)
      signalAll(under, sig)
      if (sig === 'SIGSTOP') for (const i of under) stopped.add(i)
      await disperse(p)
      await checks(p)
      signalAll([over], sig)
      if (sig === 'SIGSTOP') stopped.add(over)
      return { phase: p, over: await unreachable() }
    }
    const { phase: paused, over: pausedOver } = await fault('SIGSTOP', 'paused')
    signalAll(stopped, 'SIGCONT')
    stopped.clear()
    await cluster.settled(signal)
    const { phase: down, over: downOver } = await fault('SIGKILL', 'killed')

    // Every certificate verifies; blobs certified while members were paused come back from the living members.
    let wrong = 0
    for (const { certificate } of certificates) {
      try {
        verifyCertificate(certificate, await cluster.roles.committees.getCommittee(certificate.epoch))
      } catch {
        wrong++
      }
    }
    let retrieved = 0
    const retrievable = certificates.filter((c) => c.data.length > 0)
    for (const { certificate, data } of retrievable) {
      const result = await cluster.roles.retriever.retrieve(certificate, { signal })
      if (result.kind === 'ok' && Buffer.compare(Buffer.from(result.data), Buffer.from(data)) === 0) retrieved++
    }

    const p50 = (values: number[]) => Math.round(median(values))
    const ratio = (a: number[], b: number[]) => Math.round((median(a) / median(b)) * 100) / 100
    const rows: SoakRow[] = []
    for (const p of [paused, down]) {
      const silentCodes = [...p.codes].filter((c) => c.startsWith('sample '))
      rows.push({
        suite: 'faults',
        case: `${p.name}: dispersal`,
        figure: `time to certificate p50 ${p50(p.ttc)} ms (healthy ${p50(healthy.ttc)} ms), ${p.ttc.length} of ${opts.blobs} certified`,
        pass: 'every blob certified',
        ok: p.ttc.length === opts.blobs,
        detail: { ttc: p.ttc, healthy: healthy.ttc, codes: [...p.codes] },
      })
      const warmRatio = ratio(p.warm, healthy.warm)
      const coldRatio = ratio(p.cold, healthy.cold)
      const silentOk = p === paused ? !silentCodes.includes('sample P2P_DIAL_FAILED') : true
      rows.push({
        suite: 'faults',
        case: `${p.name}: light-client check`,
        figure: `warm p50 ${p50(p.warm)} ms (${warmRatio}x healthy ${p50(healthy.warm)}), cold p50 ${p50(p.cold)} ms (${coldRatio}x healthy ${p50(healthy.cold)}); ${p.unavailable} unavailable; failures ${silentCodes.map((c) => c.slice(7)).join(', ') || 'none'}`,
        pass: `available, within 2x healthy p50${p === paused ? ', paused holders reported NODE_SILENT' : ''}`,
        ok: p.unavailable === 0 && warmRatio <= 2 && coldRatio <= 2 && silentOk,
        detail: { warm: p.warm, cold: p.cold, healthyWarm: healthy.warm, healthyCold: healthy.cold },
      })
    }
    for (const [name, r] of [
      [`${under.length + 1} members paused (${share([...under, over])}% of stake)`, pausedOver],
      [`${under.length + 1} members killed (${share([...under, over])}% of stake)`, downOver],
    ] as const) {
      rows.push({
        suite: 'faults',
        case: `${name}: dispersal`,
        figure: `${r.code} after ${Math.round(r.ms)} ms, naming ${r.named.join(', ') || 'nobody'}`,
        pass: `NODE_THRESHOLD_UNREACHABLE within ${UNREACHABLE_BOUND_MS / 1000} s, nothing certified`,
        ok: r.code === NodeErrorCode.THRESHOLD_UNREACHABLE && r.ms <= UNREACHABLE_BOUND_MS,
        detail: r,
      })
    }
    rows.push({
      suite: 'faults',
      case: 'certificates made through the faults',
      figure: `${certificates.length} certificates, ${wrong} wrong; ${retrieved} of ${retrievable.length} blobs retrieved byte for byte after the kills`,
      pass: '0 wrong certificates, every certified blob retrievable',
      ok: wrong === 0 && retrieved === retrievable.length,
    })
    return rows
  } finally {
    // A paused process cannot stop: let it run again before the cluster is taken down.
    const pids = cluster.pids()
    for (const i of stopped) {
      try {
        process.kill(pids[i]!, 'SIGCONT')
      } catch {}
    }
    await cluster.stop()
  }
}
