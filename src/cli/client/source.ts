import { resolve } from 'node:path'
import type { Committee } from '../../committee/committee.ts'
import type { CommitteeSource } from '../../committee/source.ts'
import { currentCommittee } from '../../node/epochs.ts'
import { CHAIN_ENV } from '../chain/options.ts'
import { usageError } from '../errors.ts'
import type { CliIo } from '../io.ts'
import { COMMITTEE_ENV, DEFAULT_COMMITTEE_PATH } from './options.ts'

/** Where a client command's committees come from: a committee file, or the registry a chain.json names. */
export type CommitteeChoice =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'chain'; readonly path: string; readonly rpc?: string | undefined }

/**
 * --committee or --chain (not both); else $DACNET_COMMITTEE or $DACNET_CHAIN (not both); else ./committee.json.
 * A flag beats either variable, so an exported default never overrides what the command line says.
 */
export function committeeChoice(
  io: CliIo,
  opts: { committee?: string | undefined; chain?: string | undefined; rpc?: string | undefined },
): CommitteeChoice {
  if (opts.committee !== undefined && opts.chain !== undefined) {
    throw usageError('--committee and --chain exclude each other: committees come from a file or from the chain')
  }
  const fromEnv = (name: string) => (io.env[name] === '' ? undefined : io.env[name])
  let choice: CommitteeChoice
  if (opts.chain !== undefined) choice = { kind: 'chain', path: resolve(io.cwd, opts.chain), rpc: opts.rpc }
  else if (opts.committee !== undefined) choice = { kind: 'file', path: resolve(io.cwd, opts.committee) }
  else {
    const file = fromEnv(COMMITTEE_ENV)
    const chain = fromEnv(CHAIN_ENV)
    if (file !== undefined && chain !== undefined) {
      throw usageError(
        `both ${COMMITTEE_ENV} and ${CHAIN_ENV} are set: pass --committee FILE or --chain FILE to say which to use`,
      )
    }
    choice =
      chain !== undefined
        ? { kind: 'chain', path: resolve(io.cwd, chain), rpc: opts.rpc }
        : { kind: 'file', path: resolve(io.cwd, file ?? DEFAULT_COMMITTEE_PATH) }
  }
  if (choice.kind === 'file' && opts.rpc !== undefined) {
    throw usageError(`--rpc needs the chain: pass --chain FILE or set ${CHAIN_ENV}`)
  }
  return choice
}

/** A started committee source; the command that opened it stops it. */
export interface ClientCommittees {
  readonly source: CommitteeSource
  /** The committee of the epoch in force (a file's newest epoch; a chain's at head − confirmations). */
  current(): Promise<Committee>
  stop(): Promise<void>
}

/**
 * Opens the chosen source before anything touches libp2p: a committee file is read and validated (keys, proofs,
 * thresholds); a chain source checks that the RPC serves chain.json's chain and syncs once, then follows new
 * blocks until stopped.
 */
export async function openCommitteeSource(choice: CommitteeChoice): Promise<ClientCommittees> {
  let source: CommitteeSource
  let stop = async () => {}
  if (choice.kind === 'file') {
    const { openCommittee } = await import('./committee.ts')
    source = (await openCommittee(choice.path)).source
  } else {
    const { openChainCommittees } = await import('../chain/source.ts')
    const chain = await openChainCommittees(choice.path, choice.rpc)
    source = chain
    stop = () => chain.stop()
  }
  const current = () => currentCommittee(source)
  return {
    source,
    current,
    stop,
  }
}
