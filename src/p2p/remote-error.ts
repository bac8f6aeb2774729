import { DacnetError } from '../errors.ts'
import { sanitizeCode } from './wire.ts'

/**
 * A refusal reported by the remote peer, carrying the remote's own code (e.g. STORAGE_QUOTA_EXCEEDED) so a
 * caller can act on it exactly as on a local error; `meta.remote` marks where it came from.
 */
export function remoteError(code: string, message: string, peer: string): DacnetError {
  return new DacnetError(sanitizeCode(code), `${peer} refused: ${message}`, { remote: true, peer })
}
