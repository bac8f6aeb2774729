import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { KeystoreKdf } from '../../attest/keystore.ts'
import { loadOrCreatePeerKey } from '../../p2p/identity.ts'
import { CONFIG_FILE, MEMBER_CARD_FILE } from '../config/types.ts'
import { toJson, writeFileAtomic } from '../files.ts'
import { createCommitteeFile } from '../operator/committee-file.ts'
import { createNodeDir } from '../operator/node-dir.ts'
import { freeLoopbackPorts } from './ports.ts'
import { devnetStakes } from './stakes.ts'

/**
 * Devnet keystores use a light scrypt (2^14 instead of EIP-2335's 2^18: about 16 MiB and a few ms per
 * unlock instead of 256 MiB and a second), so that six nodes start at once on a laptop. Their keys are
 * throwaway; each keystore says so in its description.
 */
export const DEVNET_KDF: KeystoreKdf = { function: 'scrypt', n: 16384, r: 8, p: 1 }
const DEVNET_KEYSTORE_NOTE = 'dacnet devnet keystore: light KDF parameters, for throwaway test keys only'
/** Network id of devnets: "dac" in ASCII, far from any id a real network would pick by counting up. */
export const DEVNET_NETWORK_ID = 0x646163

export interface DevnetNode {
  name: string
  dir: string
  configPath: string
  logPath: string
  peerId: string
  stake: bigint
  multiaddr: string
  apiUrl: string
}

export interface DevnetLayout {
  root: string
  networkId: number
  committeePath: string
  certificatesDir: string
  /** The devnet's own sequencer identity. */
  sequencerKeyPath: string
  /** A second registered sequencer, for `dacnet disperse --key` against the running devnet. */
  clientKeyPath: string
  nodes: DevnetNode[]
}

/**
 * Lays out a devnet under `root`: one node directory per member (as `init` makes them, on loopback ports
 * picked now so the committee file can list them), two sequencer keys, the committee file, and
 * `devnet.json` describing it all.
 */
export async function createDevnetLayout(
  root: string,
  opts: { nodes: number; networkId: number },
): Promise<DevnetLayout> {
  const certificatesDir = join(root, 'certificates')
  await mkdir(certificatesDir, { recursive: true })
  const committeePath = join(root, 'committee.json')
  const ports = await freeLoopbackPorts(2 * opts.nodes)
  const stakes = devnetStakes(opts.nodes)
  const nodes: DevnetNode[] = []
  for (let i = 0; i < opts.nodes; i++) {
    const name = `node-${i + 1}`
    const dir = join(root, 'nodes', name)
    const [p2pPort, apiPort] = [ports[2 * i]!, ports[2 * i + 1]!]
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const password = randomBytes(16).toString('hex')
    await writeFileAtomic(join(dir, 'password.txt'), password, { mode: 0o600 })
    const card = await createNodeDir({
      dir,
      password,
      kdf: DEVNET_KDF,
      keystoreDescription: DEVNET_KEYSTORE_NOTE,
      config: {
        passwordFile: 'password.txt',
        committeeFile: relative(dir, committeePath),
        listen: [`/ip4/127.0.0.1/tcp/${p2pPort}`],
        localNetwork: true,
        apiHost: '127.0.0.1',
        apiPort,
      },
    })
    nodes.push({
      name,
      dir,
      configPath: join(dir, CONFIG_FILE),
      logPath: join(dir, 'node.log'),
      peerId: card.peerId,
      stake: stakes[i]!,
      multiaddr: card.multiaddrs[0]!,
      apiUrl: `http://127.0.0.1:${apiPort}`,
    })
  }
  const sequencerKeyPath = join(root, 'sequencer.key')
  const clientKeyPath = join(root, 'client.key')
  const sequencers = []
  for (const path of [sequencerKeyPath, clientKeyPath]) {
    sequencers.push(peerIdFromPrivateKey(await loadOrCreatePeerKey(path)).toString())
  }
  await createCommitteeFile(
    {
      networkId: opts.networkId,
      epoch: 0,
      card: nodes.map((n) => `${join(n.dir, MEMBER_CARD_FILE)}:${n.stake}`),
      sequencer: sequencers,
      threshold: '2/3',
      adversary: '1/3',
      out: committeePath,
    },
    committeePath,
    root,
  )
  const layout: DevnetLayout = {
    root,
    networkId: opts.networkId,
    committeePath,
    certificatesDir,
    sequencerKeyPath,
    clientKeyPath,
    nodes,
  }
  await writeFileAtomic(join(root, 'devnet.json'), `${toJson(layout)}\n`)
  return layout
}
