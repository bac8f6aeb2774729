import { stat } from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Registry } from 'prom-client'
import { type ApiServer, startApiServer } from '../../api/index.ts'
import { isBearerToken } from '../../api/options.ts'
import type { SecretKey } from '../../attest/bls.ts'
import { publicKeyOf } from '../../attest/keys.ts'
import { decryptKeystore, MAX_KEYSTORE_FILE_BYTES } from '../../attest/keystore.ts'
import type { Committee } from '../../committee/committee.ts'
import { createLogger, type Logger } from '../../logger.ts'
import { CommitteeNode } from '../../node/committee-node.ts'
import { Disperser } from '../../node/disperser.ts'
import { MAX_PEER_KEY_FILE_BYTES, parsePeerKey } from '../../p2p/identity.ts'
import { createDacnetLibp2p } from '../../p2p/node.ts'
import { ShardStore } from '../../storage/index.ts'
import type { NodeConfig } from '../config/types.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, readFileChecked } from '../files.ts'
import type { CliIo } from '../io.ts'
import { resolvePassword } from '../password.ts'
import { type NodeCommittees, openNodeCommittees } from './committees.ts'

/** A token is a line. */
const MAX_TOKEN_BYTES = 4096

export interface DaemonOverrides {
  passwordFile?: string | undefined
  /** DACNET_* variables that are no config key (loadNodeConfig's `unknownEnv`): warned about before anything starts. */
  unknownEnv?: readonly string[]
}

export interface RunningDaemon {
  node: CommitteeNode
  committees: NodeCommittees
  api: ApiServer | undefined
  logger: Logger
  /** Stops taking API requests, finishes stores under way, stops libp2p and closes the database. */
  stop(): Promise<void>
}

/**
 * Starts a committee node from its config: files and keys first (a missing file or a wrong password fails
 * before anything opens), then the committee file, the store, libp2p, the node and the API. Whatever was opened is closed again if
 * a later step fails.
 */
export async function startDaemon(
  config: NodeConfig,
  io: CliIo,
  overrides: DaemonOverrides = {},
): Promise<RunningDaemon> {
  const logger = createLogger({ level: config.log.level, json: config.log.json, write: (line) => io.err(`${line}\n`) })
  for (const name of overrides.unknownEnv ?? []) {
    logger.warn('environment variable is not a config key: ignored (check its spelling)', { name })
  }
  // Every file first, so a missing one is reported before the password is asked for.
  const keystore = await readFileChecked(config.keystore.path, 'keystore', MAX_KEYSTORE_FILE_BYTES)
  const peerKey = parsePeerKey(
    await readFileChecked(config.peerKeyFile, 'peer key', MAX_PEER_KEY_FILE_BYTES),
    config.peerKeyFile,
  )
  const token = config.api.tokenFile ? await readToken(config.api.tokenFile) : undefined
  if (config.chain === null && !(await pathExists(config.committeeFile))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `committee file ${config.committeeFile} does not exist`, {
      hint: 'write it with `dacnet committee create`, set committeeFile, or follow a chain with the chain section',
    })
  }
  await checkDataDir(config.dataDir)
  const password = await resolvePassword(io, { file: overrides.passwordFile ?? config.keystore.passwordFile })
  const secretKey = await decryptKeystore(keystore.toString('utf8'), password)
  const committees = await openNodeCommittees(config, logger)
  let known: readonly Committee[]
  const peerId = peerIdFromPrivateKey(peerKey).toString()
  try {
    known = await committees.known()
    checkMembership(known, peerId, secretKey, logger)
  } catch (err) {
    await committees.stop()
    throw err
  }

  const metrics = new Registry()
  const store = await ShardStore.open(config.dataDir, {
    quotaBytes: config.storage.quotaBytes,
    retentionMs: config.storage.retentionSeconds * 1000,
    pruneIntervalMs: config.storage.pruneIntervalSeconds * 1000,
    syncReads: config.storage.syncReads,
    onCorruptEntry: (entry) => logger.error('corrupt entry quarantined', { ...entry }),
    onBackgroundError: (err) => logger.warn('background prune failed; retrying at the next interval', { error: err }),
  })
  const cleanup: (() => Promise<unknown>)[] = [() => committees.stop(), () => store.close()]
  try {
    const libp2p = await createDacnetLibp2p({
      privateKey: peerKey,
      dhtMode: 'server',
      listen: config.network.listen,
      ...(config.network.announce.length > 0 ? { announce: config.network.announce } : {}),
      localNetwork: config.network.localNetwork,
      metricsRegistry: metrics,
    })
    cleanup.unshift(async () => await libp2p.stop())
    const node = new CommitteeNode(
      { libp2p, store, committees: committees.source, secretKey, logger: logger.child({ component: 'node' }) },
      {
        maxBlobSize: config.maxBlobSize,
        bootstrap: bootstrapList(config, known, peerId),
        servingBytesPerSecond: config.servingBytesPerSecond,
      },
    )
    await node.start()
    cleanup.unshift(() => node.stop())
    const disperser = config.api.enableDisperse
      ? new Disperser(
          {
            libp2p,
            committees: committees.source,
            localMember: node.asLocalMember(),
            logger: logger.child({ component: 'disperser' }),
          },
          { maxBlobSize: config.maxBlobSize },
        )
      : undefined
    if (disperser) cleanup.unshift(() => disperser.close())
    const api = config.api.enabled
      ? await startApiServer({
          node,
          ...(disperser && token ? { disperser, token } : {}),
          host: config.api.host,
          allowedHosts: config.api.allowedHosts,
          port: config.api.port,
          registry: metrics,
          logger,
          maxUploadBytes: config.maxBlobSize,
          ...(committees.chain ? { chain: committees.chain } : {}),
        })
      : undefined
    return {
      node,
      committees,
      api,
      logger,
      async stop() {
        await api?.close()
        await disperser?.close()
        await node.stop()
        await committees.stop()
      },
    }
  } catch (err) {
    for (const step of cleanup) await step().catch(() => {})
    throw err
  }
}

/**
 * A node whose peer id the committee lists with another key would sign attestations nobody can verify:
 * refuse to start. A node in no epoch yet starts anyway (it may be added by an appended epoch or a registration).
 */
function checkMembership(committees: readonly Committee[], peerId: string, secretKey: SecretKey, logger: Logger): void {
  const publicKey = Buffer.from(publicKeyOf(secretKey))
  for (const committee of committees) {
    const member = committee.memberByPeerId(peerId)
    if (member && !publicKey.equals(member.publicKey)) {
      throw cliError(
        CliErrorCode.KEY_MISMATCH,
        `epoch ${committee.epoch} lists peer ${peerId} with another BLS key than this keystore's`,
        { epoch: committee.epoch },
      )
    }
  }
  const current = committees.at(-1)
  if (!current) return
  const keyOnly = current.sequencers.filter((s) => s.peerId === undefined).length
  if (keyOnly > 0) {
    logger.warn('sequencers listed by public key alone cannot store: members authorise stores by peer id', {
      epoch: current.epoch,
      sequencers: keyOnly,
    })
  }
  if (!current.memberByPeerId(peerId)) {
    logger.warn('this node is not a member of the current epoch: it will refuse stores until an epoch lists it', {
      peerId,
      epoch: current.epoch,
    })
  }
}

/** Configured bootstrap addresses, plus every other member's listed addresses in the newest epoch. */
function bootstrapList(config: NodeConfig, committees: readonly Committee[], self: string): string[] {
  const list = [...config.network.bootstrap]
  if (config.network.bootstrapFromCommittee) {
    for (const member of committees.at(-1)?.members ?? []) {
      if (member.peerId !== self) list.push(...member.multiaddrs)
    }
  }
  return [...new Set(list)]
}

/**
 * The data directory must exist: it is never created here, so a typo in dataDir or a volume that is not
 * mounted refuses to start instead of starting an empty store (that attests nothing it held before).
 * `dacnet init` creates it.
 */
async function checkDataDir(dataDir: string): Promise<void> {
  const info = await stat(dataDir).catch(() => undefined)
  if (info === undefined) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `data directory ${dataDir} (dataDir) does not exist`, {
      field: 'dataDir',
      path: dataDir,
      hint: 'a missing data directory is never created (a typo or an unmounted volume would start an empty store): fix dataDir, mount the volume, or create it (mkdir -m 700); `dacnet init` creates DIR/data',
    })
  }
  if (!info.isDirectory()) {
    throw cliError(CliErrorCode.READ_FAILED, `data directory ${dataDir} (dataDir) is not a directory`, {
      field: 'dataDir',
      path: dataDir,
    })
  }
}

async function readToken(path: string): Promise<string> {
  const token = (await readFileChecked(path, 'API token file', MAX_TOKEN_BYTES)).toString('utf8').trim()
  if (token.length === 0)
    throw cliError(CliErrorCode.CONFIG_INVALID, `API token file ${path} is empty`, { field: 'api.tokenFile' })
  // Checked here, before anything starts, by the API's own rule.
  if (!isBearerToken(token)) {
    throw cliError(
      CliErrorCode.CONFIG_INVALID,
      `API token file ${path} must hold one word of visible ASCII characters (no spaces, no other characters)`,
      { field: 'api.tokenFile' },
    )
  }
  return token
}
