import { describe, expect, it } from 'vitest'
import type { Certificate } from '../../src/attest/certificate.ts'
import { needsDht } from '../../src/cli/client/connect.ts'
import { StaticCommitteeSource } from '../../src/committee/source.ts'
import { memberIdentity, registryOf } from '../node/harness.ts'

/** Which reading commands (`dacnet sample`, `dacnet retrieve`) start their client with the DHT. */

const ADDRESS = '/ip4/127.0.0.1/tcp/4001'

async function committeeWith(addresses: (string[] | undefined)[]): Promise<StaticCommitteeSource> {
  const identities = await Promise.all(addresses.map((_, i) => memberIdentity(BigInt(10 + i))))
  const members = identities.map((identity, i) => ({ identity, addresses: addresses[i] }))
  return new StaticCommitteeSource(registryOf(7, [{ epoch: 0, members, sequencers: [] }]))
}

/** Only the epoch of a certificate's header is read. */
const certificateOf = (epoch: number) => ({ header: { epoch } }) as unknown as Certificate

describe('needsDht', () => {
  it('leaves the DHT out when every member of the epoch is listed with addresses', async () => {
    expect(await needsDht(await committeeWith([[ADDRESS], [ADDRESS]]), certificateOf(0))).toBe(false)
  })

  it('keeps it for a member listed without addresses, a bare blob id and an epoch the source does not have', async () => {
    const partly = await committeeWith([[ADDRESS], undefined])
    expect(await needsDht(partly, certificateOf(0))).toBe(true)
    const listed = await committeeWith([[ADDRESS], [ADDRESS]])
    expect(await needsDht(listed, undefined)).toBe(true)
    expect(await needsDht(listed, certificateOf(9))).toBe(true)
  })
})
