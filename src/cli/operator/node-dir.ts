import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateSecretKey, publicKeyOf } from '../../attest/keys.ts'
import { encryptKeystore, type KeystoreKdf } from '../../attest/keystore.ts'
import { createProofOfPossession } from '../../attest/pop.ts'
import { generatePeerKey, writePeerKey } from '../../p2p/identity.ts'
import { type ConfigOverrides, configTemplate } from '../config/template.ts'
import {
  CONFIG_FILE,
  DATA_DIR,
  defaultConfig,
  KEYSTORE_FILE,
  MEMBER_CARD_FILE,
  PEER_KEY_FILE,
} from '../config/types.ts'
import { CliErrorCode, cliError } from '../errors.ts'
import { pathExists, toJson, writeFileAtomic } from '../files.ts'
import { dialableAddresses, MEMBER_CARD_VERSION, type MemberCard } from './member-card.ts'

export interface NodeDirOptions {
  dir: string
  password: string
  /** Keystore KDF; EIP-2335's default scrypt unless a devnet asks for a light one. */
  kdf?: KeystoreKdf
  /** Stored in the keystore's description field (a devnet marks its light-KDF keystores there). */
  keystoreDescription?: string
  config?: ConfigOverrides
  /** Called before the keystore's KDF starts (about a second with the default scrypt), for a progress note. */
  onEncrypting?: () => void
}

/**
 * A node directory: `config.json`, `peer.key` (libp2p Ed25519, mode 0600), `keystore.json` (EIP-2335,
 * mode 0600), `data/`, and `member-card.json`. Refuses a directory that already holds any of the key or
 * config files: keys are never overwritten. Everything is made in memory first (the keystore's KDF takes about
 * a second), and only then written, `config.json` last: an interrupted init leaves nothing, or, in a window of
 * milliseconds, keys without a config, which a second init names as such.
 */
export async function createNodeDir(opts: NodeDirOptions): Promise<MemberCard> {
  const { dir } = opts
  await refuseExisting(dir)
  const peerKey = await generatePeerKey()
  const peerId = peerIdFromPrivateKey(peerKey).toString()
  const secretKey = generateSecretKey()
  opts.onEncrypting?.()
  const keystore = await encryptKeystore(secretKey, opts.password, {
    ...(opts.kdf ? { kdf: opts.kdf } : {}),
    ...(opts.keystoreDescription ? { description: opts.keystoreDescription } : {}),
  })
  const template = configTemplate(opts.config)
  const defaults = defaultConfig()
  const listen = opts.config?.listen ?? defaults.network.listen
  const announce = opts.config?.announce ?? defaults.network.announce
  const card: MemberCard = {
    version: MEMBER_CARD_VERSION,
    peerId,
    publicKey: hex(publicKeyOf(secretKey)),
    proofOfPossession: hex(createProofOfPossession(secretKey)),
    multiaddrs: dialableAddresses(listen, announce, peerId),
    listen,
  }
  // The KDF gave another process a second to create the same directory.
  await refuseExisting(dir)
  try {
    await mkdir(join(dir, DATA_DIR), { recursive: true, mode: 0o700 })
  } catch (err) {
    throw cliError(CliErrorCode.WRITE_FAILED, `cannot create ${dir}: ${(err as Error).message}`, { path: dir })
  }
  await writePeerKey(join(dir, PEER_KEY_FILE), peerKey)
  await writeFileAtomic(join(dir, KEYSTORE_FILE), `${toJson(keystore)}\n`, { mode: 0o600, exclusive: true })
  await writeFileAtomic(join(dir, MEMBER_CARD_FILE), `${toJson(card)}\n`)
  await writeFileAtomic(join(dir, CONFIG_FILE), `${toJson(template)}\n`, { exclusive: true })
  return card
}

async function refuseExisting(dir: string): Promise<void> {
  const present: string[] = []
  for (const name of [CONFIG_FILE, PEER_KEY_FILE, KEYSTORE_FILE]) {
    if (await pathExists(join(dir, name))) present.push(name)
  }
  if (present.length === 0) return
  const path = join(dir, present[0]!)
  if (present.includes(CONFIG_FILE)) {
    throw cliError(CliErrorCode.ALREADY_EXISTS, `${path} already exists: ${dir} is a node directory`, { path })
  }
  throw cliError(
    CliErrorCode.ALREADY_EXISTS,
    `${dir} holds ${present.join(' and ')} but no ${CONFIG_FILE}: an earlier init was interrupted, or the keys were put there by hand; keys are never overwritten, so remove them (if they were never used) or finish the directory by hand`,
    { path, present },
  )
}

function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`
}
