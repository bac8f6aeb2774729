import type { IncomingMessage } from 'node:http'
import { DacnetError } from '../errors.ts'
import { NodeErrorCode } from '../node/errors.ts'
import { ApiErrorCode, httpStatusOf } from './errors.ts'
import { validationErrorCode } from './openapi/routes.ts'
import type { RouteSchema } from './openapi/types.ts'

/** Messages are cut to this many characters: enough to act on, never a dump of a peer's reply. */
const MAX_MESSAGE_CHARS = 1024
/** Seconds a client is told to wait when every read slot of the node stayed taken (NODE_BUSY). */
export const READ_BUSY_RETRY_AFTER_SECONDS = 1

/** Fastify's own errors that a client causes, as API codes. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ApiErrorCode.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_HANDLER_TIMEOUT: ApiErrorCode.TIMEOUT,
}

export interface ErrorReply {
  status: number
  code: string
  message: string
  /** True when the cause is ours, not the client's: worth a line in the node's log. */
  serverSide: boolean
  /** For the Retry-After header: a refusal that the same request may get past after this many seconds. */
  retryAfterSeconds?: number
}

/** What fastify's schema validation reports (FST_ERR_VALIDATION). */
interface ValidationFailure {
  validation: { instancePath?: string; params?: { missingProperty?: string } }[]
  validationContext?: string
}

/**
 * What any thrown value becomes on the wire. dacnet errors keep their code; a value the route's schema refused gets
 * the code its schema names (e.g. ERASURE_INVALID_BLOB_ID for a path's blob id); fastify's other client-side errors
 * get API codes; a connection reset while the client's own connection is gone (`clientGone`, clientGoneOf) is the
 * client hanging up; anything else is API_INTERNAL with a generic message (the details go to the log only).
 */
export function describeError(err: unknown, routeSchema?: RouteSchema, clientGone = false): ErrorReply {
  if (err instanceof DacnetError) {
    const status = httpStatusOf(err.code)
    const reply: ErrorReply = { status, code: err.code, message: truncate(err.message), serverSide: status >= 500 }
    const retryAfterSeconds = retryAfterOf(err)
    if (retryAfterSeconds !== undefined) reply.retryAfterSeconds = retryAfterSeconds
    // A node at its read capacity is working as designed: the refusal is not a failure worth a warning.
    if (err.code === NodeErrorCode.BUSY) reply.serverSide = false
    return reply
  }
  const fastifyCode = (err as { code?: unknown })?.code
  const statusCode = (err as { statusCode?: unknown })?.statusCode
  const validation = (err as Partial<ValidationFailure>)?.validation
  if (Array.isArray(validation) && validation.length > 0) {
    const part = (err as ValidationFailure).validationContext ?? ''
    const first = validation[0]!
    const name = first.params?.missingProperty ?? first.instancePath?.split('/')[1] ?? ''
    const code = validationErrorCode(routeSchema, part, name.replace(/~1/g, '/').replace(/~0/g, '~'))
    return { status: httpStatusOf(code), code, message: truncate((err as Error).message), serverSide: false }
  }
  if (typeof fastifyCode === 'string' && fastifyCode.startsWith('FST_')) {
    const code = FASTIFY_CODES[fastifyCode]
    if (code !== undefined) {
      return { status: httpStatusOf(code), code, message: truncate((err as Error).message), serverSide: false }
    }
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return {
        status: statusCode,
        code: ApiErrorCode.BAD_REQUEST,
        message: truncate((err as Error).message),
        serverSide: false,
      }
    }
  }
  if (clientGone && clientHungUp(err)) {
    // The client closed its connection while its request was read (an upload cut short): nothing failed here, and
    // no answer will reach it.
    return {
      status: 400,
      code: ApiErrorCode.BAD_REQUEST,
      message: 'the client closed the connection before its request was read',
      serverSide: false,
    }
  }
  return { status: 500, code: ApiErrorCode.INTERNAL, message: 'internal error; see the node log', serverSide: true }
}

/**
 * Whether the client's own connection is gone (`request.raw`): only then is a connection reset the client's doing.
 * A reset of a connection the handler opened itself (a chain RPC, a member) is a failure here, worth its warning.
 */
export function clientGoneOf(raw: IncomingMessage): boolean {
  return raw.readableAborted || raw.socket?.destroyed === true
}

/** Node's error for a request body whose connection the client closed before the end ('aborted', ECONNRESET). */
function clientHungUp(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown }
  return code === 'ECONNRESET' || (err instanceof Error && message === 'aborted')
}

/** Whole seconds until a rate-limited or busy read may succeed; undefined for other errors. */
function retryAfterOf(err: DacnetError): number | undefined {
  if (err.code === NodeErrorCode.BUSY) return READ_BUSY_RETRY_AFTER_SECONDS
  if (err.code !== NodeErrorCode.RATE_LIMITED) return undefined
  const ms = err.meta['retryAfterMs']
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1
}

function truncate(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message
}
