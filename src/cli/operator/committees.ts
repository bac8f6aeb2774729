import { blsKeyVerifier } from '../../attest/pop.ts'
import { ChainCommitteeSource } from '../../chain/committee-source.ts'
import type { Committee } from '../../committee/committee.ts'
import { FileCommitteeSource } from '../../committee/file-source.ts'
import type { CommitteeSource } from '../../committee/source.ts'
import type { Logger } from '../../logger.ts'
import { currentCommittee } from '../../node/epochs.ts'
import type { NodeConfig } from '../config/types.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists } from '../files.ts'

/** Where a node's committees come from: its committee file, or the registry on the chain its config names. */
export interface NodeCommittees {
  readonly source: CommitteeSource
  /** Set when the committees come from a file (SIGHUP reloads it). */
  readonly file: FileCommitteeSource | undefined
  /** Set when they come from the chain (its status goes to /health and the metrics). */
  readonly chain: ChainCommitteeSource | undefined
  /** The committees a node checks its key against at start and dials: every epoch of a file, the one in force on a chain. */
  known(): Promise<readonly Committee[]>
  stop(): Promise<void>
}

export async function openNodeCommittees(config: NodeConfig, logger: Logger): Promise<NodeCommittees> {
  if (config.chain) {
    const chain = new ChainCommitteeSource({
      rpcUrl: config.chain.rpcUrl,
      registry: config.chain.registry as `0x${string}`,
      verifier: blsKeyVerifier,
      confirmations: config.chain.confirmations,
      pollIntervalMs: Math.round(config.chain.pollIntervalSeconds * 1000),
      maxHeadStallMs: Math.round(config.chain.maxHeadStallSeconds * 1000),
      logger,
    })
    await chain.start()
    if (chain.status().state === 'starting') {
      logger.warn('the chain is not reachable yet: the node takes no stores until it has read its committee', {
        rpcUrl: config.chain.rpcUrl,
        error: chain.status().lastError,
      })
    }
    return {
      source: chain,
      file: undefined,
      chain,
      async known() {
        return currentCommittee(chain).then(
          (c) => [c],
          () => [],
        )
      },
      stop: () => chain.stop(),
    }
  }
  if (!(await pathExists(config.committeeFile))) {
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `committee file ${config.committeeFile} does not exist`, {
      hint: 'write it with `dacnet committee create`, set committeeFile, or follow a chain with the chain section',
    })
  }
  const file = new FileCommitteeSource(config.committeeFile, { verifier: blsKeyVerifier })
  await file.registry()
  return {
    source: file,
    file,
    chain: undefined,
    async known() {
      return (await file.registry()).committees
    },
    async stop() {},
  }
}
