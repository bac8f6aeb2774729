import { resolve } from 'node:path'
import { blsKeyVerifier } from '../../attest/pop.ts'
import { type CommitteeEpochJson, type CommitteeFileJson, parseCommitteeFile } from '../../committee/file.ts'
import { DacnetError } from '../../errors.ts'
import { CliErrorCode, cliError, usageError } from '../errors.ts'
import { pathExists, readJsonFile, toJson, writeFileAtomic } from '../files.ts'
import { type ShapeRange, shapeRange } from '../format.ts'
import { parseMemberCard } from './member-card.ts'

/** Member cards are a few hundred bytes. */
const MAX_CARD_BYTES = 64 * 1024
/** The committee layer's own bound on a committee file. */
const MAX_COMMITTEE_FILE_BYTES = 16 * 1024 * 1024

/** What `committee create` takes (its command-line options) and the devnet passes. */
export interface CommitteeCreateOptions {
  /** Required unless appending (then the file's). */
  networkId?: number | undefined
  epoch: number
  /** `path[:stake]` per member, in bitmap order. */
  card: string[]
  /** Peer ids of the registered sequencers. */
  sequencer?: string[] | undefined
  threshold: string
  adversary: string
  retentionSeconds?: number | undefined
  totalShards?: number | undefined
  out: string
  append?: boolean | undefined
  force?: boolean | undefined
  json?: boolean | undefined
}

export interface CommitteeSummary {
  path: string
  networkId: number
  epoch: number
  members: number
  totalStake: string
  /** The blob shapes the committee gives, from an empty blob to the largest (PROTOCOL.md §2.3). */
  shapes: ShapeRange
  threshold: string
  adversary: string
  retentionSeconds: number
  sequencers: number
  epochs: number[]
}

/**
 * Builds one epoch from member cards, validates the whole file through parseCommitteeFile (so every key,
 * proof of possession, stake and threshold is checked exactly as nodes will check it), and writes it.
 */
export async function createCommitteeFile(
  opts: CommitteeCreateOptions,
  out: string,
  cwd: string,
): Promise<CommitteeSummary> {
  const exists = await pathExists(out)
  let file: CommitteeFileJson
  if (opts.append) {
    if (!exists) throw usageError(`--append: ${out} does not exist yet (create it without --append)`)
    file = (await readJsonFile(out, 'committee file', MAX_COMMITTEE_FILE_BYTES)) as CommitteeFileJson
    // Validate what is there before adding to it: an append must not launder a broken file.
    parseCommitteeFile(file, { verifier: blsKeyVerifier })
    if (opts.networkId !== undefined && opts.networkId !== file.networkId) {
      throw usageError(`--network-id ${opts.networkId} differs from the file's network ${file.networkId}`)
    }
    const newest = Math.max(...file.epochs.map((e) => e.epoch))
    if (opts.epoch <= newest) {
      throw usageError(`--epoch ${opts.epoch} must be above the file's newest epoch ${newest} (the newest is current)`)
    }
  } else {
    if (exists && !opts.force) {
      throw cliError(CliErrorCode.ALREADY_EXISTS, `${out} already exists`, {
        hint: 'pass --append to add an epoch to it, or --force to replace it',
      })
    }
    if (opts.networkId === undefined) throw usageError('--network-id is required (without --append)')
    file = { version: 1, networkId: opts.networkId, epochs: [] }
  }
  const epoch = await epochFromCards(opts, cwd)
  const candidate: CommitteeFileJson = { ...file, epochs: [...file.epochs, epoch] }
  let registry: ReturnType<typeof parseCommitteeFile>
  try {
    registry = parseCommitteeFile(candidate, { verifier: blsKeyVerifier })
  } catch (err) {
    throw nameTheCard(err, opts.card)
  }
  await writeFileAtomic(out, `${toJson(candidate)}\n`)
  const committee = registry.committees.find((c) => c.epoch === opts.epoch)!
  return {
    path: out,
    networkId: registry.networkId,
    epoch: committee.epoch,
    members: committee.size,
    totalStake: committee.totalStake.toString(),
    shapes: shapeRange(committee),
    threshold: `${committee.threshold.num}/${committee.threshold.den}`,
    adversary: `${committee.adversary.num}/${committee.adversary.den}`,
    retentionSeconds: committee.retentionSeconds,
    sequencers: committee.sequencers.length,
    epochs: registry.committees.map((c) => c.epoch),
  }
}

async function epochFromCards(opts: CommitteeCreateOptions, cwd: string): Promise<CommitteeEpochJson> {
  const members = []
  for (const spec of opts.card) {
    const { path, stake } = parseCardSpec(spec)
    const card = parseMemberCard(await readJsonFile(resolve(cwd, path), 'member card', MAX_CARD_BYTES), path)
    members.push({
      peerId: card.peerId,
      publicKey: card.publicKey,
      proofOfPossession: card.proofOfPossession,
      stake,
      ...(card.multiaddrs.length > 0 ? { multiaddrs: card.multiaddrs } : {}),
    })
  }
  return {
    epoch: opts.epoch,
    threshold: opts.threshold,
    adversary: opts.adversary,
    ...(opts.retentionSeconds !== undefined ? { retentionSeconds: opts.retentionSeconds } : {}),
    ...(opts.totalShards !== undefined ? { totalShards: opts.totalShards } : {}),
    members,
    sequencers: (opts.sequencer ?? []).map((peerId) => ({ peerId })),
  }
}

/** `card.json:30` -> path and stake; the stake defaults to 1 (equal weight). */
export function parseCardSpec(spec: string): { path: string; stake: string } {
  const match = /^(.*):(\d+)$/.exec(spec)
  if (!match) return { path: spec, stake: '1' }
  if (BigInt(match[2]!) === 0n) throw usageError(`--card ${spec}: a stake must be positive`)
  return { path: match[1]!, stake: BigInt(match[2]!).toString() }
}

/** A committee error about member i is about the i-th --card: say which file. */
function nameTheCard(err: unknown, cards: readonly string[]): unknown {
  if (!(err instanceof DacnetError)) return err
  const index = err.meta['member']
  if (typeof index !== 'number' || cards[index] === undefined) return err
  return new DacnetError(err.code, `card ${parseCardSpec(cards[index]).path}: ${err.message}`, err.meta)
}
