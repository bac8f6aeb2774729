import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { P2pErrorCode, p2pError } from './errors.ts'

/** The largest peer key file read: a protobuf Ed25519 private key is 68 bytes, any libp2p key well under this. */
export const MAX_PEER_KEY_FILE_BYTES = 1024

/** Largest key file accepted: an Ed25519 key is 68 bytes, a secp256k1 one 37; RSA keys are refused anyway. */
const MAX_KEY_FILE_BYTES = 1024

/**
 * The node's libp2p identity, from a key file (protobuf-encoded private key, as libp2p writes it), created
 * with a fresh Ed25519 key and mode 0600 if the file does not exist yet.
 */
export async function loadOrCreatePeerKey(path: string): Promise<PrivateKey> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(path, 'cannot read', err)
    const key = await generatePeerKey()
    await writePeerKey(path, key)
    return key
  }
  return parsePeerKey(bytes, path)
}

/** A fresh Ed25519 identity, in memory only. */
export function generatePeerKey(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/** Writes `key` to a new file of mode 0600; an existing file is never replaced. */
export async function writePeerKey(path: string, key: PrivateKey): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
    await chmod(path, 0o600)
  } catch (err) {
    throw unusable(path, 'cannot create', err)
  }
}

/** A key file the file system will not give or take (a directory, no permission, a full disk). */
function unusable(path: string, what: string, err: unknown) {
  const { code, message } = err as NodeJS.ErrnoException
  return p2pError(P2pErrorCode.INVALID_KEY_FILE, `${what} peer key file ${path}: ${code ?? message}`, { path, code })
}

export function parsePeerKey(bytes: Uint8Array, source = 'key'): PrivateKey {
  if (bytes.length > MAX_KEY_FILE_BYTES) {
    throw p2pError(P2pErrorCode.INVALID_KEY_FILE, `${source}: ${bytes.length} bytes is too large for a peer key`)
  }
  try {
    const key = privateKeyFromProtobuf(bytes)
    if (key.type !== 'Ed25519' && key.type !== 'secp256k1') throw new Error(`unsupported key type ${key.type}`)
    return key
  } catch (err) {
    throw p2pError(P2pErrorCode.INVALID_KEY_FILE, `${source} is not a libp2p private key: ${(err as Error).message}`)
  }
}
