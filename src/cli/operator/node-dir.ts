import { constants } from 'node:fs'
import { access, lstat, mkdir, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
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
import { toJson, writeFileAtomic } from '../files.ts'
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
  // Before the KDF's second: a --dir that can never be written fails at once.
  await checkWritable(dir)
  const peerKey = await generatePeerKey()
  const peerId = peerIdFromPrivateKey(peerKey).toString()
  const secretKey = generateSecretKey()
  opts.onEncrypting?.()
  const keystore = await encryptKeystore(secretKey, opts.password, {
    ...(opts.kdf ? { kdf: opts.kdf } : {}),
    ...(opts.keystoreDescription ? { description: opts.keystoreDescription } : {}),
  })
  const template = configTemplate(opts.config)
  // The data directory the config names, as the node will resolve it (against the node directory).
  const dataDir = resolve(dir, typeof template['dataDir'] === 'string' ? template['dataDir'] : DATA_DIR)
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
  const created: string[] = []
  try {
    let firstMade: string | undefined
    try {
      firstMade = await mkdir(join(dir, DATA_DIR), { recursive: true, mode: 0o700 })
    } catch (err) {
      throw cliError(CliErrorCode.WRITE_FAILED, `cannot create ${dir}: ${(err as Error).message}`, { path: dir })
    }
    // Everything from the first directory this call made down is new: a failure below removes it whole. A data
    // directory that was already there is never removed.
    if (firstMade !== undefined) created.push(firstMade)
    if (dataDir !== join(dir, DATA_DIR)) {
      // A dataDir elsewhere (init --data-dir): made here too, since the node never creates it.
      try {
        const made = await mkdir(dataDir, { recursive: true, mode: 0o700 })
        if (made !== undefined) created.push(made)
      } catch (err) {
        throw cliError(
          CliErrorCode.WRITE_FAILED,
          `cannot create data directory ${dataDir}: ${(err as Error).message}`,
          {
            path: dataDir,
          },
        )
      }
    }
    await writeNewPeerKey(join(dir, PEER_KEY_FILE), peerKey, created)
    await writeNew(join(dir, KEYSTORE_FILE), `${toJson(keystore)}\n`, { mode: 0o600, exclusive: true }, created)
    await writeNew(join(dir, MEMBER_CARD_FILE), `${toJson(card)}\n`, {}, created)
    await writeNew(join(dir, CONFIG_FILE), `${toJson(template)}\n`, { exclusive: true }, created)
  } catch (err) {
    // A full disk or an I/O error halfway: take back what this call wrote (keys nobody has seen), so that init
    // can simply run again, instead of leaving keys that a second init must refuse.
    for (const path of created.reverse()) await rm(path, { recursive: true, force: true }).catch(() => undefined)
    throw err
  }
  return card
}

async function writeNew(
  path: string,
  data: string,
  opts: { mode?: number; exclusive?: boolean },
  created: string[],
): Promise<void> {
  const existed = await lstat(path).then(
    () => true,
    () => false,
  )
  await writeFileAtomic(path, data, opts)
  if (!existed) created.push(path)
}

async function writeNewPeerKey(path: string, key: PrivateKey, created: string[]): Promise<void> {
  try {
    await writePeerKey(path, key)
  } catch (err) {
    // Something appeared there since the check (a concurrent init, a dangling symlink): never replaced.
    const exists = (err as { meta?: { code?: unknown } }).meta?.code === 'EEXIST'
    throw cliError(
      exists ? CliErrorCode.ALREADY_EXISTS : CliErrorCode.WRITE_FAILED,
      exists ? `${path} already exists` : `cannot write ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    )
  }
  created.push(path)
}

/** Refuses a directory that is a file, or whose nearest existing ancestor is not a writable directory. */
async function checkWritable(dir: string): Promise<void> {
  let path = resolve(dir)
  for (;;) {
    const info = await stat(path).catch(() => undefined)
    if (info !== undefined) {
      const ok =
        info.isDirectory() &&
        (await access(path, constants.W_OK | constants.X_OK).then(
          () => true,
          () => false,
        ))
      if (ok) return
      throw cliError(
        CliErrorCode.WRITE_FAILED,
        info.isDirectory()
          ? `cannot create ${dir}: ${path} is not writable`
          : `cannot create ${dir}: ${path} is not a directory`,
        { path },
      )
    }
    const parent = dirname(path)
    if (parent === path) return
    path = parent
  }
}

async function refuseExisting(dir: string): Promise<void> {
  const present: string[] = []
  for (const name of [CONFIG_FILE, PEER_KEY_FILE, KEYSTORE_FILE]) {
    // lstat: a dangling symlink in a key's place counts as present; nothing is ever written through it.
    if (
      await lstat(join(dir, name)).then(
        () => true,
        () => false,
      )
    )
      present.push(name)
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
