/**
 * A committee run as the devnet runs it, from the devnet's own building blocks: a local chain with the members
 * registered and staked (or a committee file), every node its own `dacnet node` process on loopback with the
 * devnet's unequal stakes, and the sequencer, light client and retriever in this process (DevnetRoles).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SecretKey } from '../../src/attest/bls.ts'
import { decryptKeystore } from '../../src/attest/keystore.ts'
import { KEYSTORE_FILE } from '../../src/cli/config/types.ts'
import { CommandContext } from '../../src/cli/context.ts'
import {
  DEFAULT_DEVNET_EPOCH_BLOCKS,
  DEVNET_CONFIRMATIONS,
  DevnetChain,
  devnetChainConfig,
} from '../../src/cli/devnet/chain.ts'
import { DEFAULT_READY_TIMEOUT_MS, type NodeProcess } from '../../src/cli/devnet/children.ts'
import { createDevnetLayout, DEVNET_NETWORK_ID, type DevnetLayout } from '../../src/cli/devnet/layout.ts'
import { DevnetRoles } from '../../src/cli/devnet/roles.ts'
import { stakeAndRegister, startNodes, stopNodes } from '../../src/cli/devnet/run.ts'
import { processIo } from '../../src/cli/io.ts'
import type { Committee } from '../../src/committee/committee.ts'
import { currentCommittee } from '../../src/node/epochs.ts'
import { trackDir, trackProcess, untrackDir } from './cleanup.ts'

/** Where the committee comes from: the devnet's default (a chain, as `npm start` runs it) or a file (`--no-chain`). */
export type CommitteeKind = 'chain' | 'file'

/** Node start-up on two cores: every node loads its modules at once, so the time grows with the committee. */
const READY_MS_PER_NODE = 4_000
/** How often the wait for dispersals still sending to slow members looks again. */
const SETTLE_POLL_MS = 5
/** How often, and how long at most, the wait for members' provider records looks again. */
const PROVIDERS_POLL_MS = 100
const PROVIDERS_PUBLISHED_TIMEOUT_MS = 120_000

/** Notes go to stderr, as the devnet's do; stdout carries the rows only. */
export const benchContext = new CommandContext({ ...processIo(), out: (data) => process.stderr.write(data) })

export function note(text: string): void {
  benchContext.note(`e2e: ${text}`)
}

export class BenchCluster {
  readonly kind: CommitteeKind
  readonly layout: DevnetLayout
  readonly roles: DevnetRoles
  readonly committee: Committee
  /** The node process of each member, by member index. */
  readonly memberNodes: readonly NodeProcess[]
  readonly #children: NodeProcess[]
  readonly #chain: DevnetChain | undefined
  readonly #stopping: AbortController
  readonly #untrack: () => void

  private constructor(init: {
    kind: CommitteeKind
    layout: DevnetLayout
    roles: DevnetRoles
    committee: Committee
    children: NodeProcess[]
    chain: DevnetChain | undefined
    stopping: AbortController
    untrack: () => void
  }) {
    this.kind = init.kind
    this.layout = init.layout
    this.roles = init.roles
    this.committee = init.committee
    this.#children = init.children
    this.#chain = init.chain
    this.#stopping = init.stopping
    this.#untrack = init.untrack
    this.memberNodes = init.committee.members.map((member) => {
      const child = init.children.find((c) => c.node.peerId === member.peerId)
      if (!child) throw new Error(`member ${member.index} (${member.peerId}) has no node process`)
      return child
    })
  }

  get size(): number {
    return this.committee.size
  }

  /** Every node's pid, by member index. */
  pids(): number[] {
    return this.memberNodes.map((n) => n.pid!)
  }

  static async start(members: number, kind: CommitteeKind, signal: AbortSignal): Promise<BenchCluster> {
    const started = performance.now()
    const root = await mkdtemp(join(tmpdir(), 'dacnet-bench-e2e-'))
    trackDir(root)
    const children: NodeProcess[] = []
    const untrack = trackProcess({
      kill: () => {
        for (const child of children) child.kill()
      },
    })
    const stopping = new AbortController()
    let chain: DevnetChain | undefined
    let roles: DevnetRoles | undefined
    try {
      if (kind === 'chain') {
        // The devnet's epochs (ten minutes of one-second blocks): each cluster of the suite lives less than one.
        chain = await DevnetChain.start({ networkId: DEVNET_NETWORK_ID, epochBlocks: DEFAULT_DEVNET_EPOCH_BLOCKS })
      }
      const layout = await createDevnetLayout(root, {
        nodes: members,
        networkId: DEVNET_NETWORK_ID,
        chain: chain && devnetChainConfig(chain.file),
      })
      if (chain) await stakeAndRegister(benchContext, chain, layout)
      signal.throwIfAborted()
      const readyMs = Math.max(DEFAULT_READY_TIMEOUT_MS, READY_MS_PER_NODE * members)
      await startNodes(benchContext, layout, children, signal, stopping.signal, readyMs)
      roles = await DevnetRoles.start(layout, chain)
      const committee = await currentCommittee(roles.committees)
      note(
        `${members} members (${kind} committee; 16 MiB blobs at k=${committee.shapeFor(16 * 1024 * 1024).k} n=${committee.shapeFor(16 * 1024 * 1024).n}) up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      )
      return new BenchCluster({ kind, layout, roles, committee, children, chain, stopping, untrack })
    } catch (err) {
      await teardown(root, children, stopping, roles, chain, untrack)
      throw err
    }
  }

  /** Waits until every dispersal has finished with every member, stragglers after the certificate included. */
  async settled(signal?: AbortSignal): Promise<void> {
    while (this.roles.disperser.unsettled > 0) await sleep(SETTLE_POLL_MS, undefined, signal ? { signal } : {})
  }

  /**
   * Waits until every member has published the DHT provider records of what it stored (they wait for a quiet
   * moment: DEFAULT_PROVIDE_QUIET_MS), so that CPU figures taken after it include them. Reads each member's
   * GET /v1/status.
   */
  async providersPublished(signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + PROVIDERS_PUBLISHED_TIMEOUT_MS
    for (;;) {
      const pending = await Promise.all(
        this.memberNodes.map(async ({ node }) => {
          const response = await fetch(`${node.apiUrl}/v1/status`, signal ? { signal } : {})
          const status = (await response.json()) as { providerRecordsPending?: number }
          return status.providerRecordsPending ?? 0
        }),
      )
      if (pending.every((p) => p === 0)) return
      if (performance.now() > deadline) {
        throw new Error(`members still have provider records to publish: ${pending.join(', ')}`)
      }
      await sleep(PROVIDERS_POLL_MS, undefined, signal ? { signal } : {})
    }
  }

  /** Each member's BLS secret key, by member index, from its node directory's keystore. */
  async secretKeys(): Promise<SecretKey[]> {
    return Promise.all(
      this.memberNodes.map(async ({ node }) => {
        const password = (await readFile(join(node.dir, 'password.txt'), 'utf8')).trim()
        const keystore = JSON.parse(await readFile(join(node.dir, KEYSTORE_FILE), 'utf8'))
        return decryptKeystore(keystore, password)
      }),
    )
  }

  async stop(): Promise<void> {
    await teardown(this.layout.root, this.#children, this.#stopping, this.roles, this.#chain, this.#untrack)
  }
}

/** Roles, then nodes (SIGTERM, a clean exit awaited), then the chain, then the directory; each even if one fails. */
async function teardown(
  root: string,
  children: NodeProcess[],
  stopping: AbortController,
  roles: DevnetRoles | undefined,
  chain: DevnetChain | undefined,
  untrack: () => void,
): Promise<void> {
  stopping.abort()
  try {
    await roles?.stop().catch((err) => note(`stopping the sequencer and light client failed: ${err}`))
    const clean = await stopNodes(benchContext, children)
    if (!clean) note('a node did not stop cleanly; its node.log went with the temp dir')
    await chain?.stop()
  } finally {
    untrack()
    await rm(root, { recursive: true, force: true })
    untrackDir(root)
  }
}
