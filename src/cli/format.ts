/** How results look for people; JSON output carries the raw numbers instead. */

import type { Committee } from '../committee/committee.ts'
import type { EncodingParams } from '../committee/params.ts'
import { DEFAULT_MAX_BLOB_SIZE } from '../erasure/params.ts'
import { formatBytes } from './size.ts'

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** `640/956 (66.9%)` */
export function formatStake(signed: bigint, total: bigint, decimals = 0): string {
  const pct = total === 0n ? 0 : Number((signed * 10_000n) / total) / 100
  return `${tokens(signed, decimals)}/${tokens(total, decimals)} (${pct.toFixed(1)}%)`
}

/** An amount of a token with `decimals` decimals, in whole tokens and as many decimals as it needs. */
export function tokens(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString()
  const unit = 10n ** BigInt(decimals)
  const fraction = (amount % unit).toString().padStart(decimals, '0').replace(/0+$/, '')
  return fraction === '' ? (amount / unit).toString() : `${amount / unit}.${fraction}`
}

/**
 * Confidence close to 1 is unreadable as a decimal: `1 - 3.2e-9` says how far from certain it is. Exactly 1
 * means the client itself saw k distinct shards.
 */
export function formatConfidence(confidence: number): string {
  if (confidence >= 1) return '1 (k shards seen)'
  if (confidence <= 0) return '0'
  const missing = 1 - confidence
  return missing < 1e-3 ? `1 - ${missing.toExponential(1)}` : confidence.toFixed(4)
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length)
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n')
}

/** A committee's blob shapes (PROTOCOL.md §2.3), from an empty blob to one of `maxBlobSize` bytes. */
export interface ShapeRange {
  /** The committee file's fixed n, when it sets one: then every blob has that n. */
  totalShards: number | null
  smallest: EncodingParams
  largest: EncodingParams
  maxBlobSize: number
}

export function shapeRange(committee: Committee, maxBlobSize = DEFAULT_MAX_BLOB_SIZE): ShapeRange {
  return {
    totalShards: committee.totalShards ?? null,
    smallest: committee.shapeFor(0),
    largest: committee.shapeFor(maxBlobSize),
    maxBlobSize,
  }
}

/** `k/n 2/16 (empty blob) to 10907/32768 (32.0 MiB)`, or `k/n 8/20 for every blob (totalShards)`. */
export function formatShapeRange(r: ShapeRange): string {
  if (r.totalShards !== null) return `k/n ${r.smallest.k}/${r.smallest.n} for every blob (totalShards)`
  return `k/n ${r.smallest.k}/${r.smallest.n} (empty blob) to ${r.largest.k}/${r.largest.n} (${formatBytes(r.maxBlobSize)})`
}
