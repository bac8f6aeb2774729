import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificateSigners } from '../../src/attest/certificate.ts'
import { parseBlobId } from '../../src/erasure/blob-id.ts'
import { isDacnetError } from '../../src/errors.ts'
import {
  DEFAULT_SILENCE_MS,
  type DisperserOptions,
  type MemberFailure,
  type SilenceChange,
  type UnreachableVerdict,
} from '../../src/node/dispersal-options.ts'
import { Disperser } from '../../src/node/disperser.ts'
import { NodeErrorCode } from '../../src/node/errors.ts'
import { P2pErrorCode } from '../../src/p2p/errors.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { STORE_PROTOCOL } from '../../src/p2p/protocols.ts'
import { prng, randomData } from '../erasure/helpers.ts'
import { closedPort, type Relay, type SilentServer, startRelay, startSilent, tcpPortOf } from './dispersal-silent.ts'
import {
  ErasurePool,
  type MemberIdentity,
  memberIdentity,
  type RunningMember,
  registryOf,
  removeDirs,
  SwappableCommitteeSource,
  startClient,
  startMember,
} from './harness.ts'

/**
 * Members that are silent — a paused process: TCP accepts, nothing answers — against members that are down
 * (connection refused) and members that are merely slow, all over real libp2p. Four real members: 0 and 1 are
 * dialled directly; 2 sits behind a relay that can throttle its link; 3 behind a relay that can freeze (a process
 * stopped with the sequencer's connection already open). Silent members are TCP listeners that accept and never
 * write; down members are closed ports. Each case publishes its own stakes (total 100, q = 67).
 */

const NETWORK = 7373
const KiB = 1024
const MiB = 1024 * KiB
/**
 * The bound this file holds the silent case to, from the start of sending: the silence deadline plus one second for
 * everything else (the verdict comes within milliseconds of the deadline; the rest is winding down).
 */
const SILENT_BOUND_MS = DEFAULT_SILENCE_MS + 1_000

const committees = new SwappableCommitteeSource()
const members: RunningMember[] = []
const relays: Relay[] = []
const silentServers: SilentServer[] = []
const extras: MemberIdentity[] = []
const disperserOf: Disperser[] = []
let sequencer: DacnetLibp2p
let pool: ErasurePool
let closedPorts: number[] = []

type Listed = 'silent0' | 'silent1' | 'down0' | 'down1'

/**
 * Publishes epoch 0 with the real members at `real` stakes (in order; 0 leaves a member out) and the listed
 * stand-ins: silent (a listener that never writes) or down (a closed port).
 */
function publish(real: bigint[], listed: [Listed, bigint][] = []): void {
  const entries = members.flatMap((m, i) => {
    if (!real[i]) return []
    const addresses =
      i === 2
        ? [`/ip4/127.0.0.1/tcp/${relays[0]!.port}/p2p/${m.identity.peerId}`]
        : i === 3
          ? [`/ip4/127.0.0.1/tcp/${relays[1]!.port}/p2p/${m.identity.peerId}`]
          : m.node.addresses()
    return [{ identity: { ...m.identity, stake: real[i]! }, addresses }]
  })
  for (const [which, stake] of listed) {
    const slot = Number(which.at(-1))
    const identity = extras[which.startsWith('silent') ? slot : 2 + slot]!
    const port = which.startsWith('silent') ? silentServers[slot]!.port : closedPorts[slot]!
    entries.push({ identity: { ...identity, stake }, addresses: [`/ip4/127.0.0.1/tcp/${port}/p2p/${identity.peerId}`] })
  }
  committees.registry = registryOf(NETWORK, [{ epoch: 0, members: entries, sequencers: [sequencer.peerId.toString()] }])
}

function disperser(opts: DisperserOptions = {}): Disperser {
  const d = new Disperser({ libp2p: sequencer, committees, pool }, { retryDelayMs: 100, ...opts })
  disperserOf.push(d)
  return d
}

function openStoreStreams(): number {
  return sequencer
    .getConnections()
    .flatMap((c) => c.streams)
    .filter((s) => s.protocol === STORE_PROTOCOL).length
}

/** Runs a dispersal expected to fail; returns the error, the elapsed time and what the events said. */
async function failing(d: Disperser, bytes: Uint8Array) {
  const events: { silence: SilenceChange[]; verdict?: UnreachableVerdict; failures: MemberFailure[] } = {
    silence: [],
    failures: [],
  }
  let blobId = ''
  let encodeMs = 0
  let verdictAt = 0
  let storeStreamsAtVerdict = 0
  const start = performance.now()
  const err = await d
    .disperse(bytes, {
      onEncoded: (info) => {
        blobId = info.blobId
        encodeMs = info.encodeMs
      },
      onSilence: (change) => events.silence.push(change),
      onFailure: (failure) => events.failures.push(failure),
      onUnreachable: (verdict) => {
        events.verdict = verdict
        verdictAt = performance.now() - start
        storeStreamsAtVerdict = openStoreStreams()
      },
    })
    .then(
      () => undefined,
      (e) => e,
    )
  return { err, ms: performance.now() - start, encodeMs, verdictAt, storeStreamsAtVerdict, blobId, events }
}

beforeAll(async () => {
  for (let i = 0; i < 4; i++) members.push(await startMember(await memberIdentity(1n), committees))
  for (let i = 0; i < 4; i++) extras.push(await memberIdentity(1n))
  relays.push(await startRelay(tcpPortOf(members[2]!)), await startRelay(tcpPortOf(members[3]!)))
  silentServers.push(await startSilent(), await startSilent())
  closedPorts = [await closedPort(), await closedPort()]
  sequencer = await startClient('server')
  pool = new ErasurePool({ size: 1 })
}, 30_000)

afterAll(async () => {
  for (const d of disperserOf) await d.close()
  await sequencer?.stop()
  for (const m of members) await m.node.stop().catch(() => {})
  for (const r of relays) await r.close()
  for (const s of silentServers) {
    for (const socket of s.open) socket.destroy()
    await new Promise<void>((resolve) => s.server.close(() => resolve()))
  }
  await pool?.close()
  await removeDirs(members.map((m) => m.dir))
}, 30_000)

describe('dispersal with silent members', () => {
  it('just over a third silent: fails within the bound, naming them, while a slow member is still sending', async () => {
    // 34 of 100 silent; member 2's link is slow, so its share of a 1 MiB blob is still on the way at the verdict.
    publish(
      [20n, 16n, 15n, 15n],
      [
        ['silent0', 17n],
        ['silent1', 17n],
      ],
    )
    relays[0]!.rate = 100 * KiB
    const d = disperser()
    const { err, ms, encodeMs, verdictAt, storeStreamsAtVerdict, blobId, events } = await failing(
      d,
      randomData(MiB, prng(701)),
    )
    relays[0]!.rate = Number.POSITIVE_INFINITY
    console.log(
      `just over a third silent: rejected after ${ms.toFixed(0)} ms (encoding ${encodeMs.toFixed(0)} ms, verdict ${events.verdict?.ms.toFixed(0)} ms after sending began, heard at ${verdictAt.toFixed(0)} ms)`,
    )

    expect(isDacnetError(err, NodeErrorCode.THRESHOLD_UNREACHABLE)).toBe(true)
    // Counted from the start of sending (encoding comes first: about a second here for a cold worker).
    expect(events.verdict!.ms).toBeGreaterThanOrEqual(DEFAULT_SILENCE_MS)
    expect(ms - encodeMs).toBeLessThan(SILENT_BOUND_MS)
    const failures = err.meta.failures as { member: number; peerId: string; stake: string; code: string }[]
    // In the order they went silent: both within a few milliseconds of each other, either first.
    const named = failures.map((f) => [f.member, f.peerId, f.stake, f.code]).sort((a, b) => Number(a[0]) - Number(b[0]))
    expect(named).toEqual([
      [4, extras[0]!.peerId, '17', NodeErrorCode.SILENT],
      [5, extras[1]!.peerId, '17', NodeErrorCode.SILENT],
    ])
    expect(err.meta.lostStake).toBe('34')
    expect(err.message).toContain(extras[0]!.peerId)
    expect((err.meta.failures as { message: string }[])[0]!.message).toMatch(
      /^no progress for 3\.\d s while connecting$/,
    )

    // The caller heard first, with member 2 still outstanding and its store stream open.
    const verdict = events.verdict!
    expect(verdict.lostStake).toBe(34n)
    expect(verdict.outstanding.map((m) => m.member)).toEqual([2])
    expect(storeStreamsAtVerdict).toBeGreaterThan(0)
    // Both went silent within a few milliseconds: either may be reported first.
    const silences = events.silence
      .map((s) => [s.member, s.silent, s.phase])
      .sort((a, b) => Number(a[0]) - Number(b[0]))
    expect(silences).toEqual([
      [4, true, 'connecting'],
      [5, true, 'connecting'],
    ])
    expect(events.failures).toEqual([])

    // Then everything was wound down: no store stream left, nothing unsettled, member 2 stored nothing, and no
    // member ever saw a certificate.
    expect(openStoreStreams()).toBe(0)
    expect(d.unsettled).toBe(0)
    const id = parseBlobId(blobId)
    await new Promise((r) => setTimeout(r, 300))
    expect(await members[2]!.node.store.hasBlob(id)).toBe(false)
    for (const m of members) expect(await m.node.store.getCertificate(id)).toBeUndefined()
  }, 20_000)

  it('just over a third down (connection refused): fails fast, as before', async () => {
    publish(
      [20n, 16n, 15n, 15n],
      [
        ['down0', 17n],
        ['down1', 17n],
      ],
    )
    const { err, ms } = await failing(disperser(), randomData(100_000, prng(702)))
    console.log(`just over a third down: rejected after ${ms.toFixed(0)} ms`)
    expect(isDacnetError(err, NodeErrorCode.THRESHOLD_UNREACHABLE)).toBe(true)
    expect(ms).toBeLessThan(DEFAULT_SILENCE_MS)
    const failures = err.meta.failures as { member: number; code: string }[]
    expect(failures.map((f) => [f.member, f.code]).sort()).toEqual([
      [4, P2pErrorCode.DIAL_FAILED],
      [5, P2pErrorCode.DIAL_FAILED],
    ])
  }, 20_000)

  it('just under a third silent: the certificate comes without waiting for them', async () => {
    publish(
      [20n, 16n, 16n, 16n],
      [
        ['silent0', 16n],
        ['silent1', 16n],
      ],
    )
    const start = performance.now()
    const result = await disperser({ memberTimeoutMs: 2_000 }).disperse(randomData(100_000, prng(703)))
    const ms = performance.now() - start
    console.log(
      `just under a third silent: certified in ${result.certifyMs.toFixed(0)} ms (${ms.toFixed(0)} ms in all)`,
    )
    expect(result.certificate.signedStake).toBe(68n)
    expect(certificateSigners(result.certificate)).toEqual([0, 1, 2, 3])
    expect(result.certifyMs).toBeLessThan(DEFAULT_SILENCE_MS)
    expect(result.silent).toEqual([])
  }, 20_000)

  it('a straggler stopped with the connection open is let go once silent after the certificate, not waited for', async () => {
    // q = 67 without member 3, which is stopped: the default member timeout (60 s) and its retry would otherwise
    // hold the encoded blob, and a caller's dispersal slot, for two minutes.
    publish([30n, 30n, 30n, 10n])
    expect(sequencer.getConnections(members[3]!.node.libp2p.peerId).length).toBeGreaterThan(0)
    relays[1]!.freeze()
    try {
      const d = disperser()
      const failures: MemberFailure[] = []
      const start = performance.now()
      let encodeMs = 0
      const result = await d.disperse(randomData(100_000, prng(708)), {
        onEncoded: (info) => (encodeMs = info.encodeMs),
        onFailure: (failure) => failures.push(failure),
      })
      expect(result.certificate.signedStake).toBe(90n)
      expect(d.unsettled).toBe(1)
      while (d.unsettled > 0 && performance.now() - start < 20_000) await new Promise((r) => setTimeout(r, 50))
      const settledMs = performance.now() - start - encodeMs
      console.log(`a stopped straggler let go ${settledMs.toFixed(0)} ms after sending began`)
      expect(d.unsettled).toBe(0)
      expect(settledMs).toBeLessThan(SILENT_BOUND_MS)
      expect(failures.map((f) => [f.member, f.code])).toEqual([[3, NodeErrorCode.SILENT]])
      expect(failures[0]!.message).toContain('after the certificate')
      expect(openStoreStreams()).toBe(0)
    } finally {
      relays[1]!.thaw()
    }
  }, 30_000)

  it('a member stopped with the connection open: silent while negotiating, and the dispersal fails in bound', async () => {
    publish([22n, 22n, 22n, 34n])
    // The sequencer already has a connection to member 3 (through its relay) from the cases before.
    expect(sequencer.getConnections(members[3]!.node.libp2p.peerId).length).toBeGreaterThan(0)
    relays[1]!.freeze()
    try {
      const { err, ms, encodeMs, events } = await failing(disperser(), randomData(100_000, prng(704)))
      console.log(`a third and more stopped on an open connection: rejected after ${ms.toFixed(0)} ms`)
      expect(isDacnetError(err, NodeErrorCode.THRESHOLD_UNREACHABLE)).toBe(true)
      expect(ms - encodeMs).toBeLessThan(SILENT_BOUND_MS)
      const failures = err.meta.failures as { member: number; code: string; message: string }[]
      expect(failures.map((f) => [f.member, f.code])).toEqual([[3, NodeErrorCode.SILENT]])
      expect(failures[0]!.message).toContain('while negotiating')
      expect(events.verdict!.signedStake).toBe(66n)
      expect(openStoreStreams()).toBe(0)
    } finally {
      relays[1]!.thaw()
    }
  }, 20_000)

  it('a silent member that resumes counts again; a slow link that keeps moving is never silent', async () => {
    // q = 67: members 0 and 1 sign 60 at once; member 2's link is slow; member 3 is stopped, then resumes.
    publish([30n, 30n, 20n, 20n])
    const silenceMs = 800
    relays[0]!.rate = 200 * KiB
    relays[1]!.freeze()
    const thaw = setTimeout(() => relays[1]!.thaw(), 2 * silenceMs)
    const silence: SilenceChange[] = []
    try {
      const result = await disperser({ silenceMs, memberTimeoutMs: 15_000 }).disperse(randomData(MiB, prng(705)), {
        onSilence: (change) => silence.push(change),
      })
      console.log(`a stopped member resumed: certified in ${result.certifyMs.toFixed(0)} ms`)
      expect(silence.map((s) => [s.member, s.silent, s.phase])).toEqual([
        [3, true, 'negotiating'],
        [3, false, 'sending'],
      ])
      expect(silence[0]!.quietMs).toBeGreaterThanOrEqual(silenceMs)
      expect(certificateSigners(result.certificate)).toEqual([0, 1, 3])
      expect(result.certificate.signedStake).toBe(80n)
      expect(result.certifyMs).toBeGreaterThan(silence[1]!.ms)
    } finally {
      clearTimeout(thaw)
      relays[1]!.thaw()
      relays[0]!.rate = Number.POSITIVE_INFINITY
    }
  }, 20_000)
  it('one exchange at a time, largest stake first: a silent member frees its lane when counted silent', async () => {
    // q = 68 of 101: the silent stand-in holds the most stake, so it is sent to first and holds the only lane until
    // it is counted silent; then the four real members follow one after another, and all four are needed.
    publish([20n, 20n, 20n, 20n], [['silent0', 21n]])
    const silenceMs = 800
    const sent: number[] = []
    const silence: SilenceChange[] = []
    const result = await disperser({ silenceMs, sendLanes: 1, memberTimeoutMs: 15_000 }).disperse(
      randomData(100_000, prng(707)),
      { onSent: (s) => sent.push(s.member), onSilence: (change) => silence.push(change) },
    )
    console.log(`one lane behind a silent member: certified in ${result.certifyMs.toFixed(0)} ms`)
    expect(silence.map((s) => [s.member, s.silent])).toEqual([[4, true]])
    expect(sent).toEqual([0, 1, 2, 3])
    expect(certificateSigners(result.certificate)).toEqual([0, 1, 2, 3])
    // It waited for the silence deadline, not for the member's timeout.
    expect(result.certifyMs).toBeGreaterThanOrEqual(silenceMs)
    expect(result.certifyMs).toBeLessThan(5_000)
  }, 20_000)

  it('refuses a lane count that is not a whole number of at least one', () => {
    for (const sendLanes of [0, 1.5, -1, Number.NaN]) {
      expect(() => disperser({ sendLanes })).toThrow(expect.objectContaining({ code: NodeErrorCode.INVALID_OPTIONS }))
    }
    expect(() => disperser({ sendLanes: Number.POSITIVE_INFINITY })).not.toThrow()
  })

  it('refuses time limits no timer holds: past 2^31 - 1 ms one would fire at once', () => {
    for (const opts of [
      { memberTimeoutMs: 2 ** 31 },
      { memberTimeoutMs: 0 },
      { graceMs: -1 },
      { silenceMs: 2 ** 31 },
    ]) {
      expect(() => disperser(opts)).toThrow(expect.objectContaining({ code: NodeErrorCode.INVALID_OPTIONS }))
    }
    expect(() => disperser({ memberTimeoutMs: 2 ** 31 - 1, retryDelayMs: 0, graceMs: 0 })).not.toThrow()
  })

  it('a slow link that q needs is never counted silent, however long its share takes', async () => {
    // q = 67 needs member 2 (40 of 100): counting it silent would fail the dispersal at once.
    publish([30n, 30n, 40n, 0n])
    relays[0]!.rate = 450 * KiB
    const silence: SilenceChange[] = []
    try {
      const result = await disperser().disperse(randomData(MiB, prng(706)), {
        onSilence: (change) => silence.push(change),
      })
      console.log(`a slow link that q needs: certified in ${result.certifyMs.toFixed(0)} ms`)
      expect(result.certificate.signedStake).toBe(100n)
      expect(result.certifyMs).toBeGreaterThan(DEFAULT_SILENCE_MS)
      expect(silence).toEqual([])
    } finally {
      relays[0]!.rate = Number.POSITIVE_INFINITY
    }
  }, 20_000)
})
