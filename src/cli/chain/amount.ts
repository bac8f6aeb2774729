import { InvalidArgumentError } from 'commander'
import { usageError } from '../errors.ts'
import { tokens } from '../format.ts'

/**
 * A token amount as typed: whole tokens (`32`, `0.5`: scaled by the token's decimals) or exact units with the
 * suffix `wei` (`32000000000000000000wei`: the token's smallest unit, whatever its decimals).
 */
export type Amount =
  | { readonly kind: 'tokens'; readonly text: string; readonly whole: bigint; readonly fraction: string }
  | { readonly kind: 'units'; readonly text: string; readonly units: bigint }

/** The suffix of an amount in the token's smallest unit. */
export const UNITS_SUFFIX = 'wei'
/** A u256 holds at most 78 decimal digits: a longer number is no amount. */
const MAX_DIGITS = 78

/** commander option and argument parser: a malformed amount is a usage error naming the option. */
export function amountArg(value: string): Amount {
  const text = value.trim()
  const units = new RegExp(`^(\\d{1,${MAX_DIGITS}})${UNITS_SUFFIX}$`).exec(text)
  if (units) return { kind: 'units', text, units: BigInt(units[1]!) }
  const tokens = new RegExp(`^(\\d{1,${MAX_DIGITS}})(?:\\.(\\d{1,${MAX_DIGITS}}))?$`).exec(text)
  if (tokens) return { kind: 'tokens', text, whole: BigInt(tokens[1]!), fraction: tokens[2] ?? '' }
  throw new InvalidArgumentError(
    `expected whole tokens like 32 or 0.5, or exact units like 32000000000000000000${UNITS_SUFFIX}, got "${value}"`,
  )
}

/** The amount in the token's smallest unit; more fractional digits than the token has is an error, not rounding. */
export function toUnits(amount: Amount, decimals: number): bigint {
  if (amount.kind === 'units') return amount.units
  const fraction = amount.fraction.replace(/0+$/, '')
  if (fraction.length > decimals) {
    // Known only once the token's decimals are read, after commander: a usage error all the same.
    throw usageError(
      `amount ${amount.text} has more decimal places than the token's ${decimals}; give exact units with the ${UNITS_SUFFIX} suffix`,
    )
  }
  return amount.whole * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0')
}

/** `32 DACS`, `0.5 DACS`, `1.000000000000000001 DACS`: exact, without trailing zeros. */
export function formatAmount(units: bigint, decimals: number, symbol: string): string {
  return `${tokens(units, decimals)}${symbol ? ` ${symbol}` : ''}`
}
