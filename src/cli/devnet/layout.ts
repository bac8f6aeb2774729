import { randomBytes } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { KeystoreKdf } from '../../attest/keystore.ts'
import { loadOrCreatePeerKey } from '../../p2p/identity.ts'
import { CONFIG_FILE, MEMBER_CARD_FILE } from '../config/types.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, toJson, writeFileAtomic } from '../files.ts'
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
/** The file a devnet directory is recognised by: its layout, as createDevnetLayout wrote it. */
export const DEVNET_FILE = 'devnet.json'

export interface DevnetNode {
  name: string
  dir: string
  configPath: string
  logPath: string
  peerId: string
  stake: bigint
  /** The first of `multiaddrs` (libp2p over TCP): what the devnet's tables show. */
  multiaddr: string
  /** Every address the node announces: TCP, and WebSockets for browser light clients. */
  multiaddrs?: string[]
  apiUrl: string
  /** With a chain: the operator's Ethereum key (mode 0600), for `dacnet stake` and friends against the devnet. */
  ethKeyPath: string
  /** False for the spare node a chain devnet registers later, during the run. */
  member: boolean
}

export interface DevnetLayout {
  root: string
  networkId: number
  /** The committee file, without a chain; undefined with one (committees come from the chain). */
  committeePath: string | undefined
  /** DIR/chain.json, with a chain: rpcUrl, chainId, registry, certificateVerifier, token. */
  chainPath: string | undefined
  certificatesDir: string
  /** The devnet's own sequencer identity. */
  sequencerKeyPath: string
  /** A second registered sequencer, for `dacnet disperse --key` against the running devnet. */
  clientKeyPath: string
  /** The peer ids of the two sequencer keys. */
  sequencers: string[]
  nodes: DevnetNode[]
}

/** How devnet nodes follow a chain (the rest of the chain section keeps its defaults). */
export interface DevnetChainConfig {
  rpcUrl: string
  registry: string
  confirmations: number
  pollIntervalSeconds: number
  maxHeadStallSeconds: number
}

/**
 * Lays out a devnet under `root`: one node directory per member (as `init` makes them, on loopback ports
 * picked now so the committee can list them), two sequencer keys, and `devnet.json` describing it all. Without a
 * chain it writes the committee file; with one, the nodes' configs follow the chain and `spare` more nodes are
 * laid out that are not members yet.
 */
export async function createDevnetLayout(
  root: string,
  opts: { nodes: number; networkId: number; chain?: DevnetChainConfig | undefined; spare?: number },
): Promise<DevnetLayout> {
  const certificatesDir = join(root, 'certificates')
  await mkdir(certificatesDir, { recursive: true })
  const committeePath = join(root, 'committee.json')
  const total = opts.nodes + (opts.chain ? (opts.spare ?? 0) : 0)
  // Per node: libp2p over TCP, libp2p over WebSockets (what a browser light client dials), the HTTP API.
  const ports = await freeLoopbackPorts(3 * total)
  const stakes = devnetStakes(total)
  const nodes: DevnetNode[] = []
  for (let i = 0; i < total; i++) {
    const name = `node-${i + 1}`
    const dir = join(root, 'nodes', name)
    const [p2pPort, wsPort, apiPort] = [ports[3 * i]!, ports[3 * i + 1]!, ports[3 * i + 2]!]
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
        ...(opts.chain ? { chain: opts.chain } : { committeeFile: relative(dir, committeePath) }),
        listen: [`/ip4/127.0.0.1/tcp/${p2pPort}`, `/ip4/127.0.0.1/tcp/${wsPort}/ws`],
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
      multiaddrs: card.multiaddrs,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      ethKeyPath: join(dir, 'eth.key'),
      member: i < opts.nodes,
    })
  }
  const sequencerKeyPath = join(root, 'sequencer.key')
  const clientKeyPath = join(root, 'client.key')
  const sequencers = []
  for (const path of [sequencerKeyPath, clientKeyPath]) {
    sequencers.push(peerIdFromPrivateKey(await loadOrCreatePeerKey(path)).toString())
  }
  if (!opts.chain) {
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
  }
  const layout: DevnetLayout = {
    root,
    networkId: opts.networkId,
    committeePath: opts.chain ? undefined : committeePath,
    chainPath: opts.chain ? join(root, 'chain.json') : undefined,
    certificatesDir,
    sequencerKeyPath,
    clientKeyPath,
    sequencers,
    nodes,
  }
  await writeFileAtomic(join(root, DEVNET_FILE), `${toJson(layout)}\n`)
  return layout
}

/**
 * The layout of the devnet kept in `root` by an earlier run (`devnet --out DIR`), or undefined when `root` holds
 * none. A devnet.json that does not describe a devnet whose node directories are all there is refused
 * (CLI_READ_FAILED): restarting half a devnet would start nodes without their keys.
 */
export async function readDevnetLayout(root: string): Promise<DevnetLayout | undefined> {
  const path = join(root, DEVNET_FILE)
  if (!(await pathExists(path))) return undefined
  let layout: DevnetLayout
  try {
    layout = JSON.parse(await readFile(path, 'utf8'), (key, value) =>
      key === 'stake' && typeof value === 'string' ? BigInt(value) : value,
    ) as DevnetLayout
  } catch (err) {
    throw cliError(CliErrorCode.READ_FAILED, `${path} is not a devnet layout: ${(err as Error).message}`, { path })
  }
  if (!Array.isArray(layout.nodes) || layout.nodes.length === 0 || typeof layout.networkId !== 'number') {
    throw cliError(CliErrorCode.READ_FAILED, `${path} is not a devnet layout: no nodes`, { path })
  }
  for (const node of layout.nodes) {
    if (!(await pathExists(node.configPath))) {
      throw cliError(CliErrorCode.READ_FAILED, `${path} names ${node.configPath}, which is gone`, { path })
    }
  }
  return layout
}

/**
 * Points every node of a restarted chain devnet at the new chain: the `chain.rpcUrl` and `chain.registry` of each
 * node's config.json (the rest of the config, and the node's keys and store, stay as they were).
 */
export async function followNewChain(layout: DevnetLayout, chain: DevnetChainConfig): Promise<void> {
  for (const node of layout.nodes) {
    const config = JSON.parse(await readFile(node.configPath, 'utf8')) as { chain?: Record<string, unknown> | null }
    config.chain = { ...(config.chain ?? {}), rpcUrl: chain.rpcUrl, registry: chain.registry }
    await writeFileAtomic(node.configPath, `${toJson(config)}\n`)
  }
}
