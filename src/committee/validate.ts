import { CommitteeErrorCode, committeeError } from './errors.ts'
import { toHex } from './hex.ts'
import { negatedKeyEncoding } from './key-negation.ts'
import {
  type KeyProblem,
  type Member,
  type MemberInput,
  type MemberKeyVerifier,
  POP_SIZE,
  PUBLIC_KEY_SIZE,
  type Sequencer,
} from './member.ts'
import { normalizePeerId } from './peer-id.ts'

/** Signer bitmaps carry a u32 member count; 65536 also matches the most shards a blob can have. */
export const MAX_MEMBERS = 65536
/** Certificates carry signed stake as a u256, like an L1 staking contract would. */
export const MAX_TOTAL_STAKE = 2n ** 256n - 1n
/** A multiaddr longer than this is not an address anyone would dial. */
const MAX_MULTIADDR_LENGTH = 1024
/** Enough for every transport a member might listen on. */
const MAX_MULTIADDRS = 32

/** Checks every member entry, cheapest checks first, and the key checks (pairings) last. */
export function validateMembers(inputs: readonly MemberInput[], verifier: MemberKeyVerifier, epoch: number): Member[] {
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_MEMBERS) {
    throw committeeError(
      CommitteeErrorCode.INVALID_MEMBER_COUNT,
      `epoch ${epoch}: a committee has 1..${MAX_MEMBERS} members, got ${inputs?.length}`,
      { epoch },
    )
  }
  const peerIds = new Map<string, number>()
  const keys = new Map<string, number>()
  let total = 0n
  const members = inputs.map((input, index): Member => {
    const where = { epoch, member: index }
    const peerId = withMeta(() => normalizePeerId(input.peerId), where)
    const dupPeer = peerIds.get(peerId)
    if (dupPeer !== undefined) {
      throw committeeError(
        CommitteeErrorCode.DUPLICATE_PEER_ID,
        `epoch ${epoch}: members ${dupPeer} and ${index} share peer id ${peerId}`,
        {
          ...where,
          other: dupPeer,
        },
      )
    }
    peerIds.set(peerId, index)
    const publicKey = checkKeyBytes(input.publicKey, where)
    checkKeyUnique(keys, publicKey, where)
    if (!(input.proofOfPossession instanceof Uint8Array) || input.proofOfPossession.length !== POP_SIZE) {
      throw committeeError(
        CommitteeErrorCode.INVALID_POP,
        `epoch ${epoch}: member ${index} proof of possession must be ${POP_SIZE} bytes`,
        where,
      )
    }
    if (typeof input.stake !== 'bigint' || input.stake <= 0n) {
      throw committeeError(
        CommitteeErrorCode.INVALID_STAKE,
        `epoch ${epoch}: member ${index} stake must be a positive integer`,
        where,
      )
    }
    total += input.stake
    return Object.freeze({
      index,
      peerId,
      publicKey: publicKey.slice(),
      proofOfPossession: input.proofOfPossession.slice(),
      stake: input.stake,
      multiaddrs: Object.freeze(checkMultiaddrs(input.multiaddrs ?? [], where)),
    })
  })
  if (total > MAX_TOTAL_STAKE) {
    throw committeeError(CommitteeErrorCode.INVALID_STAKE, `epoch ${epoch}: total stake does not fit in a u256`, {
      epoch,
    })
  }
  const problems = verifier.checkKeys(members)
  problems.forEach((problem, index) => {
    if (problem) throw keyError(problem, { epoch, member: index })
  })
  return members
}

export function validateSequencers(
  inputs: readonly Sequencer[],
  verifier: MemberKeyVerifier,
  epoch: number,
): Sequencer[] {
  if (!Array.isArray(inputs)) {
    throw committeeError(CommitteeErrorCode.INVALID_SEQUENCER, `epoch ${epoch}: sequencers must be a list`, { epoch })
  }
  const seen = new Set<string>()
  const sequencers = inputs.map((input, index): Sequencer => {
    const where = { epoch, sequencer: index }
    if (input.peerId === undefined && input.publicKey === undefined) {
      throw committeeError(
        CommitteeErrorCode.INVALID_SEQUENCER,
        `epoch ${epoch}: sequencer ${index} needs a peer id or a public key`,
        where,
      )
    }
    const peerId = input.peerId === undefined ? undefined : withMeta(() => normalizePeerId(input.peerId!), where)
    const publicKey = input.publicKey === undefined ? undefined : checkKeyBytes(input.publicKey, where)
    // Peer ids (base58btc) and keys (0x hex) cannot collide as strings, so one set catches both repeats.
    if (peerId !== undefined && seen.has(peerId)) {
      throw committeeError(
        CommitteeErrorCode.DUPLICATE_PEER_ID,
        `epoch ${epoch}: sequencer ${index} repeats a peer id`,
        where,
      )
    }
    const keyHex = publicKey === undefined ? undefined : toHex(publicKey)
    if (keyHex !== undefined && seen.has(keyHex)) {
      throw committeeError(
        CommitteeErrorCode.DUPLICATE_PUBLIC_KEY,
        `epoch ${epoch}: sequencer ${index} repeats a key`,
        where,
      )
    }
    for (const id of [peerId, keyHex]) if (id !== undefined) seen.add(id)
    return Object.freeze({ peerId, publicKey: publicKey?.slice() })
  })
  const withKeys = sequencers.flatMap((s, index) => (s.publicKey ? [{ index, publicKey: s.publicKey }] : []))
  const problems = verifier.checkKeys(withKeys)
  problems.forEach((problem, i) => {
    if (problem) throw keyError(problem, { epoch, sequencer: withKeys[i]!.index })
  })
  return sequencers
}

function checkKeyBytes(key: unknown, where: Record<string, number>): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== PUBLIC_KEY_SIZE) {
    throw committeeError(
      CommitteeErrorCode.MALFORMED_KEY,
      `public key must be ${PUBLIC_KEY_SIZE} bytes (${describe(where)})`,
      where,
    )
  }
  return key
}

/**
 * Refuses a key already listed, and a key whose negation is listed: P and -P add up to the point at infinity,
 * so a certificate could count both members without either signing (see key-negation.ts). Records the key.
 */
function checkKeyUnique(keys: Map<string, number>, publicKey: Uint8Array, where: { epoch: number; member: number }) {
  const { epoch, member } = where
  const keyHex = toHex(publicKey)
  const duplicate = keys.get(keyHex)
  if (duplicate !== undefined) {
    throw committeeError(
      CommitteeErrorCode.DUPLICATE_PUBLIC_KEY,
      `epoch ${epoch}: members ${duplicate} and ${member} share a public key`,
      { ...where, other: duplicate },
    )
  }
  const negated = negatedKeyEncoding(publicKey)
  const negation = negated === undefined ? undefined : keys.get(toHex(negated))
  if (negation !== undefined) {
    throw committeeError(
      CommitteeErrorCode.NEGATED_PUBLIC_KEY,
      `epoch ${epoch}: member ${member}'s public key is the negation of member ${negation}'s (they sum to infinity)`,
      { ...where, other: negation },
    )
  }
  keys.set(keyHex, member)
}

function checkMultiaddrs(addrs: readonly string[], where: Record<string, number>): string[] {
  if (!Array.isArray(addrs) || addrs.length > MAX_MULTIADDRS) {
    throw committeeError(
      CommitteeErrorCode.INVALID_MULTIADDR,
      `multiaddrs must be a list of at most ${MAX_MULTIADDRS}`,
      where,
    )
  }
  return addrs.map((addr) => {
    // Full parsing belongs to the p2p layer; here we only refuse what cannot be a textual multiaddr.
    if (typeof addr !== 'string' || !addr.startsWith('/') || addr.length > MAX_MULTIADDR_LENGTH || /\s/.test(addr)) {
      throw committeeError(
        CommitteeErrorCode.INVALID_MULTIADDR,
        `"${String(addr).slice(0, 80)}" is not a multiaddr (${describe(where)})`,
        where,
      )
    }
    return addr
  })
}

function keyError(problem: KeyProblem, where: Record<string, number>) {
  const code = problem.kind === 'invalid-pop' ? CommitteeErrorCode.INVALID_POP : CommitteeErrorCode.MALFORMED_KEY
  return committeeError(code, `${describe(where)}: ${problem.detail}`, where)
}

/** Adds where-in-the-file to an error thrown by a helper that does not know it. */
function withMeta<T>(fn: () => T, where: Record<string, number>): T {
  try {
    return fn()
  } catch (err) {
    if (err && typeof err === 'object' && 'meta' in err) Object.assign((err as { meta: object }).meta, where)
    throw err
  }
}

function describe(where: Record<string, number>): string {
  return Object.entries(where)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
}
