import { open } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import type { PrivateKeyAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { CliErrorCode, cliError } from '../errors.ts'
import type { CliIo } from '../io.ts'
import { ETH_KEY_ENV } from './options.ts'

/** A key file is one line of 66 characters at most; anything larger is the wrong file. */
const MAX_ETH_KEY_FILE_BYTES = 1024
/** Permission bits for the group and for others: a key file with any of them set is refused. */
const GROUP_OR_OTHER_BITS = 0o077
const KEY_PATTERN = /^(0x)?[0-9a-fA-F]{64}$/

/**
 * The account that signs transactions: from --eth-key-file (first) or $DACNET_ETH_KEY. A key is never taken as a
 * flag value, where it would show in `ps` and in shell history. A key file that its group or others can read is
 * refused, as ssh refuses such a private key. No message ever quotes the key.
 */
export async function loadEthAccount(io: CliIo, keyFile: string | undefined): Promise<PrivateKeyAccount> {
  if (keyFile !== undefined) {
    const path = resolve(io.cwd, keyFile)
    return accountFrom(await readKeyFile(path, keyFile), `key file ${path}`)
  }
  const fromEnv = io.env[ETH_KEY_ENV]
  if (fromEnv !== undefined) return accountFrom(fromEnv, `$${ETH_KEY_ENV}`)
  throw cliError(CliErrorCode.ETH_KEY_REQUIRED, `this command signs transactions: it needs an Ethereum private key`)
}

/** Whether an Ethereum key was given at all (for commands where it is optional, like `chain status`). */
export function ethKeyGiven(io: CliIo, keyFile: string | undefined): boolean {
  return keyFile !== undefined || io.env[ETH_KEY_ENV] !== undefined
}

async function readKeyFile(path: string, given: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw cliError(CliErrorCode.READ_FAILED, `cannot read key file ${path}: ${(err as Error).message}`, { path })
    }
    // Someone put the key itself where the file name goes: say so, without repeating it.
    if (KEY_PATTERN.test(basename(given.trim()))) {
      throw cliError(
        CliErrorCode.USAGE,
        '--eth-key-file takes the path of a file holding the key, and this looks like a key itself; keys are never taken on the command line (they would show in ps and in shell history)',
        { hint: `write the key to a file readable only by you (chmod 600) and pass its path, or set ${ETH_KEY_ENV}` },
      )
    }
    throw cliError(CliErrorCode.FILE_NOT_FOUND, `key file ${path} does not exist`, { path })
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw cliError(CliErrorCode.READ_FAILED, `key file ${path} is not a file`, { path })
    // Windows has no such mode bits; its ACLs are out of reach here.
    if (process.platform !== 'win32' && (info.mode & GROUP_OR_OTHER_BITS) !== 0) {
      throw cliError(
        CliErrorCode.ETH_KEY_EXPOSED,
        `key file ${path} has mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}: others than its owner can read it`,
        { path, hint: `chmod 600 ${path}` },
      )
    }
    if (info.size > MAX_ETH_KEY_FILE_BYTES) {
      throw cliError(CliErrorCode.ETH_KEY_INVALID, `key file ${path} has ${info.size} bytes: not a private key`, {
        path,
      })
    }
    return (await handle.readFile()).toString('utf8')
  } finally {
    await handle.close()
  }
}

function accountFrom(text: string, source: string): PrivateKeyAccount {
  // One line: a single trailing newline (and surrounding blanks) is what editors and `echo` leave.
  const line = text.replace(/\r?\n$/, '').trim()
  if (!KEY_PATTERN.test(line)) {
    throw cliError(
      CliErrorCode.ETH_KEY_INVALID,
      `${source} does not hold an Ethereum private key (one line of 64 hex digits, 0x optional)`,
    )
  }
  try {
    return privateKeyToAccount(line.startsWith('0x') ? (line as `0x${string}`) : `0x${line}`)
  } catch {
    // Zero, or not below the secp256k1 group order.
    throw cliError(CliErrorCode.ETH_KEY_INVALID, `${source} holds a number that is not a valid secp256k1 private key`)
  }
}
