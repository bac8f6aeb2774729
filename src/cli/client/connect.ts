import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { dialBootstrap } from '../../node/peers.ts'
import { MAX_PEER_KEY_FILE_BYTES, parsePeerKey } from '../../p2p/identity.ts'
import { createDacnetLibp2p, type DacnetLibp2p } from '../../p2p/node.ts'
import { CERTIFICATE_TOPIC } from '../../p2p/protocols.ts'
import { settleWithin } from '../../timing.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, readFileChecked } from '../files.ts'

/** Time for the start-up dials to the committee; members that do not answer are dialled again on demand. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000

export async function readPeerKey(path: string): Promise<PrivateKey> {
  if (!(await pathExists(path))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `key file ${path} does not exist`, {
      hint: 'create one with `dacnet identity --key FILE`, and register its peer id as a sequencer in the committee file',
    })
  }
  return parsePeerKey(await readFileChecked(path, 'key file', MAX_PEER_KEY_FILE_BYTES), path)
}

export interface ClientNode {
  libp2p: DacnetLibp2p
  stop(): Promise<void>
}

/**
 * A short-lived libp2p client (DHT client mode, no listen address) connected to the committee: it dials
 * `members` (the listed addresses of the epoch in force) plus any extra bootstrap addresses, in parallel.
 */
export async function startClientNode(opts: {
  members: readonly string[]
  bootstrap?: readonly string[] | undefined
  privateKey?: PrivateKey | undefined
}): Promise<ClientNode> {
  const libp2p = await createDacnetLibp2p({
    privateKey: opts.privateKey ?? (await generateKeyPair('Ed25519')),
    dhtMode: 'client',
    listen: [],
  })
  await libp2p.start()
  const addresses = [...new Set([...opts.members, ...(opts.bootstrap ?? [])])]
  await dialBootstrap(libp2p, addresses, { timeoutMs: DEFAULT_CONNECT_TIMEOUT_MS })
  return { libp2p, stop: () => stopWithin(libp2p, CLIENT_STOP_TIMEOUT_MS) }
}

/** A client command's result is out before its libp2p stops: the stop is waited for this long at most. */
export const CLIENT_STOP_TIMEOUT_MS = 3_000

/**
 * Stops libp2p, or gives up waiting after `ms`: a connection that never reports closing must not hold a finished
 * command (the CLI exits once the command returns, which ends whatever is left).
 */
export async function stopWithin(libp2p: { stop(): void | Promise<void> }, ms: number): Promise<void> {
  await settleWithin(
    Promise.resolve().then(() => libp2p.stop()),
    ms,
  )
}

/** How long a short-lived client waits to learn which peers take certificate gossip. */
export const DEFAULT_GOSSIP_WAIT_MS = 3_000

/**
 * Waits until at least `min` connected peers are known to subscribe to the certificate topic (or the time
 * is up). Subscriptions are exchanged just after a connection opens; a certificate published before that
 * reaches nobody, so a client that has just connected waits here before publishing.
 */
export async function waitForGossipPeers(
  libp2p: DacnetLibp2p,
  min: number,
  timeoutMs = DEFAULT_GOSSIP_WAIT_MS,
): Promise<number> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const count = libp2p.services.pubsub.getSubscribers(CERTIFICATE_TOPIC).length
    if (count >= min || performance.now() >= deadline) return count
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
