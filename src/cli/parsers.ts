import { multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError } from 'commander'
import { formatBytes, parseSize } from './size.ts'

/**
 * Option parsers for commander: a bad value becomes commander's "option '--x <n>' argument 'y' is invalid"
 * usage error (exit code 2), naming the option.
 */
/** The longest time limit a command takes in seconds: a day (a timer holds at most ~24.8 days). */
export const MAX_TIMEOUT_SECONDS = 86_400

export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number, got "${value}"`)
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be in ${min}..${max}`)
    return n
  }
}

export function size(value: string): number {
  try {
    return parseSize(value)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** A size in `min..max` bytes; the bounds are named as sizes in the error. */
export function sizeIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const bytes = size(value)
    if (bytes < min || bytes > max) {
      throw new InvalidArgumentError(
        `must be from ${formatBytes(min)} to ${formatBytes(max)}, got ${formatBytes(bytes)}`,
      )
    }
    return bytes
  }
}

export function probability(value: string): number {
  const n = Number(value)
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number between 0 and 1, like 0.999999`)
  return n
}

export function url(value: string): string {
  try {
    const parsed = new URL(value)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http')
    return value.replace(/\/+$/, '')
  } catch {
    throw new InvalidArgumentError(`expected an http(s) URL like http://127.0.0.1:5380, got "${value}"`)
  }
}

/** Collects a repeatable option into a list (`--card a --card b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

export function multiaddrArg(value: string, previous: string[] | undefined): string[] {
  try {
    multiaddr(value)
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a multiaddr like /ip4/127.0.0.1/tcp/5381/p2p/12D3Koo...`)
  }
  return collect(value, previous)
}
