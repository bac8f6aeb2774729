import { describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/attest/aggregator.ts'
import { signAttestation } from '../../src/attest/attestation.ts'
import { encodeCertificate } from '../../src/attest/certificate-codec.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { StaticCommitteeSource } from '../../src/committee/source.ts'
import { encodeBlob } from '../../src/erasure/encode.ts'
import { judgeCertificate } from '../../src/node/certificates.ts'
import { memberIdentity, registryOf } from './harness.ts'

describe('judging gossiped certificates', () => {
  it('accepts a valid certificate, ignores an unknown epoch and rejects forgeries and garbage', async () => {
    const identities = await Promise.all([5n, 3n, 2n].map((s) => memberIdentity(s)))
    const spec = { members: identities.map((identity) => ({ identity })), sequencers: [] }
    const registry = registryOf(9, [{ epoch: 0, ...spec }])
    const committee = registry.committees[0]!
    const blob = encodeBlob(new Uint8Array(5000).fill(3), { networkId: 9, epoch: 0, ...committee.encoding })
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
})
