/**
 * The `encoding` suite: 10,000 fuzzed shard sets from a badly-encoding or equivocating sequencer (test/fuzz/
 * encoding-cases.ts), each offered to every member's store service and decoded by several retrievers
 * (test/fuzz/encoding-fuzz.ts). One row per kind of case, held to the issue's pass figure: no signature on a shard
 * that fails its proof, and every retriever of a commitment reaching the same verdict — the blob's exact bytes, or
 * BadEncoding with evidence that verifies, also from its serialized bytes alone.
 */
import { type CategoryFigures, type EncodingFuzzSummary, fuzzEncoding } from '../../test/fuzz/encoding-fuzz.ts'
import type { SoakRow } from './row.ts'

/** Cases in the soak, over the four kinds in about equal parts. */
export const ENCODING_CASES = 10_000

const PASS =
  '0 signatures on shards that fail their proofs, sound stores signed, refused ones leave nothing stored; every retriever reaches the same verdict, BadEncoding with verifying evidence; 0 wrong bytes, crashes, hangs'

const codes = (table: Record<string, number>) =>
  Object.entries(table)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`)
    .join(', ')

function figure(name: string, f: CategoryFigures): string {
  const stores = `${f.stores} stores (${f.storesWithFailingShards} holding ${f.failingShards} shards that fail their proof, size or index): ${f.signed} signed, ${f.signedFailing} of them on failing shards, ${f.refused} refused${f.refused > 0 ? ` (${codes(f.codes)}), ${f.refusedClean} leaving nothing stored` : ''}`
  const headers = name === 'absurd-header' ? `; ${f.headersRefused} absurd headers refused by the retriever too` : ''
  const verdicts =
    f.commitments > 0
      ? `; ${f.retrievals} retrievals of ${f.commitments} commitments: ${f.decoded} blobs, ${f.badEncoding} BadEncoding (${codes(f.reasons)}), verdicts agree for ${f.agreed}/${f.commitments}, evidence verified ${f.evidenceVerified}/${f.badEncoding} (third party ${f.thirdPartyVerified}), ${f.wrongBytes} wrong bytes`
      : ''
  return `${f.cases} cases: ${stores}${headers}${verdicts}`
}

function sound(f: CategoryFigures): boolean {
  return (
    f.cases > 0 &&
    f.signedFailing === 0 &&
    f.refusedSound === 0 &&
    f.refusedClean === f.refused &&
    f.agreed === f.commitments &&
    f.evidenceVerified === f.badEncoding &&
    f.thirdPartyVerified === f.badEncoding &&
    f.wrongBytes === 0
  )
}

/** Runs the suite and returns its rows (a last one with the run's totals: time, crashes, hangs, the replay seed). */
export async function encodingRows(seed: number, note: (line: string) => void): Promise<SoakRow[]> {
  const started = performance.now()
  const summary: EncodingFuzzSummary = await fuzzEncoding({
    runs: ENCODING_CASES,
    seed,
    path: process.env['DACNET_FUZZ_PATH'],
    progressEvery: 1000,
    onProgress: (done) =>
      note(`encoding: ${done}/${ENCODING_CASES} cases, ${((performance.now() - started) / 1000).toFixed(0)} s`),
  })
  const clean = summary.failure === undefined && summary.crashes === 0 && summary.hangs === 0
  const rows: SoakRow[] = Object.entries(summary.byCategory).map(([name, f]) => ({
    suite: 'encoding',
    case: name,
    figure: figure(name, f),
    pass: PASS,
    ok: clean && sound(f),
    detail: { ...f },
  }))
  rows.push({
    suite: 'encoding',
    case: 'all fuzzed shard sets',
    figure: `${summary.cases} cases (seed ${summary.seed}) in ${summary.seconds} s, slowest ${summary.slowestMs.toFixed(0)} ms: ${summary.crashes} crashes, ${summary.hangs} hangs${summary.failure ? `; ${summary.failure}` : ''}`,
    pass: `>= ${ENCODING_CASES} cases, 0 crashes, 0 hangs, no property broken`,
    ok: clean && summary.cases >= ENCODING_CASES,
    detail: {
      seed: summary.seed,
      cases: summary.cases,
      seconds: summary.seconds,
      slowestMs: summary.slowestMs,
      failure: summary.failure,
    },
  })
  return rows
}
