import { isIP } from 'node:net'

/** Prefix of requester keys from the HTTP API, apart from any other requester a node's reads count. */
const HTTP_PREFIX = 'http:'

/**
 * The key an HTTP client's reads are counted under: its IPv4 address, or the /64 of its IPv6 address (one
 * host is usually given a whole /64, and could otherwise take a fresh address for every request). IPv4-mapped
 * IPv6 addresses count as their IPv4 address. Behind a proxy every client has the proxy's address.
 */
export function requesterOf(address: string | undefined): string {
  if (address === undefined || address === '') return `${HTTP_PREFIX}unknown`
  const bare = address.split('%')[0]!
  const lower = bare.toLowerCase()
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return `${HTTP_PREFIX}${lower.slice(7)}`
  if (isIP(bare) !== 6) return `${HTTP_PREFIX}${bare}`
  const groups = ipv6Groups(lower)
  return groups === undefined ? `${HTTP_PREFIX}${lower}` : `${HTTP_PREFIX}${groups.slice(0, 4).join(':')}::/64`
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros; undefined if it does not parse. */
function ipv6Groups(address: string): string[] | undefined {
  let text = address
  // A trailing dotted quad (e.g. 64:ff9b::192.0.2.1) is the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad !== null) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const missing = 8 - left.length - right.length
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right]
  return groups.map((g) => Number.parseInt(g, 16).toString(16))
}
