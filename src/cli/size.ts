import { usageError } from './errors.ts'

/**
 * Byte sizes as people type them: `1048576`, `512KiB`, `1MiB`, `1.5MB`, `2G`. IEC units (KiB, MiB, GiB,
 * TiB) and the single letters K, M, G, T are powers of 1024; SI units (KB, MB, GB, TB) are powers of 1000.
 */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
}

/** Parses a size into whole bytes; `what` names the option or field in the error. */
export function parseSize(text: string | number, what = 'size'): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text
    throw usageError(`${what} must be a whole number of bytes, got ${text}`)
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'invalid']
  if (!match || unit === undefined) {
    throw usageError(`${what} "${text}" is not a size like 1048576, 512KiB or 1MiB`)
  }
  const bytes = Math.round(Number(match[1]) * unit)
  if (!Number.isSafeInteger(bytes)) throw usageError(`${what} "${text}" is too large`)
  return bytes
}

/** A size for people: `1.0 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

/** A size as it reads best in a config file: `"100GiB"` when it is a whole number of a binary unit, else bytes. */
export function sizeText(bytes: number): string | number {
  const units: [string, number][] = [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ]
  for (const [name, unit] of units) if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${name}`
  return bytes
}
