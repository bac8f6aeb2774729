import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { CommitteeErrorCode, committeeError } from './errors.ts'

/** Multihash `identity`: small (Ed25519, secp256k1) libp2p keys are inlined in the peer id. */
const IDENTITY = 0x00
/** Multihash `sha2-256`: larger (RSA) libp2p keys are hashed. */
const SHA2_256 = 0x12
/** Multicodec `libp2p-key`: the codec of a peer id written as a CIDv1. */
const LIBP2P_KEY = 0x72
/** The libp2p peer-id spec caps inlined keys at 42 bytes. */
const MAX_IDENTITY_DIGEST = 42

/**
 * Checks a libp2p peer id without depending on libp2p (the committee layer is pure) and returns its
 * canonical form, the base58btc multihash (`12D3KooW...`, `Qm...`), so that duplicates are caught whatever
 * form the file used.
 */
export function normalizePeerId(text: string): string {
  const bad = (why: string) =>
    committeeError(CommitteeErrorCode.INVALID_PEER_ID, `peer id "${short(text)}" ${why}`, { peerId: short(text) })
  if (typeof text !== 'string' || text.length === 0 || text.length > 128) throw bad('must be a non-empty string')
  let multihash: Uint8Array
  try {
    if (text.startsWith('1') || text.startsWith('Q')) multihash = base58btc.baseDecode(text)
    else {
      const cid = CID.parse(text)
      if (cid.version !== 1 || cid.code !== LIBP2P_KEY) throw new Error('not a libp2p-key CIDv1')
      multihash = cid.multihash.bytes
    }
  } catch (err) {
    throw bad(`is not base58btc or a libp2p-key CID (${(err as Error).message})`)
  }
  let digest: Digest.Digest<number, number>
  try {
    digest = Digest.decode(multihash)
  } catch (err) {
    throw bad(`is not a multihash (${(err as Error).message})`)
  }
  const ok =
    (digest.code === IDENTITY && digest.size > 0 && digest.size <= MAX_IDENTITY_DIGEST) ||
    (digest.code === SHA2_256 && digest.size === 32)
  if (!ok) throw bad('is neither an identity nor a sha2-256 multihash of the right size')
  return base58btc.baseEncode(multihash)
}

function short(text: unknown): string {
  const s = String(text)
  return s.length > 64 ? `${s.slice(0, 64)}…` : s
}
