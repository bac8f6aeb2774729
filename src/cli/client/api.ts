import { DacnetError } from '../../errors.ts'
import { readAtMost } from '../../http-body.ts'
import { CliErrorCode, cliError } from '../errors.ts'

/** Default base URL of a node's HTTP API (the node's api.host and api.port defaults). */
export const DEFAULT_API_URL = 'http://127.0.0.1:5380'
/** The API answers from memory and the local store; anything slower means trouble. */
const API_TIMEOUT_MS = 10_000
/** The largest answer read: a status or a blob view is a few KiB. */
export const MAX_API_ANSWER_BYTES = 1024 * 1024
/** A remote error's message as printed: at most this long, control characters replaced. */
const MAX_REMOTE_MESSAGE = 512

/**
 * GET a JSON document from a node's API. An error answer with a dacnet error body keeps its code
 * (e.g. API_BLOB_NOT_FOUND); a connection failure is CLI_API_UNREACHABLE.
 */
export async function getJson(base: string, path: string): Promise<unknown> {
  const url = `${base}${path}`
  let response: Response
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
      headers: { accept: 'application/json' },
    })
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string } }).cause
    const cause = inner?.code ?? inner?.message ?? (err as Error).message
    throw cliError(CliErrorCode.API_UNREACHABLE, `cannot reach the node API at ${base}: ${cause}`, { url })
  }
  const text = await readAtMost(response, MAX_API_ANSWER_BYTES).catch((err: unknown) => {
    throw cliError(CliErrorCode.API_UNREACHABLE, `reading the answer of ${url} failed: ${(err as Error).message}`, {
      url,
    })
  })
  if (text === undefined) {
    throw cliError(CliErrorCode.API_ERROR, `${url} answered more than ${MAX_API_ANSWER_BYTES} bytes`, { url })
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw cliError(CliErrorCode.API_ERROR, `${url} answered ${response.status} with a body that is not JSON`, { url })
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw cliError(CliErrorCode.API_ERROR, `${url} answered ${response.status} with JSON that is not an object`, {
      url,
    })
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } }).error
    if (
      typeof error?.code === 'string' &&
      /^[A-Z][A-Z0-9_]{0,63}$/.test(error.code) &&
      typeof error.message === 'string'
    ) {
      throw new DacnetError(error.code, `${printable(error.message)} (${url})`, { status: response.status })
    }
    throw cliError(CliErrorCode.API_ERROR, `${url} answered ${response.status}`, { url, status: response.status })
  }
  return body
}

/** Text from another process as a terminal may show it: control characters (escape sequences) replaced, cut short. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
  return clean.length > MAX_REMOTE_MESSAGE ? `${clean.slice(0, MAX_REMOTE_MESSAGE)}…` : clean
}
