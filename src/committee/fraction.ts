import { CommitteeErrorCode, committeeError } from './errors.ts'

/**
 * An exact non-negative fraction of total stake. Thresholds are compared in integers
 * (`part * den >= num * total`), never in floating point, so a stake exactly at the threshold counts.
 */
export interface Fraction {
  readonly num: bigint
  readonly den: bigint
}

/** Parses "2/3" or a decimal such as "0.75" exactly, reduced to lowest terms. */
export function parseFraction(text: string, field = 'fraction'): Fraction {
  const trimmed = text.trim()
  const ratio = /^(\d{1,30})\s*\/\s*(\d{1,30})$/.exec(trimmed)
  if (ratio) return fraction(BigInt(ratio[1]!), BigInt(ratio[2]!), field)
  const decimal = /^(\d{1,30})(?:\.(\d{1,30}))?$/.exec(trimmed)
  if (decimal) {
    const digits = decimal[2] ?? ''
    return fraction(BigInt(decimal[1]! + digits), 10n ** BigInt(digits.length), field)
  }
  throw committeeError(CommitteeErrorCode.INVALID_THRESHOLD, `${field} "${text}" is not a fraction like 2/3 or 0.75`, {
    field,
  })
}

/** A reduced fraction; the denominator must be positive. */
export function fraction(num: bigint, den: bigint, field = 'fraction'): Fraction {
  if (den <= 0n || num < 0n) {
    throw committeeError(
      CommitteeErrorCode.INVALID_THRESHOLD,
      `${field} ${num}/${den} is not a non-negative fraction`,
      {
        field,
      },
    )
  }
  const g = gcd(num, den)
  return { num: num / g, den: den / g }
}

export function formatFraction(f: Fraction): string {
  return `${f.num}/${f.den}`
}

/** True when `part / total >= f`, exactly. */
export function reaches(part: bigint, total: bigint, f: Fraction): boolean {
  return part * f.den >= f.num * total
}

/** a - b, which must not be negative. */
export function subtract(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den - b.num * a.den, a.den * b.den)
}

/** a < b, exactly. */
export function lessThan(a: Fraction, b: Fraction): boolean {
  return a.num * b.den < b.num * a.den
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a
  let y = b
  while (y !== 0n) [x, y] = [y, x % y]
  return x === 0n ? 1n : x
}
