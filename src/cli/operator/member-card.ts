import { multiaddr } from '@multiformats/multiaddr'
import { CliErrorCode, cliError } from '../errors.ts'

/** The member card layout `init` writes and `committee create` reads. */
export const MEMBER_CARD_VERSION = 1

/**
 * What a node operator hands the committee's organiser: everything the committee file needs about the
 * member except its stake, which the organiser decides. The proof of possession is checked when the card
 * goes into a committee file.
 */
export interface MemberCard {
  version: number
  peerId: string
  /** 48-byte compressed BLS public key, 0x hex. */
  publicKey: string
  /** 96-byte proof of possession of that key, 0x hex. */
  proofOfPossession: string
  /** Where others dial the member, with /p2p/<peerId>: copied into the committee file. */
  multiaddrs: string[]
  /** The node's listen addresses, for reference. */
  listen: string[]
}

/**
 * Addresses others can dial: the announce addresses if any, else the listen addresses that name a real
 * interface and port (0.0.0.0 and :: mean "every interface", port 0 "any port": neither can be dialled), each
 * ending in /p2p/<peerId>.
 */
export function dialableAddresses(listen: readonly string[], announce: readonly string[], peerId: string): string[] {
  // Port 0 means "any free port": the real port is only known once the node runs.
  const chosen =
    announce.length > 0
      ? announce
      : listen.filter((a) => !/^\/ip[46]\/(0\.0\.0\.0|::)\//.test(a) && !/\/(tcp|udp)\/0(\/|$)/.test(a))
  return chosen.map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${peerId}`))
}

export function parseMemberCard(json: unknown, source: string): MemberCard {
  const bad = (why: string) => cliError(CliErrorCode.MEMBER_CARD_INVALID, `member card ${source} ${why}`, { source })
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('is not a JSON object')
  const card = json as Record<string, unknown>
  if (card['version'] !== MEMBER_CARD_VERSION) throw bad(`has version ${String(card['version'])}, not 1`)
  for (const field of ['peerId', 'publicKey', 'proofOfPossession']) {
    if (typeof card[field] !== 'string' || card[field] === '') throw bad(`lacks "${field}"`)
  }
  const list = (field: string): string[] => {
    const value = card[field] ?? []
    if (!Array.isArray(value) || value.some((a) => typeof a !== 'string')) throw bad(`"${field}" is not a list`)
    for (const a of value) {
      try {
        multiaddr(a)
      } catch {
        throw bad(`"${field}" holds ${JSON.stringify(a)}, which is not a multiaddr`)
      }
    }
    return value
  }
  return {
    version: MEMBER_CARD_VERSION,
    peerId: card['peerId'] as string,
    publicKey: card['publicKey'] as string,
    proofOfPossession: card['proofOfPossession'] as string,
    multiaddrs: list('multiaddrs'),
    listen: list('listen'),
  }
}
