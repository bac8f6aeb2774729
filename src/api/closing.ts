import type { FastifyInstance } from 'fastify'

/** How long closing waits for responses under way before it cuts their connections. */
export const CLOSE_GRACE_MS = 5_000

/**
 * The close of an HTTP server whose requests may run for minutes (a dispersal, a put): fastify's close waits for
 * the requests under way, so `closing` is aborted first to end them, and whatever connection is still open after
 * CLOSE_GRACE_MS (a slow upload, a client that never reads) is cut. Each call after the first returns the same
 * promise; `onClosed` runs once the server is closed.
 */
export function gracefulClose(
  app: FastifyInstance,
  closing: AbortController,
  onClosed: () => void,
): () => Promise<void> {
  let closed: Promise<void> | undefined
  return () => {
    if (closed !== undefined) return closed
    closing.abort()
    const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS)
    closed = app.close().finally(() => {
      clearTimeout(cut)
      onClosed()
    })
    return closed
  }
}
