import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateSecretKey, publicKeyOf } from '../../attest/keys.ts'
import { encryptKeystore, type KeystoreKdf } from '../../attest/keystore.ts'
import { createProofOfPossession } from '../../attest/pop.ts'
import { loadOrCreatePeerKey } from '../../p2p/identity.ts'
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
}

/**
 * A node directory: `config.json`, `peer.key` (libp2p Ed25519, mode 0600), `keystore.json` (EIP-2335,
 * mode 0600), `data/`, and `member-card.json`. Refuses a directory that already holds any of the key or
 * config files: keys are never overwritten.
 */
export async function createNodeDir(opts: NodeDirOptions): Promise<MemberCard> {
  const { dir } = opts
  for (const name of [CONFIG_FILE, PEER_KEY_FILE, KEYSTORE_FILE]) {
    if (await pathExists(join(dir, name))) {
      throw cliError(CliErrorCode.ALREADY_EXISTS, `${join(dir, name)} already exists: ${dir} is a node directory`, {
        path: join(dir, name),
      })
    }
  }
  try {
    await mkdir(join(dir, DATA_DIR), { recursive: true, mode: 0o700 })
  } catch (err) {
    throw cliError(CliErrorCode.WRITE_FAILED, `cannot create ${dir}: ${(err as Error).message}`, { path: dir })
  }
  const peerKey = await loadOrCreatePeerKey(join(dir, PEER_KEY_FILE))
  const peerId = peerIdFromPrivateKey(peerKey).toString()
  const secretKey = generateSecretKey()
  const keystore = await encryptKeystore(secretKey, opts.password, {
    ...(opts.kdf ? { kdf: opts.kdf } : {}),
    ...(opts.keystoreDescription ? { description: opts.keystoreDescription } : {}),
  })
  await writeFileAtomic(join(dir, KEYSTORE_FILE), `${toJson(keystore)}\n`, { mode: 0o600, exclusive: true })
  const template = configTemplate(opts.config)
  await writeFileAtomic(join(dir, CONFIG_FILE), `${toJson(template)}\n`, { exclusive: true })
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
  await writeFileAtomic(join(dir, MEMBER_CARD_FILE), `${toJson(card)}\n`)
  return card
}

function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`
}
