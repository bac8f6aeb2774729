/**
 * The one base class for every error dacnet throws on purpose.
 *
 * An error carries a stable string `code` (tests and callers match on it, never on the message) and plain
 * metadata. `toObject()` / `DacnetError.fromObject()` carry it across worker threads and wire messages, where
 * `structuredClone` would keep only `message` and `stack`.
 */
export type ErrorMeta = Record<string, unknown>

export class DacnetError<C extends string = string> extends Error {
  readonly code: C
  readonly meta: ErrorMeta

  constructor(code: C, message: string, meta: ErrorMeta = {}, options?: ErrorOptions) {
    super(message, options)
    this.name = 'DacnetError'
    this.code = code
    this.meta = meta
  }

  toObject(): SerializedError {
    return { code: this.code, message: this.message, meta: this.meta }
  }

  static fromObject(obj: SerializedError): DacnetError {
    return new DacnetError(obj.code, obj.message, obj.meta)
  }
}

export interface SerializedError {
  code: string
  message: string
  meta: ErrorMeta
}

/** True when `err` is a DacnetError, optionally with one of the given codes. */
export function isDacnetError(err: unknown, ...codes: string[]): err is DacnetError {
  return err instanceof DacnetError && (codes.length === 0 || codes.includes(err.code))
}
