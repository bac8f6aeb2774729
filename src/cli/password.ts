import { CliErrorCode, cliError } from './errors.ts'
import { readFileChecked } from './files.ts'
import type { CliIo } from './io.ts'

/** The environment variable a keystore password may come from (after --password-file, before a prompt). */
export const PASSWORD_ENV = 'DACNET_KEYSTORE_PASSWORD'
/** A password file is a line of text; anything larger is the wrong file. */
const MAX_PASSWORD_FILE_BYTES = 4096

export interface PasswordSource {
  /** --password-file, or the config's keystore.passwordFile. */
  file?: string | null | undefined
  /** Ask twice at a prompt (init, which sets the password) or once (node, which unlocks). */
  confirm?: boolean
}

/**
 * The keystore password, from the first source that has one: a password file (one trailing newline
 * ignored), $DACNET_KEYSTORE_PASSWORD, or a prompt on the terminal without echo. With none of them — a
 * service without a terminal — it fails with CLI_PASSWORD_REQUIRED rather than hang.
 */
export async function resolvePassword(io: CliIo, source: PasswordSource): Promise<string> {
  let password: string
  if (source.file) {
    password = (await readFileChecked(source.file, 'password file', MAX_PASSWORD_FILE_BYTES))
      .toString('utf8')
      .replace(/\r?\n$/, '')
    if (password.length === 0) throw cliError(CliErrorCode.PASSWORD_INVALID, `password file ${source.file} is empty`)
  } else if (io.env[PASSWORD_ENV] !== undefined) {
    password = io.env[PASSWORD_ENV]
    if (password.length === 0) throw cliError(CliErrorCode.PASSWORD_INVALID, `${PASSWORD_ENV} is set but empty`)
  } else if (io.tty) {
    password = await prompt(io, 'keystore password: ')
    if (password.length === 0) throw cliError(CliErrorCode.PASSWORD_INVALID, 'the password is empty')
    if (source.confirm && (await prompt(io, 'repeat the password: ')) !== password) {
      throw cliError(CliErrorCode.PASSWORD_INVALID, 'the two passwords differ')
    }
  } else {
    throw cliError(
      CliErrorCode.PASSWORD_REQUIRED,
      'no keystore password: no password file, no environment variable, no terminal',
    )
  }
  return password
}

/** Reads one line from the terminal in raw mode, echoing nothing; Ctrl-C or Ctrl-D aborts. */
function prompt(io: CliIo, question: string): Promise<string> {
  const tty = io.tty!
  io.err(question)
  return new Promise((resolve, reject) => {
    let line = ''
    const done = (err?: unknown) => {
      tty.off('data', onData)
      tty.setRawMode(false)
      tty.pause()
      io.err('\n')
      if (err) reject(err)
      else resolve(line)
    }
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done()
        if (char === '\u0003' || char === '\u0004') {
          return done(cliError(CliErrorCode.INTERRUPTED, 'password entry cancelled'))
        }
        if (char === '\u007f' || char === '\b') line = line.slice(0, -1)
        else line += char
      }
    }
    tty.setRawMode(true)
    tty.resume()
    tty.on('data', onData)
  })
}
