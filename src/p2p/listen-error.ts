import { DacnetError } from '../errors.ts'
import { P2pErrorCode, p2pError } from './errors.ts'

/** One listen address libp2p could not take, and why (`EADDRINUSE`, `EADDRNOTAVAIL`, or libp2p's words). */
export interface ListenFailure {
  address: string
  reason: string
}

/**
 * libp2p's refusal to start because it could not listen (UnsupportedListenAddressesError, whose message lists each
 * address with its socket error) as P2P_LISTEN_FAILED naming the addresses and reasons; undefined for anything else.
 */
export function listenError(err: unknown): DacnetError | undefined {
  if (err instanceof DacnetError || (err as { name?: unknown })?.name !== 'UnsupportedListenAddressesError') {
    return undefined
  }
  const failures = listenFailures(String((err as Error).message))
  const what =
    failures.length === 0
      ? 'the configured listen addresses'
      : failures.map((f) => `${f.address} (${f.reason})`).join(', ')
  return p2pError(P2pErrorCode.LISTEN_FAILED, `cannot listen on ${what}`, {
    addresses: failures.map((f) => f.address),
    reasons: failures.map((f) => f.reason),
  })
}

/** The `  /ip4/…/tcp/N: Error: listen EADDRINUSE: address already in use …` lines of libp2p's message. */
export function listenFailures(message: string): ListenFailure[] {
  const failures: ListenFailure[] = []
  for (const line of message.split('\n')) {
    const match = /^\s*(\/\S+?):\s*(?:\w*Error:\s*)?(.*)$/.exec(line)
    if (!match) continue
    const detail = match[2]!.trim()
    const errno = /\b(E[A-Z]{3,})\b/.exec(detail)?.[1]
    const words = /:\s*([a-z][a-z ]+[a-z])/.exec(detail)?.[1]
    failures.push({
      address: match[1]!,
      reason: errno ? `${errno}${words ? `: ${words}` : ''}` : detail,
    })
  }
  return failures
}
