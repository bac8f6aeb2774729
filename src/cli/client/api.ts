import { DacnetError } from '../../errors.ts'
import { CliErrorCode, cliError } from '../errors.ts'

/** Default base URL of a node's HTTP API (the node's api.host and api.port defaults). */
export const DEFAULT_API_URL = 'http://127.0.0.1:5380'
/** The API answers from memory and the local store; anything slower means trouble. */
const API_TIMEOUT_MS = 10_000

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
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw cliError(CliErrorCode.API_ERROR, `${url} answered ${response.status} with a body that is not JSON`, { url })
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } }).error
    if (typeof error?.code === 'string' && typeof error.message === 'string') {
      throw new DacnetError(error.code, `${error.message} (${url})`, { status: response.status })
    }
    throw cliError(CliErrorCode.API_ERROR, `${url} answered ${response.status}`, { url, status: response.status })
  }
  return body
}
