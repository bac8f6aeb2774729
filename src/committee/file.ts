import { Committee, type CommitteeInput } from './committee.ts'
import { CommitteeErrorCode, committeeError } from './errors.ts'
import { type Fraction, formatFraction, parseFraction } from './fraction.ts'
import { fromHex, toHex } from './hex.ts'
import type { MemberInput, MemberKeyVerifier, Sequencer } from './member.ts'
import { POP_SIZE, PUBLIC_KEY_SIZE } from './member.ts'

/** The committee file layout this implementation reads and writes. */
export const COMMITTEE_FILE_VERSION = 1

/** The committee file, as JSON. See the protocol notes for an example. */
export interface CommitteeFileJson {
  version: number
  networkId: number
  epochs: CommitteeEpochJson[]
}

export interface CommitteeEpochJson {
  epoch: number
  /** q as "num/den" or a decimal; default "2/3". */
  threshold?: string
  /** f as "num/den" or a decimal; default "1/3". */
  adversary?: string
  retentionSeconds?: number
  /** A fixed erasure n; derived from the member count when absent. */
  totalShards?: number
  members: MemberJson[]
  sequencers?: SequencerJson[]
}

export interface MemberJson {
  peerId: string
  /** 48-byte compressed G1 key, hex. */
  publicKey: string
  /** 96-byte compressed G2 signature, hex. */
  proofOfPossession: string
  /** Positive integer as a decimal string (stakes may exceed 2^53). */
  stake: string
  multiaddrs?: string[]
}

export interface SequencerJson {
  peerId?: string
  publicKey?: string
}

/** Every epoch of one network, each validated. */
export interface CommitteeRegistry {
  readonly networkId: number
  /** Committees by ascending epoch. */
  readonly committees: readonly Committee[]
}

/** Parses and validates a committee file (text or already-parsed JSON). Throws typed errors. */
export function parseCommitteeFile(json: unknown, options: { verifier: MemberKeyVerifier }): CommitteeRegistry {
  let value = json
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json)
    } catch (err) {
      throw malformed(`committee file is not JSON: ${(err as Error).message}`)
    }
  }
  const file = object(value, 'committee file', ['version', 'networkId', 'epochs'])
  if (file['version'] !== COMMITTEE_FILE_VERSION) {
    throw committeeError(
      CommitteeErrorCode.UNSUPPORTED_VERSION,
      `committee file version ${String(file['version'])} is not ${COMMITTEE_FILE_VERSION}`,
    )
  }
  const networkId = file['networkId'] as number
  if (!Array.isArray(file['epochs']) || file['epochs'].length === 0) throw malformed('epochs must be a non-empty list')
  const seen = new Set<number>()
  const committees = file['epochs'].map((entry, i) => {
    const input = epochInput(entry, networkId, i)
    if (seen.has(input.epoch)) {
      throw committeeError(CommitteeErrorCode.DUPLICATE_EPOCH, `epoch ${input.epoch} appears twice`, {
        epoch: input.epoch,
      })
    }
    seen.add(input.epoch)
    return new Committee(input, options)
  })
  committees.sort((a, b) => a.epoch - b.epoch)
  return Object.freeze({ networkId, committees: Object.freeze(committees) })
}

/** The committee file for a registry, such that parsing it gives back equal committees. */
export function toCommitteeFile(registry: CommitteeRegistry): CommitteeFileJson {
  return {
    version: COMMITTEE_FILE_VERSION,
    networkId: registry.networkId,
    epochs: registry.committees.map((c) => ({
      epoch: c.epoch,
      threshold: formatFraction(c.threshold),
      adversary: formatFraction(c.adversary),
      retentionSeconds: c.retentionSeconds,
      ...(c.totalShards === undefined ? {} : { totalShards: c.totalShards }),
      members: c.members.map((m) => ({
        peerId: m.peerId,
        publicKey: toHex(m.publicKey),
        proofOfPossession: toHex(m.proofOfPossession),
        stake: m.stake.toString(),
        ...(m.multiaddrs.length === 0 ? {} : { multiaddrs: [...m.multiaddrs] }),
      })),
      sequencers: c.sequencers.map((s) => ({
        ...(s.peerId === undefined ? {} : { peerId: s.peerId }),
        ...(s.publicKey === undefined ? {} : { publicKey: toHex(s.publicKey) }),
      })),
    })),
  }
}

function epochInput(value: unknown, networkId: number, position: number): CommitteeInput {
  const epochKeys = ['epoch', 'threshold', 'adversary', 'retentionSeconds', 'totalShards', 'members', 'sequencers']
  const e = object(value, `epochs[${position}]`, epochKeys, ['epoch', 'members'])
  const epoch = e['epoch'] as number
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw committeeError(
      CommitteeErrorCode.INVALID_EPOCH,
      `epochs[${position}].epoch is not a non-negative safe integer`,
    )
  }
  if (!Array.isArray(e['members'])) throw malformed(`epoch ${epoch}: members must be a list`)
  const sequencers = e['sequencers'] ?? []
  if (!Array.isArray(sequencers)) throw malformed(`epoch ${epoch}: sequencers must be a list`)
  return {
    networkId,
    epoch,
    threshold: optionalFraction(e['threshold'], 'threshold', epoch),
    adversary: optionalFraction(e['adversary'], 'adversary', epoch),
    retentionSeconds: optionalNumber(e['retentionSeconds'], 'retentionSeconds', epoch),
    totalShards: optionalNumber(e['totalShards'], 'totalShards', epoch),
    members: e['members'].map((m, i) => memberInput(m, epoch, i)),
    sequencers: sequencers.map((s, i) => sequencerInput(s, epoch, i)),
  }
}

function memberInput(value: unknown, epoch: number, index: number): MemberInput {
  const where = `epoch ${epoch} member ${index}`
  const m = object(
    value,
    where,
    ['peerId', 'publicKey', 'proofOfPossession', 'stake', 'multiaddrs'],
    ['peerId', 'publicKey', 'proofOfPossession', 'stake'],
  )
  const meta = { epoch, member: index }
  const publicKey = fromHex(m['publicKey'], PUBLIC_KEY_SIZE)
  if (!publicKey)
    throw committeeError(
      CommitteeErrorCode.MALFORMED_KEY,
      `${where}: publicKey must be ${PUBLIC_KEY_SIZE} bytes of hex`,
      meta,
    )
  const pop = fromHex(m['proofOfPossession'], POP_SIZE)
  if (!pop)
    throw committeeError(
      CommitteeErrorCode.INVALID_POP,
      `${where}: proofOfPossession must be ${POP_SIZE} bytes of hex`,
      meta,
    )
  const stake = m['stake']
  // Decimal strings only: a JSON number would silently lose precision above 2^53.
  if (typeof stake !== 'string' || !/^-?\d{1,80}$/.test(stake)) {
    throw committeeError(CommitteeErrorCode.INVALID_STAKE, `${where}: stake must be a decimal string`, meta)
  }
  return {
    peerId: m['peerId'] as string,
    publicKey,
    proofOfPossession: pop,
    stake: BigInt(stake),
    multiaddrs: (m['multiaddrs'] as string[] | undefined) ?? [],
  }
}

function sequencerInput(value: unknown, epoch: number, index: number): Sequencer {
  const where = `epoch ${epoch} sequencer ${index}`
  const s = object(value, where, ['peerId', 'publicKey'], [])
  if (s['peerId'] === undefined && s['publicKey'] === undefined) {
    throw malformed(`${where} needs a peerId, a publicKey, or both`)
  }
  let publicKey: Uint8Array | undefined
  if (s['publicKey'] !== undefined) {
    publicKey = fromHex(s['publicKey'], PUBLIC_KEY_SIZE)
    if (!publicKey) {
      throw committeeError(
        CommitteeErrorCode.MALFORMED_KEY,
        `${where}: publicKey must be ${PUBLIC_KEY_SIZE} bytes of hex`,
        {
          epoch,
          sequencer: index,
        },
      )
    }
  }
  return { peerId: s['peerId'] as string | undefined, publicKey }
}

function optionalFraction(value: unknown, field: string, epoch: number): Fraction | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') {
    throw committeeError(CommitteeErrorCode.INVALID_THRESHOLD, `epoch ${epoch}: ${field} must be a string like "2/3"`, {
      epoch,
      field,
    })
  }
  return parseFraction(value, field)
}

function optionalNumber(value: unknown, field: string, epoch: number): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number') throw malformed(`epoch ${epoch}: ${field} must be a number`)
  return value
}

/** A JSON object with only the allowed keys: a typo must not silently fall back to a default. */
function object(
  value: unknown,
  where: string,
  allowed: string[],
  required: string[] = allowed,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${where} must be an object`)
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) throw malformed(`${where} has unknown field "${key}"`)
  }
  for (const key of required) {
    if (record[key] === undefined) throw malformed(`${where} lacks "${key}"`)
  }
  return record
}

function malformed(message: string) {
  return committeeError(CommitteeErrorCode.MALFORMED_FILE, message)
}
