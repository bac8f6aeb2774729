/**
 * A certified blob whose holders withhold just over the threshold: after the certificate, the members that keep
 * serving hold exactly k - 1 shards (the most a blob that is not available can have), and the others are down.
 * Real members (libp2p on loopback, LevelDB in temp dirs), a real disperser and a real light client; `trials` runs
 * checks against it and counts how many wrongly conclude "available", for the false-accept figure the light
 * client's bound promises: at most 1 - target per check.
 */
import type { Certificate } from '../../src/attest/certificate.ts'
import { assignShards } from '../../src/committee/assignment.ts'
import { blobIdOf } from '../../src/erasure/blob-id.ts'
import { encodeHeader } from '../../src/erasure/header.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { LightClient } from '../../src/node/light-client.ts'
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

const NETWORK = 6161
/** 256 KiB at these stakes: n = 256, k = 81, member counts 80, 64, 48, 40, 24 (member 0 alone keeps k - 1). */
const BLOB_SIZE = 256 * 1024
const STAKES = [10n, 8n, 6n, 5n, 3n]

export interface Withheld {
  k: number
  n: number
  /** Shards the members still up hold: k - 1. */
  kept: number
  /** Runs `count` checks at `confidence`; returns how many concluded available, and the checks' p50 wall time. */
  trials(count: number, confidence: number): Promise<{ falseAccepts: number; p50Ms: number }>
  stop(): Promise<void>
}

export async function startWithheld(): Promise<Withheld> {
  const committees = new SwappableCommitteeSource()
  const members: RunningMember[] = []
  const clients: DacnetLibp2p[] = []
  const pool = new ErasurePool({ size: 1 })
  const stop = async () => {
    for (const m of members) await m.node.stop().catch(() => {})
    for (const c of clients) await c.stop()
    await pool.close()
    await removeDirs(members.map((m) => m.dir))
  }
  try {
    for (const stake of STAKES) members.push(await startMember(await memberIdentity(stake), committees))
    const sequencer = await startClient('server')
    clients.push(sequencer)
    committees.registry = registryOf(NETWORK, [
      {
        epoch: 0,
        members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
        sequencers: [sequencer.peerId.toString()],
      },
    ])
    const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: 15_000 })
    const { certificate } = await disperser.disperse(randomData(BLOB_SIZE, prng(6161)))
    // Stragglers finish storing before members go down: what is withheld is withheld by choice, not by timing.
    while (disperser.unsettled > 0) await new Promise((r) => setTimeout(r, 20))
    const { k, n } = certificate.header
    const blobId = blobIdOf(encodeHeader(certificate.header))
    const { counts } = assignShards(await committees.getCommittee(0), blobId.bytes, n)
    // Keep the members holding the most shards short of k; take the others down.
    const { kept: best, failing } = withholdingSplit(counts, k)
    for (const i of failing) await members[i]!.node.stop()
    const light = await startClient()
    clients.push(light)
    const client = new LightClient({ libp2p: light, committees })
    return {
      k,
      n,
      kept: best,
      trials: (count, confidence) => runTrials(client, certificate, count, confidence),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

async function runTrials(
  client: LightClient,
  certificate: Certificate,
  count: number,
  confidence: number,
): Promise<{ falseAccepts: number; p50Ms: number }> {
  let falseAccepts = 0
  const ms: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    const result = await client.sample(certificate, { confidence, signal: AbortSignal.timeout(30_000) })
    ms.push(performance.now() - started)
    if (result.available) falseAccepts++
  }
  ms.sort((a, b) => a - b)
  return { falseAccepts, p50Ms: ms[Math.floor(ms.length / 2)] ?? 0 }
}

/**
 * Of all ways to keep members, the one keeping the most shards while still short of k: the tightest case for a
 * light client, where the kept holders succeed at a rate up to p = (k - 1) / n itself. `counts` are the
 * assignment's shards per member.
 */
export function withholdingSplit(counts: readonly number[], k: number): { kept: number; failing: Set<number> } {
  let best = -1
  let bestMask = 0
  for (let mask = 0; mask < 1 << counts.length; mask++) {
    let held = 0
    for (let i = 0; i < counts.length; i++) if (mask & (1 << i)) held += counts[i]!
    if (held < k && held > best) {
      best = held
      bestMask = mask
    }
  }
  return { kept: best, failing: new Set(counts.map((_, i) => i).filter((i) => !(bestMask & (1 << i)))) }
}
