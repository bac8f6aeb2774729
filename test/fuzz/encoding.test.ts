/**
 * A badly-encoding or equivocating sequencer, fuzzed (docs/SECURITY.md): `npm test` runs a seeded sample of cases
 * (the seed changes each day; a failure prints how to replay it with DACNET_FUZZ_SEED and DACNET_FUZZ_PATH), and
 * `npm run soak -- encoding` runs 10,000. Every member refuses each store holding a shard that fails its proof,
 * with its code, and signs every sound one; every retriever reaches the commitment's verdict with evidence that
 * verifies.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { signAttestation } from '../../src/attest/attestation.ts'
import { attestationContextOf } from '../../src/attest/message.ts'
import { decodeBlob } from '../../src/erasure/decode.ts'
import { decodeHeader } from '../../src/erasure/header.ts'
import { isDacnetError } from '../../src/errors.ts'
import {
  buildCase,
  type CasePlan,
  COMMITMENTS,
  type CommitmentStrategy,
  HEADER_ATTACKS,
  type MaliciousCase,
} from './encoding-cases.ts'
import {
  type CategoryFigures,
  type EncodingFuzzOptions,
  type EncodingFuzzSummary,
  fuzzEncoding,
} from './encoding-fuzz.ts'
import { type FuzzCommittee, fuzzCommittees, sequencerPeer } from './encoding-members.ts'

/** Cases in `npm test`. */
const RUNS = 300
const SEED = Number(process.env['DACNET_FUZZ_SEED'] ?? Math.floor(Date.now() / 86_400_000))

/** A count summed over the four kinds of case. */
type Count = { [K in keyof CategoryFigures]: CategoryFigures[K] extends number ? K : never }[keyof CategoryFigures]
const total = (s: EncodingFuzzSummary, key: Count) => Object.values(s.byCategory).reduce((n, f) => n + f[key], 0)

describe('a badly-encoding or equivocating sequencer', () => {
  it(`${RUNS} fuzzed shard sets: no signature on a shard that fails its proof, one verdict per commitment`, async () => {
    const summary = await fuzzEncoding({ runs: RUNS, seed: SEED, path: process.env['DACNET_FUZZ_PATH'] })
    expect(summary.failure, summary.failure).toBeUndefined()
    expect(summary.cases).toBe(RUNS)
    expect(summary.crashes + summary.hangs).toBe(0)
    const t = (key: Count) => total(summary, key)
    expect(t('signedFailing')).toBe(0)
    expect(t('refusedSound')).toBe(0)
    expect(t('refusedClean')).toBe(t('refused'))
    expect(t('wrongBytes')).toBe(0)
    expect(t('agreed')).toBe(t('commitments'))
    expect(t('thirdPartyVerified')).toBe(t('badEncoding'))
    // The sample reaches every decision: each category, refused stores, blobs and BadEncoding verdicts.
    for (const figures of Object.values(summary.byCategory)) expect(figures.cases).toBeGreaterThan(0)
    expect(t('storesWithFailingShards')).toBeGreaterThan(0)
    expect(t('decoded')).toBeGreaterThan(0)
    expect(t('badEncoding')).toBeGreaterThan(0)
    const absurd = summary.byCategory['absurd-header']
    expect(absurd.headersRefused).toBeGreaterThan(0)
    expect(Object.keys(absurd.codes).length).toBeGreaterThanOrEqual(4)
  })
})

describe('the generator', () => {
  let committees: FuzzCommittee[]
  beforeAll(async () => {
    committees = await fuzzCommittees(await sequencerPeer())
  })

  const plan = (over: Partial<CasePlan>): CasePlan => ({
    category: 'commitment',
    committee: 0,
    dataSize: 5000,
    zeroTail: false,
    commitment: 'honest',
    attack: '',
    seed: 7,
    ...over,
  })

  it('makes the commitment each strategy names, as the decoder sees it', () => {
    const expected: Partial<Record<CommitmentStrategy, string>> = {
      honest: 'ok',
      'codeword-data': 'ok',
      'codeword-padding': 'bad-encoding nonzero-padding',
    }
    for (const committee of committees.keys()) {
      for (const commitment of COMMITMENTS) {
        const c = buildCase(plan({ committee, commitment }), committees)
        const { verdict, commitment: rows } = c.main!
        const decoded = decodeBlob(rows.header, rows.shards)
        const seen = decoded.kind === 'ok' ? 'ok' : `bad-encoding ${decoded.reason}`
        const named = verdict.kind === 'ok' ? 'ok' : `bad-encoding ${verdict.reason}`
        expect(seen, `${commitment} at committee ${committee}`).toBe(named)
        // Another recovery count gives the same rows in low rate: that one may be a codeword.
        if (commitment !== 'other-rate') {
          expect(named, `${commitment} at committee ${committee}`).toBe(
            expected[commitment] ?? 'bad-encoding root-mismatch',
          )
        }
      }
    }
  })

  it('makes every absurd header one that members refuse, with the code of the check that catches it', () => {
    const codes = new Map<string, Set<string>>()
    for (const attack of HEADER_ATTACKS) {
      for (let seed = 0; seed < 20; seed++) {
        const c: MaliciousCase = buildCase(
          plan({ category: 'absurd-header', attack, seed, committee: seed % committees.length }),
          committees,
        )
        const set = codes.get(attack) ?? new Set()
        for (const d of c.deliveries) set.add(d.expect.sign ? 'sign' : d.expect.code)
        codes.set(attack, set)
      }
    }
    const only = (attack: string) => [...codes.get(attack)!]
    expect(only('version')).toEqual(['ERASURE_HEADER_UNKNOWN_VERSION'])
    expect(only('truncated')).toEqual(['ERASURE_HEADER_TRUNCATED'])
    for (const attack of [
      'k-zero',
      'k-equals-n',
      'k-above-n',
      'n-above-max',
      'shard-size',
      'data-size-u64',
      'extended',
      'epoch-u64',
    ]) {
      expect(only(attack), attack).toEqual(['ERASURE_HEADER_INVALID'])
    }
    for (const attack of ['k-max', 'n-max', 'data-size-above-max', 'network', 'shape']) {
      expect(only(attack), attack).toEqual(['NODE_HEADER_MISMATCH'])
    }
    expect(only('epoch')).toEqual(['NODE_STALE_EPOCH'])
    expect(only('shard-count')).toEqual(['NODE_WRONG_SHARDS'])
    // Huge sizes: a canonical u32 shard size still fits some (the member's size limit refuses them), not others.
    expect(new Set(only('data-size-huge'))).toEqual(new Set(['ERASURE_HEADER_INVALID', 'NODE_HEADER_MISMATCH']))
  })
})

describe('the harness', () => {
  const failing = { runs: 400, seed: 11 }

  it('catches a member that signs what it is sent, and the seed and path replay that case', async () => {
    // Decodes the header and signs with the member's own key: no count, index, size or proof check.
    const signsAnything: EncodingFuzzOptions['offer'] = async (_members, committee, member, headerBytes) => {
      try {
        const context = attestationContextOf(decodeHeader(headerBytes))
        return { signature: signAttestation(committee.members[member]!.secretKey, context).signature }
      } catch (err) {
        if (!isDacnetError(err)) throw err
        return { code: err.code, message: err.message }
      }
    }
    const summary = await fuzzEncoding({ ...failing, offer: signsAnything })
    expect(summary.failure).toMatch(
      /signed a store it must refuse[\s\S]*replay with seed 11 path "[\d:]+"[\s\S]*plan \{/,
    )
    const path = /path "([\d:]+)"/.exec(summary.failure!)![1]
    const replayed = await fuzzEncoding({ ...failing, path, offer: signsAnything })
    expect(replayed.cases).toBe(1)
    expect(replayed.failure).toMatch(/signed a store it must refuse/)
  })

  it('catches a decoder that returns wrong bytes', async () => {
    const summary = await fuzzEncoding({
      ...failing,
      decode: (header, shards) => {
        const result = decodeBlob(header, shards)
        if (result.kind === 'ok' && result.data.length > 0) result.data[result.data.length - 1]! ^= 1
        return result
      },
    })
    expect(summary.failure).toMatch(/wrong bytes/)
    expect(total(summary, 'wrongBytes')).toBe(1)
  })

  it('catches a retriever whose verdict is not what the rows show', async () => {
    let calls = 0
    const summary = await fuzzEncoding({
      ...failing,
      // Every other retriever gives up on the rows and calls them padded wrongly.
      decode: (header, shards) => {
        const result = decodeBlob(header, shards)
        if (result.kind === 'bad-encoding' && calls++ % 2 === 1) return { ...result, reason: 'nonzero-padding' }
        return result
      },
    })
    expect(summary.failure).toMatch(/BadEncoding for nonzero-padding, the rows show root-mismatch/)
  })
})
