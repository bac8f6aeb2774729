import { rmSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LocalAccount } from 'viem'
import { getJson } from '../client/api.ts'
import type { CommandContext } from '../context.ts'
import { CliErrorCode, cliError, EXIT_FORCED, usageError } from '../errors.ts'
import { formatMs } from '../format.ts'
import { ProgressLine } from '../progress.ts'
import {
  DEFAULT_DEVNET_EPOCH_BLOCKS,
  DEVNET_BLOCK_SECONDS,
  DEVNET_CONFIRMATIONS,
  DEVNET_TOKEN,
  DevnetChain,
  devnetChainConfig,
} from './chain.ts'
import { NodeProcess } from './children.ts'
import { createDevnetLayout, DEVNET_FILE, type DevnetLayout, followNewChain, readDevnetLayout } from './layout.ts'
import { nodeProgram } from './node-bundle.ts'
import { blobJsonLine, blobRow, blobTableHeader, devnetBanner, liveLine, tally, tallyLine } from './report.ts'
import { DevnetRoles } from './roles.ts'
import { type BlobOutcome, runBlob } from './workload.ts'

/** A run until Ctrl-C tallies its last this many blobs. */
const MAX_KEPT_OUTCOMES = 10_000
/** Blobs a `--once` run disperses when `--blobs` is not given. */
export const DEFAULT_ONCE_BLOBS = 3
/** Without --blobs and --once the devnet disperses until Ctrl-C: one blob, then this pause, then the next. */
export const CONTINUOUS_BLOB_PAUSE_MS = 1_000
/** Live summary refresh: every 2 s redrawn in place on a terminal, every 30 s as a new line otherwise. */
const LIVE_TTY_INTERVAL_MS = 2_000
const LIVE_LOG_INTERVAL_MS = 30_000

export interface DevnetOptions {
  nodes: number
  /**
   * Blobs to disperse. Undefined: DEFAULT_ONCE_BLOBS with `once`, otherwise one blob after another until Ctrl-C.
   * Given without `once`: that many, then the devnet keeps running with a live summary until Ctrl-C.
   */
  blobs: number | undefined
  blobSize: number
  once: boolean
  json: boolean
  /** Kept here; an earlier devnet kept here is restarted (its keys, committee and stores). */
  out?: string | undefined
  /** Ignored when `out` holds a devnet: its own network id stands. */
  networkId: number
  /** Run a local chain (anvil) that holds stake and committees and verifies every certificate. */
  chain: boolean
  /** Epoch length in blocks (one a second); when given, a member joins and one leaves during the run. */
  epochBlocks: number | undefined
}

/**
 * `dacnet devnet`: lays out a committee, starts each node as its own process, runs a sequencer and a
 * light client here, pushes the blobs through disperse -> sample -> retrieve, and then (without --once)
 * keeps the network up with a live summary until Ctrl-C. Every way out — done, Ctrl-C, SIGTERM, a failure
 * — stops the nodes with SIGTERM and waits for their clean exit.
 */
export async function runDevnet(ctx: CommandContext, opts: DevnetOptions): Promise<void> {
  const stop = new AbortController()
  /** Set once the nodes are being stopped on purpose: their exits are then expected. */
  const stopping = new AbortController()
  const children: NodeProcess[] = []
  let temporaryRoot: string | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      ctx.note('second signal: killing the nodes')
      for (const child of children) child.kill()
      // A devnet without --out leaves nothing behind, not even when forced.
      if (temporaryRoot !== undefined) rmSync(temporaryRoot, { recursive: true, force: true })
      process.exit(EXIT_FORCED)
    }
    // On a terminal the live summary line is still open: end it first.
    ctx.note(`${ctx.io.stderrIsTTY ? '\n' : ''}${signal}: stopping the devnet (again to force)`)
    stop.abort(cliError(CliErrorCode.INTERRUPTED, `stopped by ${signal}`))
  }
  const { root, earlier } = await prepareRoot(opts.out, opts.chain)
  if (opts.out === undefined) temporaryRoot = root
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let roles: DevnetRoles | undefined
  let chain: DevnetChain | undefined
  const outcomes: BlobOutcome[] = []
  const total = opts.blobs ?? (opts.once ? DEFAULT_ONCE_BLOBS : Number.POSITIVE_INFINITY)
  const continuous = total === Number.POSITIVE_INFINITY
  let cleanStop = true
  try {
    // A member joins and another leaves during the run only when the run asked for short epochs to see it (and,
    // for a restarted devnet, when it has the spare node that joins).
    const rotate =
      opts.chain && opts.epochBlocks !== undefined && (earlier === undefined || earlier.nodes.some((n) => !n.member))
    const networkId = earlier?.networkId ?? opts.networkId
    if (opts.chain) {
      chain = await DevnetChain.start({
        networkId,
        epochBlocks: opts.epochBlocks ?? DEFAULT_DEVNET_EPOCH_BLOCKS,
      })
    }
    const chainConfig = chain && devnetChainConfig(chain.file)
    // A signal during set-up ends it at the next step (each step is seconds at most): the finally below stops
    // whatever was started.
    stop.signal.throwIfAborted()
    let layout: DevnetLayout
    if (earlier === undefined) {
      layout = await createDevnetLayout(root, {
        nodes: opts.nodes,
        networkId,
        chain: chainConfig,
        spare: rotate ? 1 : 0,
      })
    } else {
      layout = earlier
      if (chainConfig) await followNewChain(layout, chainConfig)
      ctx.note(restartNote(layout, opts, chain !== undefined))
    }
    stop.signal.throwIfAborted()
    const operators = chain ? await stakeAndRegister(ctx, chain, layout) : undefined
    stop.signal.throwIfAborted()
    ctx.note(devnetBanner(layout, opts.out !== undefined, chain?.file))
    await startNodes(ctx, layout, children, stop.signal, stopping.signal)
    stop.signal.throwIfAborted()
    roles = await DevnetRoles.start(layout, chain)
    if (!opts.json) ctx.io.out(blobTableHeader(chain !== undefined))
    const rotateAfter = Math.max(1, Math.floor((continuous ? DEFAULT_ONCE_BLOBS : total) / 2))
    let rotatedFrom: number | undefined
    for (let i = 1; i <= total && !stop.signal.aborted; i++) {
      if (rotatedFrom !== undefined && i === total) await waitForEpoch(ctx, roles, rotatedFrom, stop.signal)
      const outcome = await runBlob(roles, i, opts.blobSize, layout.certificatesDir, stop.signal)
      if (stop.signal.aborted) break
      // A run that goes on until Ctrl-C keeps only what the tally needs, not every blob's outcome.
      if (!continuous || outcomes.length < MAX_KEPT_OUTCOMES) outcomes.push(outcome)
      else outcomes[(i - 1) % MAX_KEPT_OUTCOMES] = outcome
      ctx.io.out(opts.json ? blobJsonLine(outcome) : blobRow(outcome))
      if (rotate && chain && operators && i === rotateAfter && i < total) {
        rotatedFrom = await rotateCommittee(ctx, chain, layout, operators)
      }
      if (continuous) await sleep(CONTINUOUS_BLOB_PAUSE_MS, undefined, { signal: stop.signal }).catch(() => {})
    }
    ctx.note(tallyLine(tally(outcomes)))
    if (!opts.once && !continuous && !stop.signal.aborted) {
      await liveSummary(ctx, layout, children, outcomes, stop.signal)
    }
  } catch (err) {
    // A stop asked for by a signal is how a devnet ends, not a failure of it.
    if (!stop.signal.aborted) throw err
  } finally {
    stopping.abort()
    await roles?.stop()
    cleanStop = await stopNodes(ctx, children)
    await chain?.stop()
    if (opts.out === undefined) await rm(root, { recursive: true, force: true })
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  if (!cleanStop) throw cliError(CliErrorCode.DEVNET_FAILED, 'a node did not stop cleanly (see its node.log)')
  if (!opts.once) return
  // --once promised a verdict on every blob: a run cut short has none.
  if (stop.signal.aborted) throw stop.signal.reason
  const failed = outcomes.filter((o) => !o.ok).length
  if (failed > 0) {
    throw cliError(
      CliErrorCode.DEVNET_FAILED,
      `${failed} of ${outcomes.length} blobs were not certified, sampled available and retrieved intact`,
    )
  }
}

/**
 * Puts the committee on the chain: an Ethereum account per node funded with its stake (its key in the node's
 * eth.key), every member registered from its node directory's keys, both sequencer keys added by the registry's
 * owner; then the chain is mined to where the first epoch with this committee is in force (epoch 1, or a later one
 * when short epochs ended while the members registered), and from then on makes a block a second. Returns each node's account (the spare's too, registered later).
 */
export async function stakeAndRegister(
  ctx: CommandContext,
  chain: DevnetChain,
  layout: DevnetLayout,
): Promise<Map<string, LocalAccount>> {
  const started = performance.now()
  const operators = new Map<string, LocalAccount>()
  for (const node of layout.nodes)
    operators.set(node.name, await chain.operator(node.ethKeyPath, node.stake * DEVNET_TOKEN))
  await Promise.all(
    layout.nodes.filter((n) => n.member).map((n) => chain.register(n, operators.get(n.name)!, n.stake * DEVNET_TOKEN)),
  )
  await chain.addSequencers(layout.sequencers)
  const first = await chain.beginNextEpoch(DEVNET_CONFIRMATIONS)
  await chain.writeFile(layout.chainPath!)
  ctx.note(
    `chain ${chain.file.rpcUrl}: registry ${chain.file.registry}, ${layout.nodes.filter((n) => n.member).length} members registered and staked in ${formatMs(performance.now() - started)}, in force from epoch ${first}; epochs of ${chain.file.epochBlocks} blocks (${DEVNET_BLOCK_SECONDS} s each)`,
  )
  return operators
}

/**
 * The spare node registers and the first node unstakes everything (it leaves), both in the current epoch E, so
 * that from epoch E + 1 dispersal goes to the new committee. Returns E + 1.
 */
async function rotateCommittee(
  ctx: CommandContext,
  chain: DevnetChain,
  layout: DevnetLayout,
  operators: Map<string, LocalAccount>,
): Promise<number> {
  const joining = layout.nodes.find((n) => !n.member)!
  const leaving = layout.nodes[0]!
  const [joined] = await Promise.all([
    chain.register(joining, operators.get(joining.name)!, joining.stake * DEVNET_TOKEN),
    chain.leave(operators.get(leaving.name)!, leaving.stake * DEVNET_TOKEN),
  ])
  const next = (await chain.epochOf(joined.block)) + 1
  ctx.note(`registry: ${joining.name} joins and ${leaving.name} leaves the committee from epoch ${next}`)
  return next
}

/** Before the run's last blob, waits until the epoch of the new committee is in force (bounded by two epochs). */
async function waitForEpoch(
  ctx: CommandContext,
  roles: DevnetRoles,
  epoch: number,
  signal: AbortSignal,
): Promise<void> {
  const source = roles.chain!.source
  if ((await source.currentEpoch()) >= epoch) return
  const epochBlocks = roles.chain!.chain.file.epochBlocks
  ctx.note(`waiting for epoch ${epoch} (at most ${2 * epochBlocks * DEVNET_BLOCK_SECONDS} s)`)
  const deadline = Date.now() + 2 * epochBlocks * DEVNET_BLOCK_SECONDS * 1000 + 10_000
  while (!signal.aborted && (await source.currentEpoch()) < epoch) {
    if (Date.now() > deadline) {
      throw cliError(CliErrorCode.DEVNET_FAILED, `epoch ${epoch} did not come into force within two epochs`)
    }
    await sleep(250, undefined, { signal }).catch(() => {})
  }
}

/**
 * The devnet's directory: a temp dir without --out; else --out itself, new or empty, or holding an earlier devnet
 * (its devnet.json), which is restarted. Any other content is refused: a devnet never writes keys over a directory
 * it did not lay out.
 */
async function prepareRoot(
  out: string | undefined,
  chain: boolean,
): Promise<{ root: string; earlier: DevnetLayout | undefined }> {
  if (out === undefined) return { root: await mkdtemp(join(tmpdir(), 'dacnet-devnet-')), earlier: undefined }
  const entries = await readdir(out).catch(() => [])
  if (entries.length === 0) return { root: out, earlier: undefined }
  const earlier = await readDevnetLayout(out)
  if (earlier === undefined) {
    throw cliError(CliErrorCode.ALREADY_EXISTS, `--out ${out} is not empty and holds no devnet (no ${DEVNET_FILE})`, {
      hint: 'pass a new or empty directory, or the --out of an earlier devnet to restart it',
    })
  }
  const hadChain = earlier.chainPath !== undefined
  if (hadChain !== chain) {
    throw usageError(
      `--out ${out} holds a devnet ${hadChain ? 'with a chain' : 'without a chain (--no-chain)'}`,
      `restart it ${hadChain ? 'without --no-chain' : 'with --no-chain'}, or pass another directory`,
    )
  }
  return { root: out, earlier }
}

/** What a restart keeps, and what it does not (a new chain: anvil's state does not outlive the process). */
function restartNote(layout: DevnetLayout, opts: DevnetOptions, chain: boolean): string {
  const members = layout.nodes.filter((n) => n.member).length
  const ignored = members !== opts.nodes ? ` (${members} members, as it was laid out)` : ''
  return chain
    ? `restarting the devnet in ${layout.root}${ignored}: same node keys, stores and ports, on a new chain where the members register again (certificates of the earlier run were for the earlier chain)`
    : `restarting the devnet in ${layout.root}${ignored}: same node keys, committee file, stores and ports`
}

/**
 * Starts every node of the layout as its own process (pushed to `children` at once, so a caller can stop them
 * whatever happens), running the program nodeProgram gives (built first if the sources changed), and waits until
 * all are ready; `readyTimeoutMs` defaults to NodeProcess's.
 */
export async function startNodes(
  ctx: CommandContext,
  layout: DevnetLayout,
  children: NodeProcess[],
  signal: AbortSignal,
  stopping: AbortSignal,
  readyTimeoutMs?: number,
): Promise<void> {
  // An abort listener added to a signal already aborted never fires: look first, and again after the bundling.
  signal.throwIfAborted()
  const program = await nodeProgram(process.env)
  if (program.builtMs !== undefined) ctx.note(`node program bundled in ${formatMs(program.builtMs)}`)
  if (program.buildError !== undefined) ctx.note(`node processes run from the sources: ${program.reason}`)
  signal.throwIfAborted()
  const started = performance.now()
  for (const node of layout.nodes) children.push(new NodeProcess(node, program.path))
  const aborted = new Promise<never>((_, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
  )
  aborted.catch(() => {})
  await Promise.race([Promise.all(children.map((c) => c.ready(readyTimeoutMs))), aborted])
  ctx.note(`${children.length} nodes ready in ${formatMs(performance.now() - started)}`)
  for (const child of children) {
    child.exited.then((exit) => {
      if (!stopping.aborted) {
        ctx.note(
          `${child.node.name} exited unexpectedly (${exit.signal ?? `code ${exit.code}`}); see ${child.node.logPath}`,
        )
      }
    })
  }
}

/** SIGTERM to every node at once, then wait; true if all exited with code 0 on their own. */
export async function stopNodes(ctx: CommandContext, children: NodeProcess[]): Promise<boolean> {
  if (children.length === 0) return true
  const started = performance.now()
  const exits = await Promise.all(children.map((c) => c.stop()))
  // A node stopped while still starting dies of the SIGTERM (its handlers are not installed yet): harmless,
  // it has taken no store. A node that served must exit 0 on its own.
  const unclean = exits
    .map((e, i) => ({ ...e, name: children[i]!.node.name, served: children[i]!.isReady }))
    .filter((e) => e.killed || (e.code !== 0 && (e.served || e.signal !== 'SIGTERM')))
  ctx.note(
    `stopped ${children.length} nodes in ${formatMs(performance.now() - started)}${unclean.length === 0 ? ', all cleanly' : `; not cleanly: ${unclean.map((e) => `${e.name} (${e.killed ? 'killed' : (e.signal ?? `code ${e.code}`)})`).join(', ')}`}`,
  )
  return unclean.length === 0
}

async function liveSummary(
  ctx: CommandContext,
  layout: DevnetLayout,
  children: NodeProcess[],
  outcomes: BlobOutcome[],
  signal: AbortSignal,
): Promise<void> {
  const started = performance.now()
  const line = new ProgressLine(ctx.io)
  const interval = ctx.io.stderrIsTTY ? LIVE_TTY_INTERVAL_MS : LIVE_LOG_INTERVAL_MS
  while (!signal.aborted) {
    const stored = await Promise.all(
      layout.nodes.map((n) =>
        getJson(n.apiUrl, '/v1/status')
          .then((body) => (body as { storage?: { blobs?: number } }).storage?.blobs ?? null)
          .catch(() => null),
      ),
    )
    const up = children.filter((c) => c.alive).length
    const text = liveLine(performance.now() - started, up, children.length, tally(outcomes), stored)
    if (ctx.io.stderrIsTTY) line.update(text, true)
    else ctx.note(text)
    await sleep(interval, undefined, { signal }).catch(() => {})
  }
  line.clear()
}
