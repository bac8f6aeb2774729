/**
 * A small committee on loopback for the browser tests and bench: real committee nodes (libp2p with TCP and
 * WebSockets, LevelDB) in this process, blobs dispersed into certificates written where `dacnet web` reads
 * them, and the web server started on the same committees.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Certificate } from '../../src/attest/certificate.ts'
import { certificateBlobId } from '../../src/attest/certificate.ts'
import { certificateToJson } from '../../src/attest/certificate-codec.ts'
import { Disperser } from '../../src/node/disperser.ts'
import type { DacnetLibp2p } from '../../src/p2p/node.ts'
import { startWebServer, type WebServer } from '../../src/web/server.ts'
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
} from '../node/harness.ts'

export const NETWORK = 5151

export interface BrowserDevnet {
  members: RunningMember[]
  committees: SwappableCommitteeSource
  sequencer: DacnetLibp2p
  web: WebServer
  /** Disperses `size` random bytes; writes the certificate where the web server finds it. */
  disperse(size: number, seed: number): Promise<Certificate>
  stop(): Promise<void>
}

export async function startBrowserDevnet(stakes: bigint[], opts: { bundleDir?: string } = {}): Promise<BrowserDevnet> {
  const dir = await mkdtemp(join(tmpdir(), 'dacnet-browser-'))
  const certificateDir = join(dir, 'certificates')
  const committees = new SwappableCommitteeSource()
  const members: RunningMember[] = []
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })]
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {})
  }
  try {
    for (const stake of stakes) {
      const member = await startMember(await memberIdentity(stake), committees, {
        listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
      })
      members.push(member)
      stops.push(async () => {
        await member.node.stop()
        await removeDirs([member.dir])
      })
    }
    const sequencer = await startClient('server')
    stops.push(async () => sequencer.stop())
    committees.registry = registryOf(NETWORK, [
      {
        epoch: 0,
        members: members.map((m) => ({ identity: m.identity, addresses: m.node.addresses() })),
        sequencers: [sequencer.peerId.toString()],
      },
    ])
    const pool = new ErasurePool({ size: 1 })
    stops.push(() => pool.close())
    const disperser = new Disperser({ libp2p: sequencer, committees, pool }, { memberTimeoutMs: 15_000 })
    const web = await startWebServer({
      committees,
      certificateDir,
      ...(opts.bundleDir ? { bundleDir: opts.bundleDir } : {}),
    })
    stops.push(() => web.close())
    await import('node:fs/promises').then((fs) => fs.mkdir(certificateDir, { recursive: true }))
    return {
      members,
      committees,
      sequencer,
      web,
      async disperse(size, seed) {
        const { certificate } = await disperser.disperse(randomData(size, prng(seed)))
        const json = certificateToJson(certificate)
        await writeFile(join(certificateDir, `${certificateBlobId(certificate)}.json`), JSON.stringify(json))
        return certificate
      },
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
