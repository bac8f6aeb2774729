import { isIP } from 'node:net'

/**
 * The Host check (DNS rebinding defence). A web page on `evil.example` whose name the attacker re-points at
 * 127.0.0.1 makes the victim's browser call this API with `Host: evil.example`; answering only the names the
 * operator expects stops it. Only the name is compared, never the port: rebinding changes the name, and a
 * proxy in front of the API presents its own port (or none).
 *
 * Always allowed: loopback names and addresses (`localhost`, `127.0.0.0/8`, `[::1]`: no attacker can point
 * those elsewhere in a victim's browser) and the configured bind address when it is a specific one. A
 * wildcard bind (`0.0.0.0`, `::`) adds nothing: clients from elsewhere are answered only for the names listed
 * in `allowedHosts`.
 */

/** Extra names by default: none. A wildcard bind needs the operator to list the names clients use. */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = []
/** The loopback names always allowed, in the form a Host header carries them (IPv6 in brackets). */
export const LOOPBACK_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]']
/** An `allowedHosts` entry that turns the check off: only behind a proxy that checks Host itself. */
export const ANY_HOST = '*'

/** True for a bind address that listens on every interface. */
export function isWildcardHost(host: string): boolean {
  const bare = unbracket(host)
  return bare === '0.0.0.0' || bare === '::' || /^(0{1,4}:){7}0{1,4}$/.test(bare)
}

/**
 * A host name or IP in the form it is compared in: lower case, without a trailing dot, IPv6 in brackets and
 * compressed as Node prints it. Undefined when it is neither a DNS name nor an IP address (a port, a path,
 * spaces and the like are not part of a name).
 */
export function canonicalHostName(name: string): string | undefined {
  const bare = unbracket(name)
  if (isIP(bare) === 6) {
    try {
      return new URL(`http://[${bare}]/`).hostname
    } catch {
      return undefined
    }
  }
  if (name.startsWith('[')) return undefined
  const lower = name.toLowerCase().replace(/\.$/, '')
  if (isIP(lower) === 4) return lower
  // Letters, digits, hyphens and underscores (container names) in dot-separated labels of up to 63 characters.
  if (lower.length === 0 || lower.length > 253) return undefined
  return lower.split('.').every((label) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) ? lower : undefined
}

/** The name part of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), canonical; undefined if malformed. */
export function hostHeaderName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim())
  if (match === null) return undefined
  if (match[2] !== undefined && Number(match[2]) > 65535) return undefined
  return canonicalHostName(match[1]!)
}

/** True for names only this machine can reach: `localhost` and loopback addresses (v4-mapped included). */
function isLoopbackName(canonical: string): boolean {
  if (canonical === 'localhost') return true
  const bare = unbracket(canonical)
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare
  if (isIP(v4) === 4) return v4.startsWith('127.')
  return bare === '::1'
}

/**
 * The names a request's Host may carry: loopback always, the bind address when it is a specific one, and
 * `allowedHosts`. Entries must already be valid (see `invalidAllowedHost`).
 */
export function hostChecker(
  bindHost: string,
  allowedHosts: readonly string[],
): (header: string | undefined) => boolean {
  if (allowedHosts.includes(ANY_HOST)) return () => true
  const allowed = new Set<string>()
  for (const entry of allowedHosts) {
    const name = canonicalHostName(entry)
    if (name !== undefined) allowed.add(name)
  }
  const bind = canonicalHostName(bindHost)
  if (bind !== undefined && !isWildcardHost(bindHost)) allowed.add(bind)
  return (header) => {
    const name = hostHeaderName(header)
    return name !== undefined && (isLoopbackName(name) || allowed.has(name))
  }
}

/** Why an `allowedHosts` entry is refused, or undefined when it is fine. */
export function invalidAllowedHost(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return 'must be a string'
  if (entry === ANY_HOST) return undefined
  if (/:\d+$/.test(entry) && isIP(entry) !== 6) return 'names a port: only the name is compared, so leave the port out'
  return canonicalHostName(entry) === undefined ? 'is not a host name or IP address' : undefined
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}
