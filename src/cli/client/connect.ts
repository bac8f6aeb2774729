import type { PrivateKey } from '@libp2p/interface'
import type { Certificate } from '../../attest/certificate.ts'
import type { CommitteeSource } from '../../committee/source.ts'
import type { Logger } from '../../logger.ts'
import { createClient, type DacnetClient, DEFAULT_CONNECT_TIMEOUT_MS } from '../../node/client.ts'
import type { DisperserOptions } from '../../node/dispersal-options.ts'
import { MAX_PEER_KEY_FILE_BYTES, parsePeerKey } from '../../p2p/identity.ts'
import { settleWithin } from '../../timing.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, readFileChecked } from '../files.ts'

export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_GOSSIP_WAIT_MS, waitForGossipPeers } from '../../node/client.ts'

/**
 * Whether a command that reads a certified blob needs the DHT: not when every member of the certificate's epoch is
 * listed with addresses, since the holders are then all dialled from the committee (PROTOCOL §3.1) and a client
 * without DHT or gossip does not identify them. It does for a bare blob id (`certificate` undefined: its providers
 * are looked up first), for a member listed without addresses (found through the DHT) and for an epoch the source
 * cannot read (left to the roles, which refuse it).
 */
export async function needsDht(committees: CommitteeSource, certificate: Certificate | undefined): Promise<boolean> {
  if (certificate === undefined) return true
  try {
    const committee = await committees.getCommittee(certificate.header.epoch)
    return !committee.members.every((member) => member.multiaddrs.length > 0)
  } catch {
    return true
  }
}

export async function readPeerKey(path: string): Promise<PrivateKey> {
  if (!(await pathExists(path))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `key file ${path} does not exist`, {
      hint: 'create one with `dacnet identity --key FILE`, and register its peer id as a sequencer in the committee file',
    })
  }
  return parsePeerKey(await readFileChecked(path, 'key file', MAX_PEER_KEY_FILE_BYTES), path)
}

/** A client command's result is out before its libp2p stops: the stop is waited for this long at most. */
export const CLIENT_STOP_TIMEOUT_MS = 3_000

/**
 * A client command's dacnet client (`createClient`): committees from the source the command opened (and stops),
 * a libp2p client dialled to the committee in force plus any extra bootstrap addresses, and the roles. No gossip
 * wait at start (a command that publishes waits after its work, see `disperse`); `stop()` waits for libp2p for
 * CLIENT_STOP_TIMEOUT_MS at most.
 */
export function startClient(
  committees: CommitteeSource,
  opts: {
    bootstrap?: readonly string[] | undefined
    privateKey?: PrivateKey | undefined
    disperser?: DisperserOptions | undefined
    maxBlobSize?: number | undefined
    logger?: Logger | undefined
    /** Certificate gossip: only a command that publishes needs it. Default true. */
    gossip?: boolean | undefined
    /** The DHT: only a command that may look up providers (retrieval) needs it. Default true. */
    dht?: boolean | undefined
    /** Start the erasure workers while connecting: a command that encodes or decodes next. Default false. */
    warmPool?: boolean | undefined
  } = {},
): Promise<DacnetClient> {
  return createClient({
    committees,
    ...(opts.privateKey ? { key: opts.privateKey } : {}),
    ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
    ...(opts.disperser ? { disperser: opts.disperser } : {}),
    ...(opts.maxBlobSize === undefined ? {} : { maxBlobSize: opts.maxBlobSize }),
    ...(opts.logger ? { logger: opts.logger } : {}),
    gossip: opts.gossip ?? true,
    dht: opts.dht ?? true,
    warmPool: opts.warmPool ?? false,
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    gossipWaitMs: 0,
    stopTimeoutMs: CLIENT_STOP_TIMEOUT_MS,
  })
}

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
