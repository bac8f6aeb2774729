import { afterAll, describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { signAttestation } from '../../src/attest/attestation.ts'
import { encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import type { CommitteeSource } from '../../src/committee/source.ts'
import { StaticCommitteeSource } from '../../src/committee/source.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { CertificateJudge, judgeCertificate } from '../../src/node/certificates.ts'
import { joinCertificateGossip, publishCertificate } from '../../src/p2p/gossip.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { CERTIFICATE_TOPIC } from '../../src/p2p/protocols.ts'
import { waitFor } from '../cli/helpers.ts'
import { startNodes, stopAll } from '../p2p/helpers.ts'
import { memberIdentity, registryOf } from './harness.ts'

type Fixture = { identities: Awaited<ReturnType<typeof memberIdentity>>[]; source: StaticCommitteeSource }

/** A three-member committee (stakes 5, 3, 2) of network 9, epoch 0. */
async function committeeFixture(): Promise<Fixture> {
  const identities = await Promise.all([5n, 3n, 2n].map((s) => memberIdentity(s)))
  const registry = registryOf(9, [{ epoch: 0, members: identities.map((identity) => ({ identity })), sequencers: [] }])
  return { identities, source: new StaticCommitteeSource(registry) }
}

/** Canonical certificate bytes for a blob filled with `fill`, signed by the two largest members. */
async function certify({ identities, source }: Fixture, fill: number): Promise<Uint8Array> {
  const committee = await source.getCommittee(0)
  const blob = encodeBlob(new Uint8Array(5000).fill(fill), { networkId: 9, epoch: 0, ...committee.shapeFor(5000) })
  const aggregator = new Aggregator({ committee, header: blob.header })
  for (const id of identities.slice(0, 2)) {
    await aggregator.add(signAttestation(id.secretKey, attestationContextOf(blob.header)))
  }
  return encodeCertificate(await aggregator.wait())
}

/** Counts committee look-ups: a certificate judged from memory costs none. */
class CountingSource implements CommitteeSource {
  lookups = 0
  readonly inner: CommitteeSource
  constructor(inner: CommitteeSource) {
    this.inner = inner
  }
  getCommittee(epoch: number) {
    this.lookups++
    return this.inner.getCommittee(epoch)
  }
  epochs() {
    return this.inner.epochs()
  }
}

describe('judging gossiped certificates', () => {
  it('accepts a valid certificate, ignores an unknown epoch and rejects forgeries and garbage', async () => {
    const identities = await Promise.all([5n, 3n, 2n].map((s) => memberIdentity(s)))
    const spec = { members: identities.map((identity) => ({ identity })), sequencers: [] }
    const registry = registryOf(9, [{ epoch: 0, ...spec }])
    const committee = registry.committees[0]!
    const blob = encodeBlob(new Uint8Array(5000).fill(3), { networkId: 9, epoch: 0, ...committee.shapeFor(5000) })
    const aggregator = new Aggregator({ committee, header: blob.header })
    for (const id of identities.slice(0, 2)) {
      await aggregator.add(signAttestation(id.secretKey, attestationContextOf(blob.header)))
    }
    const certificate = await aggregator.wait()
    const bytes = encodeCertificate(certificate)
    const source = new StaticCommitteeSource(registry)
    expect(await judgeCertificate(source, bytes)).toBe('accept')

    const laterEpoch = new StaticCommitteeSource(registryOf(9, [{ epoch: 5, ...spec }]))
    expect(await judgeCertificate(laterEpoch, bytes)).toBe('ignore')

    const forged = bytes.slice()
    forged[forged.length - 20]! ^= 1 // inside the aggregate signature or the stake
    expect(await judgeCertificate(source, forged)).toBe('reject')
    expect(await judgeCertificate(source, new Uint8Array([1, 2, 3]))).toBe('reject')
  })

  it('ignores, without blame, a certificate it cannot judge because its own committee source failed', async () => {
    const bytes = await certify(await committeeFixture(), 4)
    const broken: CommitteeSource = {
      getCommittee: async () => {
        throw new Error('EIO: committee file unreadable')
      },
      epochs: async () => [],
    }
    expect(await judgeCertificate(broken, bytes)).toBe('ignore')
  })

  it('remembers what it accepted: a replay is ignored without a pairing, and the memory is bounded', async () => {
    const fixture = await committeeFixture()
    const [a, b] = [await certify(fixture, 5), await certify(fixture, 6)]
    const source = new CountingSource(fixture.source)
    const judge = new CertificateJudge(source, 1)
    expect(await judge.judge(a)).toBe('accept')
    expect(await judge.judge(a)).toBe('ignore')
    expect(source.lookups).toBe(1)
    expect(await judge.judge(new Uint8Array([1, 2, 3]))).toBe('reject')
    expect(await judge.judge(a)).toBe('ignore')
    // Capacity 1: accepting another certificate forgets the first, which is then judged afresh.
    expect(await judge.judge(b)).toBe('accept')
    expect(await judge.judge(a)).toBe('accept')
    expect(source.lookups).toBe(3)
  })
})

describe('certificate gossip message ids', () => {
  let nodes: DacnetLibp2p[] = []
  afterAll(() => stopAll(nodes))

  it('treats the same certificate republished by another peer as the same message: validated once', async () => {
    nodes = await startNodes(3)
    const [hub, publisher, replayer] = nodes as [DacnetLibp2p, DacnetLibp2p, DacnetLibp2p]
    await publisher.dial(hub.getMultiaddrs())
    await replayer.dial(hub.getMultiaddrs())
    const bytes = await certify(await committeeFixture(), 7)
    let validations = 0
    let deliveries = 0
    joinCertificateGossip(hub, {
      validate: () => {
        validations++
        return 'accept'
      },
      onCertificate: () => deliveries++,
    })
    joinCertificateGossip(publisher, { validate: () => 'accept' })
    joinCertificateGossip(replayer, { validate: () => 'accept' })
    await waitFor(
      () => (hub.services.pubsub!.getSubscribers(CERTIFICATE_TOPIC).length >= 2 ? true : undefined),
      5_000,
      'subscribers',
    )

    await publishCertificate(publisher, bytes)
    await waitFor(() => (deliveries === 1 ? true : undefined), 5_000, 'the first delivery')
    // The replayer signs it with its own key and sequence number: still the same message id.
    await publishCertificate(replayer, bytes)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect([validations, deliveries]).toEqual([1, 1])
  }, 20_000)
})
